"""Each fault kind does what it says, set from Python and over HTTP; the CDN refuses bearer tokens."""

from __future__ import annotations

import time

import httpx
import pytest

from nemovideo.emulator import Emulator

from ._helpers import GENERATE, api, auth, credits, login, new_token, run, run_body

pytestmark = pytest.mark.anyio
CREDITS = "/api/credits/balance/simple"


async def test_status_burst(nemo_emulator: Emulator) -> None:
    async with api(nemo_emulator) as c:
        headers = auth(await new_token(c))
        nemo_emulator.faults.add("credits", "status", count=2, status=502)
        codes = [(await c.get(CREDITS, headers=headers)).status_code for _ in range(3)]
    assert codes == [502, 502, 200]
    assert [e.fault for e in nemo_emulator.log if e.endpoint == "credits"] == ["status", "status", None]


async def test_rate_limit(nemo_emulator: Emulator) -> None:
    async with api(nemo_emulator) as c:
        nemo_emulator.faults.add("anonymous_token", "rate_limit", retry_after=2)
        r = await c.post("/api/auth/anonymous-token", headers={"X-Client-Id": "a"})
    assert r.status_code == 429
    assert r.headers["retry-after"] == "2"
    assert r.json()["code"] == 429


async def test_latency(nemo_emulator: Emulator) -> None:
    async with api(nemo_emulator) as c:
        headers = auth(await new_token(c))
        nemo_emulator.faults.add("*", "latency", seconds=0.4)
        started = time.monotonic()
        r = await c.get(CREDITS, headers=headers)
    assert r.status_code == 200
    assert time.monotonic() - started >= 0.4


async def test_drop_before_headers(nemo_emulator: Emulator) -> None:
    async with api(nemo_emulator) as c:
        headers = auth(await new_token(c))
        nemo_emulator.faults.add("credits", "drop_before_headers")
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            await c.get(CREDITS, headers=headers)
        assert (await c.get(CREDITS, headers=headers)).status_code == 200
    entry = next(e for e in nemo_emulator.log if e.endpoint == "credits")
    assert (entry.fault, entry.status) == ("drop_before_headers", None)


async def test_drop_after_headers(nemo_emulator: Emulator) -> None:
    async with api(nemo_emulator) as c:
        headers = auth(await new_token(c))
        nemo_emulator.faults.add("credits", "drop_after_headers")
        async with c.stream("GET", CREDITS, headers=headers) as r:
            assert r.status_code == 200
            with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
                await r.aread()


async def test_malformed_json(nemo_emulator: Emulator) -> None:
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        nemo_emulator.faults.add("credits", "malformed_json")
        r = await c.get(CREDITS, headers=headers)
        assert r.status_code == 200
        with pytest.raises(ValueError, match=r"\w"):
            r.json()
        nemo_emulator.configure(generation_seconds=0.1)
        nemo_emulator.faults.add("run_sse", "malformed_json")
        s = await run(c, headers, sid, GENERATE)
    kinds = [f.kind for f in s.frames]
    assert kinds[0] == "event"
    assert kinds[1] == "invalid"


async def test_expire_token(nemo_emulator: Emulator) -> None:
    async with api(nemo_emulator) as c:
        headers = auth(await new_token(c))
        nemo_emulator.faults.add("credits", "expire_token")
        first = await c.get(CREDITS, headers=headers)
        second = await c.get(CREDITS, headers=headers)
    assert first.json()["code"] == 1001
    assert second.json()["code"] == 1001, "the token stays expired"


async def test_cut_stream_after_n_events(nemo_emulator: Emulator) -> None:
    nemo_emulator.configure(generation_seconds=0.3, credits=1000)
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        nemo_emulator.faults.add("run_sse", "cut_stream", after=3)
        s = await run(c, headers, sid, GENERATE)
    assert s.status == 200
    assert len(s.events) == 3
    assert isinstance(s.error, (httpx.RemoteProtocolError, httpx.ReadError))


async def test_heartbeats_only(nemo_emulator: Emulator) -> None:
    nemo_emulator.configure(generation_seconds=0.1, heartbeat_interval=0.1)
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        nemo_emulator.faults.add("run_sse", "heartbeats_only", seconds=0.6)
        started = time.monotonic()
        s = await run(c, headers, sid, GENERATE)
        elapsed = time.monotonic() - started
        # The work itself still happened (the client must recover by reading state).
        assert (await credits(c, headers))["available"] == 0
    assert s.events == []
    assert len(s.heartbeats) >= 4
    assert elapsed >= 0.6


async def test_probability_is_seeded_and_counted(nemo_emulator: Emulator) -> None:
    async def pattern() -> list[int]:
        async with api(nemo_emulator) as c:
            headers = auth(await new_token(c))
            nemo_emulator.faults.add("credits", "status", count=None, probability=0.5)
            return [(await c.get(CREDITS, headers=headers)).status_code for _ in range(12)]

    first = await pattern()
    nemo_emulator.reset()
    assert await pattern() == first
    assert 503 in first
    assert 200 in first


def test_rule_validation() -> None:
    from nemovideo.emulator import Faults

    faults = Faults()
    with pytest.raises(ValueError, match="unknown endpoint"):
        faults.add("nope", "status")
    with pytest.raises(ValueError, match="unknown fault kind"):
        faults.add("credits", "explode")
    with pytest.raises(ValueError, match="only applies to run_sse"):
        faults.add("credits", "cut_stream")
    with pytest.raises(ValueError, match="takes no parameter"):
        faults.add("credits", "status", seconds=3)


async def test_faults_over_http(nemo_emulator: Emulator) -> None:
    async with api(nemo_emulator) as c:
        headers = auth(await new_token(c))
        r = await c.post(
            "/_emulator/faults", json={"endpoint": "credits", "kind": "status", "count": 1, "status": 500}
        )
        assert r.json()["rules"][0]["params"] == {"status": 500}
        bad = await c.post("/_emulator/faults", json={"endpoint": "credits", "kind": "boom"})
        assert bad.status_code == 422
        assert (await c.get(CREDITS, headers=headers)).status_code == 500
        assert (await c.get("/_emulator/faults")).json()["rules"][0]["fired"] == 1
        await c.post("/_emulator/faults", json=[{"endpoint": "credits", "kind": "status"}])
        await c.delete("/_emulator/faults")
        assert (await c.get(CREDITS, headers=headers)).status_code == 200
        log = (await c.get("/_emulator/log")).json()["entries"]
        assert [e["status"] for e in log if e["endpoint"] == "credits"] == [500, 200]
        assert log[-1]["headers"]["authorization"] == "Bearer <redacted>"
        cfg = await c.post("/_emulator/config", json={"silent_share": 0.5})
        assert cfg.json()["settings"]["silent_share"] == 0.5
        assert (await c.post("/_emulator/config", json={"nope": 1})).status_code == 422
        await c.post("/_emulator/clock/advance", json={"seconds": 8 * 24 * 3600})
        assert (await c.get(CREDITS, headers=headers)).json()["code"] == 1001
        await c.post("/_emulator/reset")
        assert (await c.get("/_emulator/log")).json()["entries"] == []
    assert nemo_emulator.settings.silent_share == 0.3


async def test_cdn_rejects_authorization_and_logs_it(nemo_emulator: Emulator, media_dir: object) -> None:
    from pathlib import Path

    assert isinstance(media_dir, Path)
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        up = await c.post(
            f"/api/upload-video/nemo_agent/me/{sid}",
            files={"files": ("still.png", (media_dir / "still.png").read_bytes())},
            headers=headers,
        )  # fmt: skip
        url = up.json()["data"]["files"][0]["cdn_url"]
        async with httpx.AsyncClient() as cdn:
            refused = await cdn.get(url, headers={"Authorization": headers["Authorization"]})
            fine = await cdn.get(url)
            missing = await cdn.get(nemo_emulator.cdn_url + "/uploads/nope.png")
            escape = await cdn.get(nemo_emulator.cdn_url + "/uploads/%2e%2e/%2e%2e/etc/passwd")
            nemo_emulator.faults.add("cdn", "status")
            faulty = await cdn.get(url)
    assert refused.status_code == 403
    assert fine.status_code == 200
    assert missing.status_code == 404
    assert escape.status_code == 404
    assert faulty.status_code == 503
    cdn_log = [e for e in nemo_emulator.log if e.origin == "cdn"]
    assert cdn_log[0].has_authorization
    assert cdn_log[0].headers["authorization"] == "Bearer <redacted>"
    assert cdn_log[0].extra["rejected"] == "authorization header"
    assert headers["Authorization"].split()[1] not in repr(nemo_emulator.log)


async def test_a_faulted_request_still_logs_its_render_id_and_message(nemo_emulator: Emulator) -> None:
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        nemo_emulator.faults.add("render_start", "status", status=503)
        nemo_emulator.faults.add("run_sse", "drop_before_headers")
        body = {"id": "render_x1", "sessionId": sid, "draft": {"t": []}}
        assert (await c.post("/api/render/proxy/lambda", json=body, headers=headers)).status_code == 503
        with pytest.raises(httpx.TransportError):
            await c.post("/run_sse", json=run_body(sid, "hello there"), headers=headers)
    [start] = [e for e in nemo_emulator.log if e.endpoint == "render_start"]
    assert (start.render_id, start.fault) == ("render_x1", "status")
    [message] = [e for e in nemo_emulator.log if e.endpoint == "run_sse"]
    assert (message.message, message.fault) == ("hello there", "drop_before_headers")
