"""The gateway's REST routes over loopback: API keys, projects, state, balance, uploads, render, faults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from nemovideo.emulator import Emulator

from ._gw import bearer, data, new_key, new_project
from ._helpers import api

pytestmark = pytest.mark.anyio


async def test_any_well_formed_key_is_an_account_of_its_own(nemo_emulator: Emulator) -> None:
    a, b = new_key(), new_key()
    async with api(nemo_emulator) as c:
        who_a = data(await c.post("/auth/verify", json={"token": a}))
        who_b = data(await c.post("/auth/verify", json={"token": b}))
        again = data(await c.post("/auth/verify", json={"token": a}))
        balance = data(await c.get("/billing/balance", headers=bearer(a)))
    assert who_a["user_id"] != who_b["user_id"]
    assert again["user_id"] == who_a["user_id"]
    assert who_a["balance"] == 100
    assert balance == {"available": 100, "frozen": 0, "total_granted": 100, "total_consumed": 0}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer sk_live_nope"}, {"Authorization": "Basic nmv_usr_abcdefgh12"}],
)
async def test_bad_keys_are_401_with_code_1010(nemo_emulator: Emulator, headers: dict[str, str]) -> None:
    async with api(nemo_emulator) as c:
        r = await c.get("/projects", headers=headers)
    assert r.status_code == 401
    assert r.json()["code"] == 1010
    assert r.json()["message"]


async def test_strict_keys_accept_only_registered_ones(nemo_emulator: Emulator) -> None:
    nemo_emulator.configure(gateway_strict_keys=True)
    known = nemo_emulator.add_api_key(credits=250)
    async with api(nemo_emulator) as c:
        r_unknown = await c.get("/billing/balance", headers=bearer(new_key()))
        r_known = await c.get("/billing/balance", headers=bearer(known))
        over_http = (await c.post("/_emulator/gateway/keys", json={"key": "nmv_usr_fromhttp1234"})).json()
        r_http = await c.get("/billing/balance", headers=bearer(over_http["key"]))
        nemo_emulator.revoke_api_key(known)
        r_revoked = await c.get("/billing/balance", headers=bearer(known))
    assert (r_unknown.status_code, r_unknown.json()["code"]) == (401, 1010)
    assert data(r_known)["available"] == 250
    assert data(r_http)["available"] == 100
    assert (r_revoked.status_code, r_revoked.json()["code"]) == (401, 1011)


async def test_projects_and_sessions(nemo_emulator: Emulator) -> None:
    key, other = new_key(), new_key()
    async with api(nemo_emulator) as c:
        first, sid1 = await new_project(c, key, "first")
        second, sid2 = await new_project(c, key, None)
        bare = data(await c.post("/projects", json={"create_session": False}, headers=bearer(key)))
        listed = data(await c.get("/projects", headers=bearer(key)))
        one = data(await c.get(f"/projects/{first}", headers=bearer(key)))
        sessions = data(await c.get(f"/projects/{first}/sessions", headers=bearer(key)))
        foreign = await c.get(f"/projects/{first}", headers=bearer(other))
        bad = await c.post("/projects", json={"create_session": "yes"}, headers=bearer(key))
    assert first.startswith("project_")
    assert sid1.isdigit()
    assert len(sid1) == 19
    assert bare["session"] is None
    assert [p["project_id"] for p in listed] == [bare["project_id"], second, first]  # newest first
    assert one["name"] == "first"
    assert one["session"]["session_id"] == sid1
    assert one["created_at"].endswith("Z")
    assert [(s["session_id"], s["project_id"], s["status"]) for s in sessions["sessions"]] == [
        (sid1, first, "active")
    ]
    assert sid2 != sid1
    assert (foreign.status_code, foreign.json()["code"]) == (404, 404)
    assert bad.status_code == 400


BALANCE_KEYS = {"available", "frozen", "total_granted", "total_consumed"}


@pytest.mark.parametrize(
    ("envelope", "keys"),
    [("code", {"code", "message", "data"}), ("success", {"success", "data"}), ("bare", BALANCE_KEYS)],
)
async def test_envelopes(nemo_emulator: Emulator, envelope: str, keys: set[str]) -> None:
    nemo_emulator.configure(gateway_envelope=envelope)
    async with api(nemo_emulator) as c:
        body = (await c.get("/billing/balance", headers=bearer(new_key()))).json()
        failed = await c.get("/billing/balance")
    assert set(body) == keys
    inner = body if envelope == "bare" else body["data"]
    assert set(inner) == BALANCE_KEYS
    assert inner["available"] == 100
    assert body.get("code", 0) == 0
    assert body.get("success", True) is True
    assert failed.status_code == 401
    assert failed.json()["code"] == 1010


async def test_upload_lands_in_the_session(nemo_emulator: Emulator, media_dir: Path) -> None:
    key = new_key()
    async with api(nemo_emulator) as c:
        pid, sid = await new_project(c, key)
        r = await c.post(
            "/files/upload",
            files={"file": ("clip.mp4", (media_dir / "clip.mp4").read_bytes(), "video/mp4")},
            data={"session_id": sid},
            headers=bearer(key),
        )
        bad = await c.post(
            "/files/upload",
            files={"file": ("notes.txt", b"hello there, not a video at all", "text/plain")},
            data={"session_id": sid},
            headers=bearer(key),
        )
        missing = await c.post(
            "/files/upload", files={"file": ("clip.mp4", b"x", "video/mp4")}, headers=bearer(key)
        )
        state = data(await c.get(f"/api/v1/state/frontend/{pid}", headers=bearer(key)))
        fetched = await c.get(data(r)["url"])
    up = data(r)
    assert up["file_id"].startswith("file_")
    assert up["filename"] == "clip.mp4"
    assert up["url"].startswith(nemo_emulator.cdn_url)
    assert fetched.content == (media_dir / "clip.mp4").read_bytes()
    assert (bad.status_code, bad.json()["code"]) == (415, 4001)
    assert missing.status_code == 400
    assert [v["cdn_url"] for v in state["project"]["video_infos"]] == [up["url"]]


async def test_state_of_a_new_project_has_nothing_to_render(nemo_emulator: Emulator) -> None:
    key = new_key()
    async with api(nemo_emulator) as c:
        pid, _ = await new_project(c, key, "empty")
        state = data(await c.get(f"/api/v1/state/frontend/{pid}", headers=bearer(key)))
        latest = await c.get(f"/services/v1/render-proxy/{pid}/download", headers=bearer(key))
    assert state["project"]["timeline_draft"] is None
    assert state["projectName"] == "empty"
    assert state["version"] == 0
    assert latest.status_code == 404


DRAFT = {
    "d": 1000,
    "m": {"title": "T", "width": 320, "height": 180, "fps": 25, "aspect": "16:9"},
    "t": [
        {
            "tt": 0,
            "sg": [{"id": "seg_1", "kind": "scene", "name": "a", "start": 0, "end": 1000, "bg": "#123456"}],
        }
    ],
}


async def _poll(c: httpx.AsyncClient, key: str) -> dict[str, Any]:
    return dict(data(await c.get("/services/v1/render-proxy/lambda/render_1", headers=bearer(key))))


async def test_render_submit_poll_latest_and_idempotent_id(nemo_emulator: Emulator) -> None:
    nemo_emulator.configure(job_progression="manual")
    key = new_key()
    async with api(nemo_emulator) as c:
        pid, sid = await new_project(c, key)
        body = {"id": "render_1", "sessionId": sid, "projectId": pid, "draft": DRAFT}
        started = data(await c.post("/services/v1/render-proxy/lambda", json=body, headers=bearer(key)))
        again = data(await c.post("/services/v1/render-proxy/lambda", json=body, headers=bearer(key)))
        pending = data(await c.get("/services/v1/render-proxy/lambda/render_1", headers=bearer(key)))
        for _ in range(2):
            nemo_emulator.step_render("render_1")
        with anyio.fail_after(30):
            while (done := await _poll(c, key))["status"] not in ("completed", "failed"):  # noqa: ASYNC110
                await anyio.sleep(0.05)
        latest = data(await c.get(f"/services/v1/render-proxy/{pid}/download", headers=bearer(key)))
        video = await c.get(done["output"]["url"])
        wrong = await c.post(
            "/services/v1/render-proxy/lambda",
            json={**body, "id": "render_2", "draft": {}},
            headers=bearer(key),
        )
    assert started == {"render_id": "render_1", "status": "pending"}
    assert again["render_id"] == "render_1"
    assert pending["status"] == "pending"
    assert "output" not in pending
    assert done["status"] == "completed", done
    assert done["output"]["size"] == len(video.content)
    assert video.content[4:8] == b"ftyp"
    assert latest == done
    assert wrong.status_code == 400
    starts = [e for e in nemo_emulator.log if e.endpoint == "gw_render_start"]
    assert [e.render_id for e in starts] == ["render_1", "render_1", "render_2"]
    assert [e.extra.get("duplicate", False) for e in starts] == [False, True, False]
    assert len(nemo_emulator.ctx.store.renders) == 1


async def test_http_faults_apply_to_gateway_routes(nemo_emulator: Emulator) -> None:
    key = new_key()
    nemo_emulator.faults.add("gw_balance", "status", count=2, status=503)
    async with api(nemo_emulator) as c:
        codes = [(await c.get("/billing/balance", headers=bearer(key))).status_code for _ in range(3)]
        nemo_emulator.faults.add("gw_projects", "drop_before_headers")
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            await c.get("/projects", headers=bearer(key))
    assert codes == [503, 503, 200]
    logged = [(e.endpoint, e.fault) for e in nemo_emulator.log if e.endpoint in ("gw_balance", "gw_projects")]
    assert logged == [
        ("gw_balance", "status"),
        ("gw_balance", "status"),
        ("gw_balance", None),
        ("gw_projects", "drop_before_headers"),
    ]
    assert all("<redacted>" in e.headers["authorization"] for e in nemo_emulator.log)
