"""anonymous-token, sessions, claim-token, credits: every success and error code, both error transports."""

from __future__ import annotations

import re

import pytest

from nemovideo.emulator import Emulator

from ._helpers import api, auth, credits, login, new_session, new_token

pytestmark = pytest.mark.anyio
WEEK = 7 * 24 * 3600


async def test_anonymous_token(nemo_emulator: Emulator) -> None:
    async with api(nemo_emulator) as c:
        r = await c.post("/api/auth/anonymous-token", headers={"X-Client-Id": "client-1"})
    body = r.json()
    assert r.status_code == 200
    assert body["code"] == 0
    data = body["data"]
    assert re.fullmatch(r"nmv_usr_[0-9a-f]{32}", data["token"])
    assert data["credits"] == 100
    assert data["user_id"].startswith("anon_")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["expires_at"])


async def test_missing_client_id_is_400(nemo_emulator: Emulator) -> None:
    async with api(nemo_emulator) as c:
        r = await c.post("/api/auth/anonymous-token")
        long = await c.post("/api/auth/anonymous-token", headers={"X-Client-Id": "x" * 65})
    assert r.status_code == 400
    assert r.json() == {"code": 400, "msg": "missing X-Client-Id header"}
    assert long.status_code == 400


async def test_one_token_per_client_then_new_after_expiry(nemo_emulator: Emulator) -> None:
    async with api(nemo_emulator) as c:
        first = await new_token(c, "same-client")
        again = await c.post("/api/auth/anonymous-token", headers={"X-Client-Id": "same-client"})
        assert again.status_code == 429
        assert again.headers["retry-after"] == "30"
        assert again.json()["code"] == 429
        nemo_emulator.clock.advance(WEEK + 1)
        expired = await c.get("/api/credits/balance/simple", headers=auth(first))
        assert expired.json()["code"] == 1001
        second = await new_token(c, "same-client")
    assert second != first


async def test_ten_tokens_per_ip(nemo_emulator: Emulator) -> None:
    nemo_emulator.configure(tokens_per_ip=10)
    async with api(nemo_emulator) as c:
        for i in range(10):
            await new_token(c, f"client-{i}")
        r = await c.post("/api/auth/anonymous-token", headers={"X-Client-Id": "client-10"})
        assert r.status_code == 429
        assert "retry-after" in r.headers
        nemo_emulator.clock.advance(WEEK)
        await new_token(c, "client-10")


async def test_bad_tokens_are_1001(nemo_emulator: Emulator) -> None:
    async with api(nemo_emulator) as c:
        missing = await c.get("/api/credits/balance/simple")
        unknown = await c.get("/api/credits/balance/simple", headers=auth("nmv_usr_nope"))
        malformed = await c.get("/api/credits/balance/simple", headers={"Authorization": "Token abc"})
    for r in (missing, unknown, malformed):
        assert r.status_code == 200
        assert r.json()["code"] == 1001
        assert r.json()["msg"]


async def test_session_create_and_validation(nemo_emulator: Emulator) -> None:
    async with api(nemo_emulator) as c:
        headers = auth(await new_token(c))
        r = await c.post(
            "/api/tasks/me/with-session/nemo_agent",
            json={"task_name": "project", "language": "en"},
            headers=headers,
        )
        data = r.json()["data"]
        assert re.fullmatch(r"\d{19}", data["session_id"])
        assert re.fullmatch(r"task_[0-9a-f]+", data["task_id"])
        assert data["user_id"].startswith("anon_")
        url = "/api/tasks/me/with-session/nemo_agent"
        bad = [
            await c.post("/api/tasks/me/with-session/nemo_agent", json={}, headers=headers),
            await c.post("/api/tasks/me/with-session/nemo_agent", json={"taskName": "x"}, headers=headers),
            await c.post(url, json={"task_name": "x", "language": 3}, headers=headers),
            await c.post("/api/tasks/me/with-session/nemo_agent", content=b"task_name=x", headers=headers),
            await c.post(url, content=b"{", headers={**headers, "content-type": "application/json"}),
        ]  # fmt: skip
        unauth = await c.post("/api/tasks/me/with-session/nemo_agent", json={"task_name": "project"})
    for r in bad:
        assert r.status_code == 422, r.text
        assert r.json()["code"] == 422
        assert r.json()["msg"]
    assert "taskName" in bad[1].json()["msg"]
    assert unauth.json()["code"] == 1001


async def test_unknown_session_is_1002(nemo_emulator: Emulator) -> None:
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        other_headers = auth(await new_token(c))
        r = await c.get("/api/state/nemo_agent/me/1234567890123456789/latest", headers=headers)
        foreign = await c.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=other_headers)
    assert r.json()["code"] == 1002
    assert foreign.json()["code"] == 1002, "a session belongs to its token's user"


async def test_claim_token(nemo_emulator: Emulator) -> None:
    async with api(nemo_emulator) as c:
        headers = auth(await new_token(c))
        r = await c.post("/api/tasks/me/with-session/nemo_agent", json={"task_name": "p"}, headers=headers)
        data = r.json()["data"]
        claim = await c.post(
            "/api/auth/claim-token",
            json={"task_id": data["task_id"], "session_id": data["session_id"]},
            headers=headers,
        )
        wrong = await c.post(
            "/api/auth/claim-token",
            json={"task_id": "task_x", "session_id": data["session_id"]},
            headers=headers,
        )
    assert claim.json()["data"]["claim_token"].startswith("clm_")
    assert claim.json()["data"]["expires_in"] == 604800
    assert wrong.json()["code"] == 1002


async def test_credits_balance(nemo_emulator: Emulator) -> None:
    nemo_emulator.configure(credits=250)
    async with api(nemo_emulator) as c:
        headers = auth(await new_token(c))
        assert await credits(c, headers) == {"available": 250, "frozen": 0, "total": 250}


async def test_http_error_transport_and_message_key(nemo_emulator: Emulator) -> None:
    nemo_emulator.configure(error_transport="http", message_key="message")
    async with api(nemo_emulator) as c:
        headers = auth(await new_token(c))
        r1001 = await c.get("/api/credits/balance/simple", headers=auth("nmv_usr_bad"))
        r1002 = await c.get("/api/state/nemo_agent/me/1234567890123456789/latest", headers=headers)
        r400 = await c.post("/api/auth/anonymous-token")
    assert (r1001.status_code, r1001.json()["code"]) == (401, 1001)
    assert (r1002.status_code, r1002.json()["code"]) == (404, 1002)
    assert r400.status_code == 400
    assert "message" in r1001.json()
    assert "msg" not in r1001.json()


async def test_new_session_has_empty_state(nemo_emulator: Emulator) -> None:
    async with api(nemo_emulator) as c:
        headers = auth(await new_token(c))
        sid = await new_session(c, headers)
        r = await c.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=headers)
    data = r.json()["data"]
    assert data["session_id"] == sid
    assert data["task_name"] == "project"
    assert data["state"]["draft"] == {
        "t": [],
        "d": 0,
        "m": {"title": "", "width": 1920, "height": 1080, "aspect": "16:9", "fps": 30},
    }
    assert data["state"]["video_infos"] == []
    assert data["state"]["canvas_config"]["width"] == 1920
    assert data["state"]["generated_media"] == []
    assert data["state"]["video_analyses"] == {}
