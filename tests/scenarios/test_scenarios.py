"""What a user does, start to end, on the async client and on the sync client (see ``conftest.py``): one body
per scenario, against the emulator over HTTP."""

from __future__ import annotations

import re
from pathlib import Path

import av
import pytest

import nemovideo
from nemovideo import (
    Heartbeat,
    InsufficientCreditsError,
    RenderJob,
    RenderStatus,
    Status,
    SyncNemoClient,
    SyncSession,
    Text,
    TextDelta,
    ToolCall,
    ToolResult,
    UnsupportedFileError,
    UnsupportedOnThisAPI,
)
from nemovideo.emulator import Emulator

from ..sdk._media import mp4_like, png, tiny_draft
from ..sdk.conftest import messages_sent, requests_to, twin
from .conftest import Connect

pytestmark = pytest.mark.anyio

GENERATE = "Generate a 3-second promotional video from this script with background music: Tea, brewed slowly."


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.is_file())


def probe(path: Path) -> tuple[dict[str, str], float]:
    """The codec of each stream of an MP4, and its duration in seconds."""
    with av.open(str(path)) as container:
        codecs = {s.type: s.codec_context.name for s in container.streams}
        assert container.duration is not None
        return codecs, container.duration / 1_000_000


async def test_create_a_session(nemo: nemovideo.NemoClient, emulator: Emulator, api: str) -> None:
    session = await nemo.sessions.create(language="en")
    assert re.fullmatch(r"\d{19}", session.id)
    if api == "skill":  # a task with a page in the web app
        assert session.task_id
        assert session.project_url == (
            f"{nemo.config.web_url}/workspace/task/{session.task_id}?session={session.id}"
        )
    else:  # a project of its own
        assert re.fullmatch(r"project_[0-9a-f]{12}", session.project_id or "")
        assert [s.session_id for s in await nemo.projects.sessions(session.project_id or "")] == [session.id]
    assert not session.draft.is_ready
    state = await session.state()
    assert state.session_id == session.id
    assert not state.draft.is_ready
    again = nemo.sessions.get(session.id)
    assert (await again.state()).session_id == session.id
    [created] = [e for e in emulator.log if e.endpoint == twin(api, "create_session")]
    assert created.status == 200


async def test_generate_a_video_with_the_agent(nemo: nemovideo.NemoClient, emulator: Emulator) -> None:
    session = await nemo.sessions.create()
    events: list[nemovideo.Event] = []
    reply = await session.send(GENERATE, on_event=events.append)
    assert reply.text
    assert not reply.silent
    assert reply.tool_calls
    assert reply.credits_spent == 100
    assert session.draft.is_ready
    assert session.draft.duration_ms == 3000
    assert "BGM: Lo-fi (0-3s, 35%)" in session.draft.summary()
    assert sorted(c.kind for c in reply.changes.changes).count("track_added") == 3
    assert [type(e) for e in events].count(ToolCall) == len(reply.tool_calls)
    assert messages_sent(emulator) == [GENERATE]


async def test_stream_a_turn(nemo: nemovideo.NemoClient, emulator: Emulator, api: str) -> None:
    emulator.configure(generation_seconds=0.5)  # long enough for heartbeats, even on a busy CPU
    session = await nemo.sessions.create()
    seen: list[nemovideo.Event] = []
    async with session.stream(GENERATE) as events:
        async for event in events:
            seen.append(event)
    assert events.events_received >= len(seen)
    alive = Heartbeat if api == "skill" else Status  # the gateway's heartbeat is a status "working"
    assert {TextDelta, Text, ToolCall, ToolResult, alive} <= {type(e) for e in seen}
    finals = [e for e in seen if isinstance(e, Text)]
    deltas = [e for e in seen[: seen.index(finals[0])] if isinstance(e, TextDelta)]
    assert "".join(d.text for d in deltas) == finals[0].text
    assert {c.id for c in seen if isinstance(c, ToolCall)} == {
        r.id for r in seen if isinstance(r, ToolResult)
    }
    assert (await session.state()).draft.is_ready  # the turn's work is in the session
    async with nemo.sessions.stream(session.id, "Add a title 'Tea' for 1 second") as events:
        texts = [e.text async for e in events if isinstance(e, Text)]
    assert texts
    assert (await nemo.state.latest(session.id)).session_id == session.id
    assert messages_sent(emulator) == [GENERATE, "Add a title 'Tea' for 1 second"]


async def test_a_silent_edit_is_described_from_what_changed(
    nemo: nemovideo.NemoClient, emulator: Emulator
) -> None:
    session = await nemo.sessions.create()
    await session.send(GENERATE)
    emulator.configure(silent_share=1.0)
    reply = await session.send("Set the music volume to 20%")
    assert reply.silent
    assert reply.raw_text is None
    assert reply.tool_calls
    assert reply.text == "music Lo-fi: volume 35% → 20%."

    reply = await session.send("把标题去掉，音乐调到10%")  # a Chinese message is told in Chinese
    assert reply.silent
    assert reply.text == (
        '时间线：标题从"Tea brewed slowly"改为无；音乐 Lo-fi：音量从20%改为10%；'
        '去掉了标题轨道（Title: "Tea brewed slowly" (0-3s)）。'
    )


async def test_upload_files(nemo: nemovideo.NemoClient, emulator: Emulator, tmp_path: Path, api: str) -> None:
    session = await nemo.sessions.create()
    (tmp_path / "logo.png").write_bytes(png(16, 12))
    clip = mp4_like(tmp_path / "clip.mp4", 256 * 1024)
    progress: list[tuple[int, int]] = []
    logo, video = await session.upload(
        tmp_path / "logo.png", clip, on_progress=lambda sent, total: progress.append((sent, total))
    )
    assert (logo.filename, logo.file_type, logo.width, logo.height) == ("logo.png", "image", 16, 12)
    assert (video.filename, video.file_type) == ("clip.mp4", "video")
    assert progress[-1][0] == progress[-1][1] > 256 * 1024
    assert [s for s, _ in progress] == sorted(s for s, _ in progress)
    assert logo.cdn_url is not None
    if api == "gateway":  # one request a file; no upload from URLs there
        with pytest.raises(UnsupportedOnThisAPI, match="skill API only"):
            await nemo.uploads.from_urls(session.id, [logo.cdn_url])
        assert requests_to(emulator, "upload") == 2
        assert [m.filename for m in (await session.state()).video_infos] == ["logo.png", "clip.mp4"]
        return
    [again] = await nemo.uploads.from_urls(session.id, [logo.cdn_url])
    assert again.hash == logo.hash
    with pytest.raises(ValueError, match="not an http"):
        await nemo.uploads.from_urls(session.id, ["ftp://example.com/a.mp4"])
    assert requests_to(emulator, "upload") == 2
    state = await session.state()
    assert [m.filename for m in state.video_infos] == ["logo.png", "clip.mp4", "logo.png"]


async def test_export_an_mp4_and_probe_it(
    nemo: nemovideo.NemoClient, emulator: Emulator, tmp_path: Path, api: str
) -> None:
    session = await nemo.sessions.create()
    await session.send(GENERATE)
    seen: list[RenderJob] = []
    video = await session.export(
        "draft", on_progress=seen.append, poll_interval=0.05, download_to=tmp_path / "tea.mp4"
    )
    assert video.path == tmp_path / "tea.mp4"
    assert video.job.status is RenderStatus.COMPLETED
    assert re.fullmatch(r"render_[0-9a-f]{32}" if api == "skill" else r"render_\d{13}", video.id)
    assert seen[-1].status is RenderStatus.COMPLETED
    assert [j.progress for j in seen] == sorted(j.progress for j in seen)
    codecs, duration = probe(tmp_path / "tea.mp4")
    assert codecs == {"video": "h264", "audio": "aac"}
    assert duration == pytest.approx(3.0, abs=0.15)
    assert video.duration == pytest.approx(duration, abs=0.05)
    again = await video.download(tmp_path / "again.mp4")
    assert again.read_bytes() == (tmp_path / "tea.mp4").read_bytes()
    cdn = [e for e in emulator.log if e.origin == "cdn"]
    assert len(cdn) == 2
    assert not any(e.has_authorization or any(h.startswith("x-skill-") for h in e.headers) for e in cdn)
    assert [e.render_id for e in emulator.log if e.endpoint == twin(api, "render_start")] == [video.id]


async def test_credits_before_and_after(
    nemo: nemovideo.NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    before = await nemo.credits.balance()
    assert (before.available, before.total) == (10_000, 10_000)
    session = await nemo.sessions.create()
    reply = await session.send(GENERATE)
    after = await nemo.credits.balance()
    assert reply.credits_spent == before.available - after.available == 100
    await session.export("draft", poll_interval=0.05, download_to=tmp_path / "free.mp4")
    assert (await nemo.credits.balance()).available == after.available  # export is free


async def test_resume_a_render_by_its_id(connect: Connect, emulator: Emulator, tmp_path: Path) -> None:
    emulator.configure(job_progression="manual")
    async with connect() as first:
        session = await first.sessions.create()
        job = await first.render.start(session.id, tiny_draft(), quality="draft")
        assert job.status is RenderStatus.PENDING
        saved = job.id
    emulator.step_render(saved)
    emulator.step_render(saved)  # it renders on while no client is waiting
    async with connect() as later:  # another process, say, holding only the id
        done = await later.render.wait(saved, poll_interval=0.05)
        path = await later.render.download(saved, tmp_path / "resumed.mp4")
    assert done.id == saved
    assert done.status is RenderStatus.COMPLETED
    assert probe(path)[1] == pytest.approx(2.0, abs=0.15)
    assert list(emulator.ctx.store.renders) == [saved]  # resumed, not started again


async def test_no_credits_left(nemo: nemovideo.NemoClient, emulator: Emulator, api: str) -> None:
    emulator.configure(credits=50)
    session = await nemo.sessions.create()
    with pytest.raises(InsufficientCreditsError) as raised:
        await session.send(GENERATE)
    assert raised.value.code == 2001
    if api == "skill":  # an anonymous user is offered to register
        assert raised.value.registration_url
        assert raised.value.registration_url.startswith(f"{nemo.config.web_url}/register?bind=anon_")
    else:
        assert raised.value.registration_url is None
        assert "dashboard/billing" in str(raised.value)
    assert messages_sent(emulator) == [GENERATE]  # refused once, not retried
    assert (await nemo.credits.balance()).available == 50


async def test_an_unsupported_file_is_refused_before_it_is_sent(
    nemo: nemovideo.NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    session = await nemo.sessions.create()
    (tmp_path / "notes.txt").write_text("not media")
    (tmp_path / "fake.mp4").write_bytes(png())
    with pytest.raises(UnsupportedFileError, match=r"'\.txt' is not an accepted") as raised:
        await session.upload(tmp_path / "notes.txt")
    assert raised.value.hint
    with pytest.raises(UnsupportedFileError, match="content is not mp4"):
        await session.upload(tmp_path / "fake.mp4")
    assert requests_to(emulator, "upload") == 0


async def test_an_existing_target_is_kept(
    nemo: nemovideo.NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    session = await nemo.sessions.create()
    await session.send(GENERATE, track_credits=False)
    target = tmp_path / "mine.mp4"
    target.write_bytes(b"precious")
    emulator.clear_log()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        await session.export("draft", download_to=target)
    assert emulator.log == []  # nothing rendered, nothing read
    video = await session.export("draft", poll_interval=0.05)
    assert video.duration == pytest.approx(session.draft.duration_ms / 1000, abs=0.15)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        await video.download(target)
    assert target.read_bytes() == b"precious"
    await video.download(target, overwrite=True)
    assert target.read_bytes()[4:8] == b"ftyp"
    assert files_in(tmp_path) == ["mine.mp4"]  # and no partial file


async def test_each_variant_runs_its_own_client(nemo: nemovideo.NemoClient, client_kind: str) -> None:
    """The sync variant drives a real ``SyncNemoClient``, whose sessions are ``SyncSession``."""
    session = await nemo.sessions.create()
    client, made = getattr(nemo, "_target", nemo), getattr(session, "_target", session)
    if client_kind == "sync":
        assert (type(client), type(made)) == (SyncNemoClient, SyncSession)
    else:
        assert (type(client), type(made)) == (nemovideo.NemoClient, nemovideo.Session)
