"""NemoClient against the emulator: tokens, attribution, retries, secrecy."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import anyio
import httpx
import pytest

import nemovideo
from nemovideo import (
    APIConnectionError,
    AuthenticationError,
    Credits,
    ProtocolError,
    RateLimitError,
    ServerError,
)
from nemovideo._auth import TokenStore
from nemovideo.emulator import Emulator

from .conftest import requests_to, twin

pytestmark = pytest.mark.anyio

DAY = 24 * 3600.0


def saved_token(config_dir: Path, api_url: str) -> str:
    token = TokenStore(config_dir, api_url).load()
    assert token is not None
    return token.token.get()


async def test_balance_with_an_anonymous_token(nemo: nemovideo.NemoClient, nemo_emulator: Emulator) -> None:
    assert await nemo.credits.balance() == Credits(available=100, frozen=0, total=100)
    [token_request] = [e for e in nemo_emulator.log if e.endpoint == "anonymous_token"]
    assert token_request.headers["x-client-id"]
    assert not token_request.has_authorization


async def test_hundred_concurrent_first_calls_fetch_one_token(
    nemo: nemovideo.NemoClient, nemo_emulator: Emulator
) -> None:
    results: list[Credits] = []

    async def call() -> None:
        results.append(await nemo.credits.balance())

    async with anyio.create_task_group() as tg:
        for _ in range(100):
            tg.start_soon(call)
    assert len(results) == 100
    assert requests_to(nemo_emulator, "anonymous_token") == 1
    assert requests_to(nemo_emulator, "credits") == 100


async def test_every_request_is_attributed_and_no_url_carries_the_token(
    nemo: nemovideo.NemoClient, nemo_emulator: Emulator, tmp_path: Path
) -> None:
    await nemo.credits.balance()
    session = await nemo.sessions.create(language="en")
    await session.state()
    token = saved_token(tmp_path / "nemo", nemo_emulator.url)
    entries = [e for e in nemo_emulator.log if e.origin == "api"]
    assert len(entries) == 4
    for entry in entries:
        assert entry.headers["x-skill-source"] == "generator-video"
        assert entry.headers["x-skill-version"] == nemovideo.__version__
        assert entry.headers["x-skill-platform"] == "unknown"
        assert token not in entry.path + "?" + entry.query
        assert token not in str(entry.headers)


async def test_token_file_is_private_and_reused(nemo_emulator: Emulator, tmp_path: Path) -> None:
    config_dir = tmp_path / "shared-config"
    async with nemovideo.NemoClient(api_url=nemo_emulator.url, config_dir=config_dir) as first:
        await first.credits.balance()
    token_file = config_dir / "tokens.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700
    async with nemovideo.NemoClient(api_url=nemo_emulator.url, config_dir=config_dir) as second:
        await second.credits.balance()
    assert requests_to(nemo_emulator, "anonymous_token") == 1


async def test_expired_token_is_refreshed_once(
    nemo: nemovideo.NemoClient, nemo_emulator: Emulator, tmp_path: Path
) -> None:
    await nemo.credits.balance()
    old = saved_token(tmp_path / "nemo", nemo_emulator.url)
    nemo_emulator.clock.advance(8 * DAY)
    credits = await nemo.credits.balance()
    assert credits.available == 100
    assert requests_to(nemo_emulator, "anonymous_token") == 2
    assert requests_to(nemo_emulator, "credits") == 3  # ok, refused (1001), repeated once
    assert saved_token(tmp_path / "nemo", nemo_emulator.url) != old


async def test_token_revoked_mid_session_is_replaced(
    nemo: nemovideo.NemoClient, nemo_emulator: Emulator
) -> None:
    await nemo.credits.balance()
    nemo_emulator.faults.add("credits", "expire_token")
    assert (await nemo.credits.balance()).available == 100
    assert requests_to(nemo_emulator, "anonymous_token") == 2


@pytest.mark.parametrize("transport", ["json", "http"])
async def test_a_token_the_user_gave_is_never_replaced(nemo_emulator: Emulator, transport: str) -> None:
    nemo_emulator.configure(error_transport=transport)
    async with nemovideo.NemoClient(api_url=nemo_emulator.url, token="nmv_usr_not-a-real-one") as nemo:
        with pytest.raises(AuthenticationError) as info:
            await nemo.credits.balance()
    assert info.value.code == 1001
    assert "NemoClient(token=...)" in str(info.value)
    assert "not-a-real-one" not in str(info.value)
    assert requests_to(nemo_emulator, "anonymous_token") == 0
    assert requests_to(nemo_emulator, "credits") == 1


async def test_environment_token_error_names_the_variable(
    nemo_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEMO_TOKEN", "nmv_usr_stale")
    monkeypatch.setenv("NEMO_API_URL", nemo_emulator.url)
    async with nemovideo.NemoClient() as nemo:
        with pytest.raises(AuthenticationError, match="NEMO_TOKEN"):
            await nemo.credits.balance()


async def test_5xx_burst_on_a_get_is_retried_with_backoff(
    either: nemovideo.NemoClient, nemo_emulator: Emulator, waits: list[float], api: str
) -> None:
    nemo_emulator.faults.add(twin(api, "credits"), "status", count=2, status=503)
    assert (await either.credits.balance()).available == 100
    assert requests_to(nemo_emulator, "credits") == 3
    assert len(waits) == 2
    assert 0 <= waits[0] <= 0.5
    assert 0 <= waits[1] <= 1.0


async def test_retries_stop_after_max_retries(
    either: nemovideo.NemoClient, nemo_emulator: Emulator, waits: list[float], api: str
) -> None:
    nemo_emulator.faults.add(twin(api, "credits"), "status", count=10, status=502)
    with pytest.raises(ServerError) as info:
        await either.credits.balance()
    assert info.value.http_status == 502
    assert requests_to(nemo_emulator, "credits") == 3
    impatient = either.with_options(max_retries=0)
    with pytest.raises(ServerError):
        await impatient.credits.balance()
    assert requests_to(nemo_emulator, "credits") == 4


async def test_5xx_on_create_session_is_not_repeated(
    either: nemovideo.NemoClient, nemo_emulator: Emulator, waits: list[float], api: str
) -> None:
    """A POST that reached the server may have created a session: it is not sent twice."""
    await either.credits.balance()
    nemo_emulator.faults.add(twin(api, "create_session"), "status", status=500)
    with pytest.raises(ServerError):
        await either.sessions.create()
    assert requests_to(nemo_emulator, "create_session") == 1
    assert waits == []


async def test_rate_limit_waits_retry_after_once(
    either: nemovideo.NemoClient, nemo_emulator: Emulator, waits: list[float], api: str
) -> None:
    nemo_emulator.faults.add(twin(api, "credits"), "rate_limit", retry_after=7)
    assert (await either.credits.balance()).available == 100
    assert waits == [7.0]
    nemo_emulator.faults.add(twin(api, "credits"), "rate_limit", count=2, retry_after=3)
    with pytest.raises(RateLimitError) as info:
        await either.credits.balance()
    assert info.value.retry_after == 3
    assert requests_to(nemo_emulator, "credits") == 4  # 2 + 2: one retry each time


async def test_token_endpoint_rate_limit_is_retried_once(
    nemo_emulator: Emulator, tmp_path: Path, waits: list[float]
) -> None:
    """One token per client id per 7 days: a second machine with the same id is refused."""
    async with nemovideo.NemoClient(
        api_url=nemo_emulator.url, client_id="c1", config_dir=tmp_path / "a"
    ) as a:
        await a.credits.balance()
    async with nemovideo.NemoClient(
        api_url=nemo_emulator.url, client_id="c1", config_dir=tmp_path / "b"
    ) as b:
        with pytest.raises(RateLimitError) as info:
            await b.credits.balance()
    assert "7 days" in str(info.value) or info.value.retry_after is not None
    assert requests_to(nemo_emulator, "anonymous_token") == 3  # one for a, two for b
    assert waits == [30.0]


async def test_connection_dropped_before_headers_is_retried_for_a_get(
    either: nemovideo.NemoClient, nemo_emulator: Emulator, waits: list[float], api: str
) -> None:
    await either.credits.balance()
    nemo_emulator.faults.add(twin(api, "credits"), "drop_before_headers")
    assert (await either.credits.balance()).available == 100
    assert requests_to(nemo_emulator, "credits") == 3


async def test_connection_dropped_on_a_post_is_not_repeated(
    either: nemovideo.NemoClient, nemo_emulator: Emulator, waits: list[float], api: str
) -> None:
    await either.credits.balance()
    nemo_emulator.faults.add(twin(api, "create_session"), "drop_before_headers")
    with pytest.raises(APIConnectionError) as info:
        await either.sessions.create()
    assert info.value.sent
    assert requests_to(nemo_emulator, "create_session") == 1


async def test_malformed_json_is_a_protocol_error(
    either: nemovideo.NemoClient, nemo_emulator: Emulator, api: str
) -> None:
    await either.credits.balance()
    nemo_emulator.faults.add(twin(api, "credits"), "malformed_json")
    with pytest.raises(
        ProtocolError, match="/api/credits/balance/simple" if api == "skill" else "/billing/balance"
    ):
        await either.credits.balance()


async def test_unreachable_server_is_a_connection_error(tmp_path: Path, waits: list[float]) -> None:
    async with nemovideo.NemoClient(api_url="http://127.0.0.1:9", config_dir=tmp_path) as nemo:
        with pytest.raises(APIConnectionError) as info:
            await nemo.credits.balance()
    assert not info.value.sent
    assert len(waits) == 2  # never sent, so safe to retry


async def test_no_token_in_logs_reprs_or_errors(
    nemo_emulator: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture, waits: list[float]
) -> None:
    caplog.set_level(logging.DEBUG)
    async with nemovideo.NemoClient(api_url=nemo_emulator.url, config_dir=tmp_path / "c") as nemo:
        await nemo.credits.balance()
        nemo_emulator.clock.advance(8 * DAY)
        await nemo.credits.balance()
        nemo_emulator.faults.add("credits", "status", count=5, status=503)
        with pytest.raises(ServerError) as info:
            await nemo.credits.balance()
        token = saved_token(tmp_path / "c", nemo_emulator.url)
        texts = [caplog.text, repr(nemo), str(info.value), repr(info.value), repr(nemo.config)]
    assert "retrying GET /api/credits/balance/simple" in caplog.text
    assert "GET /api/credits/balance/simple -> 503" in caplog.text
    assert "(attempt 3)" in caplog.text
    for text in texts:
        assert token not in text
        assert "nmv_usr_" not in text


async def test_own_http_client_is_used_and_left_open(nemo_emulator: Emulator, tmp_path: Path) -> None:
    seen: list[str] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(request.url.path)

    async with httpx.AsyncClient(event_hooks={"request": [hook]}) as http:
        async with nemovideo.NemoClient(
            api_url=nemo_emulator.url, config_dir=tmp_path, http_client=http
        ) as nemo:
            await nemo.credits.balance()
        assert not http.is_closed
    assert seen == ["/api/auth/anonymous-token", "/api/credits/balance/simple"]


async def test_with_options_shares_the_pool_and_token(
    nemo: nemovideo.NemoClient, nemo_emulator: Emulator
) -> None:
    other = nemo.with_options(timeout=5.0, max_retries=0)
    assert other.config.max_retries == 0
    assert other.config.timeout.read == 5.0
    await nemo.credits.balance()
    await other.credits.balance()
    await other.aclose()  # leaves the shared pool open
    await nemo.credits.balance()
    assert requests_to(nemo_emulator, "anonymous_token") == 1
