"""Every documented code, as a JSON ``code`` and as an HTTP status, on one endpoint.

The emulator answers each code only where the API would (a 402 only on export, a 4002 only on upload), so
the full matrix on a single endpoint is a wire case for ``httpx.MockTransport``. The behaviour of each
code where it really occurs is tested against the emulator elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

import nemovideo
from nemovideo import (
    AuthenticationError,
    ExportBlockedError,
    FileTooLargeError,
    InsufficientCreditsError,
    MissingClientIdError,
    ProtocolError,
    RateLimitError,
    ServerError,
    SessionNotFoundError,
    UnsupportedFileError,
)

pytestmark = pytest.mark.anyio

API = "http://127.0.0.1:9"
BALANCE = "/api/credits/balance/simple"

# code -> (class, requests the server sees for one balance() call with max_retries=2)
TABLE: dict[int, tuple[type[nemovideo.APIError], int]] = {
    1001: (AuthenticationError, 1),  # a caller's token is never refreshed
    1002: (SessionNotFoundError, 1),
    2001: (InsufficientCreditsError, 1),
    4001: (UnsupportedFileError, 1),
    4002: (FileTooLargeError, 1),
    400: (MissingClientIdError, 1),
    402: (ExportBlockedError, 1),
    429: (RateLimitError, 2),  # retried once
}
HTTP_STATUS = {1001: 401, 1002: 404, 2001: 402, 4001: 415, 4002: 413, 400: 400, 402: 402, 429: 429}


def _server(
    respond: Callable[[httpx.Request], httpx.Response],
) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return respond(request)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler)), seen


@pytest.mark.parametrize("transport", ["json", "http"])
@pytest.mark.parametrize("code", sorted(TABLE))
async def test_code_maps_to_its_class(code: int, transport: str, waits: list[float]) -> None:
    cls, expected_requests = TABLE[code]
    status = 200 if transport == "json" and code >= 1000 else HTTP_STATUS[code]
    body = {"code": code, "message": f"failure {code}"}
    http, seen = _server(lambda _: httpx.Response(status, json=body, headers={"x-request-id": "req-1"}))
    async with given_token_client(http) as nemo:
        with pytest.raises(cls) as info:
            await nemo.credits.balance()
    error = info.value
    assert type(error) is cls
    assert error.code == code
    assert error.http_status == (status if status >= 400 else None)
    assert error.message == f"failure {code}"
    assert error.request_id == "req-1"
    assert error.hint
    assert error.hint in str(error)
    assert len(seen) == expected_requests
    if code == 429:
        assert waits == [30.0]  # no Retry-After: the documented 30 s


@pytest.mark.parametrize("key", ["msg", "message", "error"])
async def test_message_read_from_any_key(key: str) -> None:
    http, _ = _server(lambda _: httpx.Response(200, json={"code": 1002, key: "no such session"}))
    async with given_token_client(http) as nemo:
        with pytest.raises(SessionNotFoundError, match="no such session"):
            await nemo.credits.balance()


async def test_bare_http_status_without_json(waits: list[float]) -> None:
    http, seen = _server(lambda _: httpx.Response(503, text="<html>bad gateway</html>"))
    async with given_token_client(http) as nemo:
        with pytest.raises(ServerError) as info:
            await nemo.credits.balance()
    assert info.value.http_status == 503
    assert len(seen) == 3
    assert len(waits) == 2


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"code": 0}', b'{"code": 0, "data": {"available": "lots"}}', b"[]", b'"ok"'],
)
async def test_malformed_answers_are_protocol_errors(body: bytes) -> None:
    headers = {"content-type": "application/json"}
    http, _ = _server(lambda _: httpx.Response(200, content=body, headers=headers))
    async with given_token_client(http) as nemo:
        with pytest.raises(ProtocolError, match=BALANCE):
            await nemo.credits.balance()


async def test_missing_client_id_gets_a_new_id_once(tmp_path: object) -> None:
    """400 from the token endpoint: the SDK makes a new client id and asks once more."""
    client_ids: list[str] = []

    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/auth/anonymous-token":
            client_ids.append(request.headers["x-client-id"])
            if len(client_ids) == 1:
                return httpx.Response(400, json={"code": 400, "msg": "missing X-Client-Id"})
            return httpx.Response(200, json={"code": 0, "data": {"token": "nmv_usr_t1", "credits": 100}})
        assert request.headers["authorization"] == "Bearer nmv_usr_t1"
        return httpx.Response(200, json={"code": 0, "data": {"available": 100, "frozen": 0, "total": 100}})

    http, seen = _server(respond)
    async with nemovideo.NemoClient(api_url=API, http_client=http) as nemo:
        assert (await nemo.credits.balance()).available == 100
    assert len(client_ids) == 2
    assert client_ids[0] != client_ids[1]
    assert len(seen) == 3


async def test_success_body_is_parsed_rust_side_into_the_model() -> None:
    payload = {"code": 0, "data": {"available": 25000, "frozen": 40, "total": 25040, "new_field": 1}}
    http, _ = _server(lambda _: httpx.Response(200, content=json.dumps(payload).encode()))
    async with given_token_client(http) as nemo:
        credits = await nemo.credits.balance()
    assert credits == nemovideo.Credits(available=25000, frozen=40, total=25040, new_field=1)
    assert repr(credits) == "Credits(available=25000, frozen=40, total=25040)"


def given_token_client(http: httpx.AsyncClient) -> nemovideo.NemoClient:
    return nemovideo.NemoClient(api_url=API, token="nmv_usr_given", http_client=http)
