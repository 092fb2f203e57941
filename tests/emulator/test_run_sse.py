"""/run_sse: body validation, ADK event shapes, streaming over time, heartbeats, credits, agent phrases."""

from __future__ import annotations

import itertools

import anyio
import httpx
import pytest

from nemovideo.emulator import Emulator

from ._helpers import GENERATE, api, auth, credits, login, new_token, run, run_body, state

pytestmark = pytest.mark.anyio


async def test_bearer_checked_before_the_body(nemo_emulator: Emulator) -> None:
    async with api(nemo_emulator) as c:
        r = await c.post("/run_sse", json={"nonsense": True}, headers=auth("nmv_usr_bad"))
    assert r.status_code == 200
    assert r.json()["code"] == 1001


async def test_bad_bodies_are_422_with_detail(nemo_emulator: Emulator) -> None:
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        good = run_body(sid, "hello")
        cases = [
            {k: v for k, v in good.items() if k != "session_id"},
            {**good, "new_message": {"role": "user", "parts": []}},
            {**good, "new_message": {"role": "user", "parts": [{"text": "  "}]}},
            {**good, "new_message": "hello"},
            {**good, "sessionid": sid},
            [good],
        ]
        responses = [await c.post("/run_sse", json=body, headers=headers) for body in cases]
        broken = await c.post(
            "/run_sse", content=b"{", headers={**headers, "content-type": "application/json"}
        )
    for r in [*responses, broken]:
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/json")
        assert r.json()["detail"]
    assert responses[0].json()["detail"][0]["loc"] == ["body", "session_id"]


async def test_camel_case_body_is_accepted(nemo_emulator: Emulator) -> None:
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        body = {
            "appName": "nemo_agent",
            "userId": "me",
            "sessionId": sid,
            "newMessage": {"role": "user", "parts": [{"text": "hi"}]},
        }
        async with c.stream("POST", "/run_sse", json=body, headers=headers) as r:
            await r.aread()
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")


async def test_unknown_session_is_404_detail(nemo_emulator: Emulator) -> None:
    async with api(nemo_emulator) as c:
        headers, _ = await login(c)
        r = await c.post("/run_sse", json=run_body("1234567890123456789", "hi"), headers=headers)
    assert r.status_code == 404
    assert r.json() == {"detail": "Session not found"}


async def test_generation_streams_adk_events(nemo_emulator: Emulator) -> None:
    nemo_emulator.configure(generation_seconds=1.0, heartbeat_interval=0.2, text_delay=0.01)
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        s = await run(c, headers, sid, GENERATE)
        after = await state(c, headers, sid)
    assert s.status == 200
    assert s.content_type == "text/event-stream; charset=utf-8"
    assert s.error is None
    # Every frame is `data: <compact JSON>` (or a heartbeat); events have ADK's camelCase keys.
    for f in s.frames:
        if f.kind == "event":
            assert ", " not in f.raw[:40]
            assert f.raw.startswith('data: {"content"')
    first = s.events[0]
    assert set(first) >= {"content", "partial", "invocationId", "author", "actions", "id", "timestamp"}
    assert set(first["actions"]) == {
        "stateDelta",
        "artifactDelta",
        "requestedAuthConfigs",
        "requestedToolConfirmations",
    }
    assert len({e["invocationId"] for e in s.events}) == 1
    # Partial deltas share their final event's id; the final event repeats the whole text.
    partials = [e for e in s.events if e.get("partial") is True]
    finals = [e for e in s.events if e.get("partial") is False and "text" in e["content"]["parts"][0]]
    assert len(finals) == 2
    for final in finals:
        deltas = [e for e in partials if e["id"] == final["id"]]
        assert len(deltas) >= 2
        assert (
            "".join(e["content"]["parts"][0]["text"] for e in deltas) == final["content"]["parts"][0]["text"]
        )
    assert s.events[-1].get("turnComplete") is True
    reply = s.events[-1]["content"]["parts"][0]["text"]
    assert "Export button" in reply
    # Two stages: each a call, a result (role user) and a state change.
    calls = s.parts("functionCall")
    results = s.parts("functionResponse")
    assert [c["name"] for c in calls] == ["generate_video", "compose_video"]
    assert [r["name"] for r in results] == ["generate_video", "compose_video"]
    assert [c["id"] for c in calls] == [r["id"] for r in results]
    responses = [e for e in s.events if "functionResponse" in e["content"]["parts"][0]]
    assert all(e["content"]["role"] == "user" for e in responses)
    assert "background music" not in str(responses[0]["actions"]["stateDelta"]["draft"]["t"])
    assert len(responses[0]["actions"]["stateDelta"]["draft"]["t"]) == 1
    assert len(responses[1]["actions"]["stateDelta"]["draft"]["t"]) == 3
    # Heartbeats while it worked: empty data lines and comment lines alternate.
    kinds = [f.kind for f in s.heartbeats]
    assert len(kinds) >= 3
    assert "empty" in kinds
    assert "comment" in kinds
    # The stream is spread over the work time, not sent at once.
    assert s.frames[-1].at - s.frames[0].at >= 0.8
    draft = after["draft"]
    assert draft["d"] == 4000
    assert [t["tt"] for t in draft["t"]] == [0, 1, 7]
    scenes = draft["t"][0]["sg"]
    assert [sg["text"] for sg in scenes] == [
        "A city that never sleeps.",
        "Lights everywhere.",
        "Join us tonight.",
    ]
    assert scenes[0]["kind"] == "scene"
    assert scenes[-1]["end"] == 4000
    music = draft["t"][1]["sg"][0]
    assert (music["kind"], music["volume"], music["start"], music["end"]) == ("music", 35, 0, 4000)
    title = draft["t"][2]["sg"][0]
    assert title["kind"] == "text"
    assert title["text"] == draft["m"]["title"] == "A city that never sleeps"
    assert (draft["m"]["width"], draft["m"]["height"]) == (1920, 1080)
    assert after["generated_media"]


async def test_events_arrive_spread_over_time(nemo_emulator: Emulator) -> None:
    nemo_emulator.configure(generation_seconds=1.2, heartbeat_interval=0.3, text_delay=0.03)
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        s = await run(c, headers, sid, GENERATE)
    times = [f.at for f in s.frames]
    spread = times[-1] - times[0]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert spread >= 1.2
    assert sum(g > 0.2 for g in gaps) >= 3, gaps
    assert len({round(t, 2) for t in times}) > len(times) // 2


async def test_credits_frozen_while_working_then_charged(nemo_emulator: Emulator) -> None:
    nemo_emulator.configure(generation_seconds=1.0, credits=300)
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        body = run_body(sid, GENERATE)
        async with c.stream("POST", "/run_sse", json=body, headers=headers) as r:
            lines = r.aiter_raw()
            await lines.__anext__()
            during = await credits(c, headers)
            async for _ in lines:  # read to the end, so no generator is left open
                pass
        after = await credits(c, headers)
    assert during == {"available": 200, "frozen": 100, "total": 300}
    assert after == {"available": 200, "frozen": 0, "total": 200}


async def test_no_credits_is_2001_before_the_stream(nemo_emulator: Emulator) -> None:
    nemo_emulator.configure(credits=40)
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        r = await c.post("/run_sse", json=run_body(sid, GENERATE), headers=headers)
        help_text = await run(c, headers, sid, "hello there")
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["code"] == 2001
    assert help_text.status == 200, "a plain text reply costs nothing"
    assert "generate" in help_text.texts(partial=False)[0]


async def _done(c: httpx.AsyncClient, headers: dict[str, str], sid: str) -> bool:
    draft = (await state(c, headers, sid))["draft"]
    return draft["d"] == 4000 and (await credits(c, headers))["frozen"] == 0


async def test_work_goes_on_after_a_disconnect(nemo_emulator: Emulator) -> None:
    nemo_emulator.configure(generation_seconds=0.6, credits=300)
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        async with c.stream("POST", "/run_sse", json=run_body(sid, GENERATE), headers=headers) as r:
            assert r.status_code == 200  # headers only, then hang up
        with anyio.fail_after(10):
            while not await _done(c, headers, sid):  # noqa: ASYNC110
                await anyio.sleep(0.1)
        assert await credits(c, headers) == {"available": 200, "frozen": 0, "total": 200}
    sent = [e for e in nemo_emulator.log if e.endpoint == "run_sse"]
    assert len(sent) == 1
    assert sent[0].message == GENERATE


async def _generated(c: object, nemo_emulator: Emulator) -> tuple[dict[str, str], str]:
    import httpx

    assert isinstance(c, httpx.AsyncClient)
    nemo_emulator.configure(credits=10_000, silent_share=0.0, generation_seconds=0.1, text_delay=0.0)
    headers, sid = await login(c)
    s = await run(c, headers, sid, GENERATE)
    assert s.status == 200
    return headers, sid


async def test_edit_phrases(nemo_emulator: Emulator) -> None:
    async with api(nemo_emulator) as c:
        headers, sid = await _generated(c, nemo_emulator)
        s = await run(c, headers, sid, "Add a title 'Urban Dreams' for 2 seconds")
        assert "Text panel" in s.texts(partial=False)[-1]
        title = (await state(c, headers, sid))["draft"]["t"][-1]["sg"][0]
        assert (title["text"], title["start"], title["end"]) == ("Urban Dreams", 0, 2000)

        s = await run(c, headers, sid, "Set the music volume to 20%")
        assert "Music panel" in s.texts(partial=False)[-1]
        draft = (await state(c, headers, sid))["draft"]
        assert draft["t"][1]["sg"][0]["volume"] == 20

        await run(c, headers, sid, "Remove the background music")
        draft = (await state(c, headers, sid))["draft"]
        assert [t["tt"] for t in draft["t"]] == [0, 7]

        await run(c, headers, sid, "add background music")
        draft = (await state(c, headers, sid))["draft"]
        assert draft["t"][1]["sg"][0]["volume"] == 35

        await run(c, headers, sid, "Make it 8 seconds")
        draft = (await state(c, headers, sid))["draft"]
        assert draft["d"] == 8000
        assert draft["t"][0]["sg"][-1]["end"] == 8000
        assert draft["t"][1]["sg"][0]["end"] == 8000

        s = await run(c, headers, sid, "Change the aspect ratio to 9:16")
        assert [p["name"] for p in s.parts("functionCall")] == ["generate_video", "compose_video"]
        st = await state(c, headers, sid)
        assert (st["draft"]["m"]["width"], st["draft"]["m"]["height"]) == (1080, 1920)
        assert st["canvas_config"]["aspect"] == "9:16"
        assert st["draft"]["d"] == 8000

        s = await run(c, headers, sid, "What's the weather like?")
        assert not s.parts("functionCall")
        assert "generate" in s.texts(partial=False)[0]
        assert await credits(c, headers) == {
            "available": 10_000 - 100 - 5 * 50 - 100,
            "frozen": 0,
            "total": 9550,
        }


async def test_edits_on_an_empty_timeline_explain(nemo_emulator: Emulator) -> None:
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        s = await run(c, headers, sid, "Add a title 'X' for 2 seconds")
    assert not s.parts("functionCall")
    assert "empty" in s.texts(partial=False)[0]


async def test_vertical_generation(nemo_emulator: Emulator) -> None:
    nemo_emulator.configure(generation_seconds=0.1)
    async with api(nemo_emulator) as c:
        headers, sid = await login(c)
        await run(c, headers, sid, "Create a 6-second vertical video from this script: One. Two.")
        draft = (await state(c, headers, sid))["draft"]
    assert (draft["m"]["width"], draft["m"]["height"], draft["d"]) == (1080, 1920, 6000)
    assert [t["tt"] for t in draft["t"]] == [0, 7], "no music unless asked"


async def test_silent_edits_send_no_text(nemo_emulator: Emulator) -> None:
    async with api(nemo_emulator) as c:
        headers, sid = await _generated(c, nemo_emulator)
        nemo_emulator.configure(silent_share=1.0)
        s = await run(c, headers, sid, "Set the music volume to 50%")
        assert s.texts() == []
        assert [p["name"] for p in s.parts("functionCall")] == ["set_music_volume"]
        assert [p["name"] for p in s.parts("functionResponse")] == ["set_music_volume"]
        assert (await state(c, headers, sid))["draft"]["t"][1]["sg"][0]["volume"] == 50
        logged = [e for e in nemo_emulator.log if e.endpoint == "run_sse"]
        assert logged[-1].extra["silent"] is True


async def test_silent_share_is_seeded(nemo_emulator: Emulator) -> None:
    async def pattern() -> list[bool]:
        out = []
        async with api(nemo_emulator) as c:
            headers, sid = await _generated(c, nemo_emulator)
            nemo_emulator.configure(silent_share=0.5, edit_fraction=0.0)
            for i in range(8):
                s = await run(c, headers, sid, f"set the music volume to {10 + i}%")
                out.append(not s.texts())
        return out

    first = await pattern()
    nemo_emulator.reset()
    assert await pattern() == first
    assert True in first
    assert False in first


async def test_use_my_uploaded_clip(nemo_emulator: Emulator, media_dir: object) -> None:
    from pathlib import Path

    assert isinstance(media_dir, Path)
    async with api(nemo_emulator) as c:
        headers, sid = await _generated(c, nemo_emulator)
        with (media_dir / "clip.mp4").open("rb") as fh:
            r = await c.post(
                f"/api/upload-video/nemo_agent/me/{sid}", files={"files": ("clip.mp4", fh)}, headers=headers
            )
        assert r.json()["code"] == 0
        s = await run(c, headers, sid, "Use my uploaded clip")
        assert [p["name"] for p in s.parts("functionCall")] == ["use_uploaded_media"]
        draft = (await state(c, headers, sid))["draft"]
    clip = draft["t"][0]["sg"][0]
    assert clip["kind"] == "clip"
    assert clip["src"].startswith(nemo_emulator.cdn_url + "/uploads/")
    assert clip["in"] == 0
    assert any(t["m"]["name"] == "Captions" for t in draft["t"])


async def test_generation_uses_uploads(nemo_emulator: Emulator, media_dir: object) -> None:
    from pathlib import Path

    assert isinstance(media_dir, Path)
    nemo_emulator.configure(generation_seconds=0.1)
    async with api(nemo_emulator) as c:
        headers = auth(await new_token(c))
        from ._helpers import new_session

        sid = await new_session(c, headers)
        files = [
            ("files", ("clip.mp4", (media_dir / "clip.mp4").read_bytes())),
            ("files", ("still.png", (media_dir / "still.png").read_bytes())),
        ]
        await c.post(f"/api/upload-video/nemo_agent/me/{sid}", files=files, headers=headers)
        await run(c, headers, sid, "Generate a 4-second video from this script: First. Second.")
        draft = (await state(c, headers, sid))["draft"]
    assert [sg["kind"] for sg in draft["t"][0]["sg"]] == ["clip", "image"]
