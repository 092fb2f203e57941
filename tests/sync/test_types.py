"""Every public method of the sync client returns exactly what its annotation says (``mypy --strict``
checks the ``assert_type`` lines; running them checks the values are real)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from typing_extensions import assert_type

import nemovideo
from nemovideo import SyncEventStream, SyncNemoClient, SyncSession, SyncVideo
from nemovideo.emulator import Emulator

from ..sdk._media import png, tiny_draft
from ..sdk.conftest import GATEWAY_KEY


def test_results_have_the_annotated_types(nemo: SyncNemoClient, emulator: Emulator, tmp_path: Path) -> None:
    emulator.configure(job_progression="immediate")
    assert_type(nemo.config, nemovideo.Config)
    assert isinstance(assert_type(nemo.credits.balance(), nemovideo.Credits), nemovideo.Credits)
    assert isinstance(assert_type(nemo.with_options(max_retries=1), SyncNemoClient), SyncNemoClient)

    session = assert_type(nemo.sessions.create(language="en"), SyncSession)
    again = assert_type(nemo.sessions.get(session.id, task_id=session.task_id), SyncSession)
    assert again.id == assert_type(session.id, str)
    assert_type(session.info, nemovideo.SessionInfo)
    assert_type(session.task_id, str | None)
    assert_type(session.user_id, str | None)
    assert assert_type(session.project_url, str | None)
    assert isinstance(assert_type(session.state(), nemovideo.State), nemovideo.State)
    assert isinstance(assert_type(nemo.state.latest(session.id), nemovideo.State), nemovideo.State)

    uploaded = assert_type(session.upload(("logo.png", png())), list[nemovideo.UploadedFile])
    more = assert_type(nemo.uploads.upload(session.id, ("b.png", png())), list[nemovideo.UploadedFile])
    assert len(uploaded) == len(more) == 1

    reply = assert_type(session.send("Generate a 3-second video about tea"), nemovideo.Reply)
    assert isinstance(assert_type(session.draft, nemovideo.Draft), nemovideo.Draft)
    assert reply.changes

    context = assert_type(
        session.stream("Add a title 'Tea' for 1 second"), AbstractContextManager[SyncEventStream]
    )
    with context as events:
        first = assert_type(next(events), nemovideo.Event)
        assert isinstance(first, nemovideo.Event.__args__)
        events.close()
        assert assert_type(events.events_received, int) == 1
    with nemo.sessions.stream(session.id, "Add a title 'Hot' for 1 second") as events:
        assert all(isinstance(e, nemovideo.Event.__args__) for e in events)

    video = assert_type(session.export(), SyncVideo)
    assert_type(video.job, nemovideo.RenderJob)
    assert_type(video.id, str)
    assert assert_type(video.url, str | None)
    assert_type(video.duration, float | None)
    assert assert_type(video.path, Path | None) is None
    saved = assert_type(video.download(tmp_path / "a.mp4"), Path)
    assert video.path == saved
    assert saved.stat().st_size > 1000
    assert "<video" in (video._repr_html_() or "")

    job = assert_type(nemo.render.start(session.id, tiny_draft()), nemovideo.RenderJob)
    assert assert_type(nemo.render.get(job.id), nemovideo.RenderJob).id == job.id
    done = assert_type(nemo.render.wait(job.id, poll_interval=0.05), nemovideo.RenderJob)
    path = assert_type(nemo.render.download(done, tmp_path / "b.mp4"), Path)
    assert path.is_file()
    other = assert_type(nemo.render.export(session.id, tiny_draft(), quality="draft"), SyncVideo)
    assert other.id != job.id
    emulator.configure(job_progression="manual")
    pending = nemo.render.start(session.id, tiny_draft())
    assert assert_type(nemo.render.cancel(pending.id), nemovideo.RenderJob).cancelled
    assert video.url is not None
    fetched = assert_type(nemo.uploads.from_urls(session.id, [video.url]), list[nemovideo.UploadedFile])
    assert len(fetched) == 1
    assert_type(nemo.close(), None)


def test_gateway_members_have_the_annotated_types(emulator: Emulator, tmp_path: Path) -> None:
    """What the gateway added: projects, the usage history, cancelling a turn, sessions by project."""
    with SyncNemoClient(api_url=emulator.url, config_dir=tmp_path / "gw", api_key=GATEWAY_KEY) as nemo:
        project = assert_type(nemo.projects.create(name="Tea"), nemovideo.Project)
        assert project.session is not None
        listed = assert_type(nemo.projects.list(), list[nemovideo.Project])
        assert [p.project_id for p in listed] == [project.project_id]
        assert assert_type(nemo.projects.get(project.project_id), nemovideo.Project).name == "Tea"
        [held] = assert_type(nemo.projects.sessions(project.project_id), list[nemovideo.ProjectSession])
        session = assert_type(nemo.sessions.get(held.session_id, project_id=project.project_id), SyncSession)
        assert assert_type(session.project_id, str | None) == project.project_id
        reply = session.send("Generate a 3-second video about tea")
        assert reply.credits_spent == 100
        assert assert_type(session.cancel(), bool) is False  # no turn of this client runs
        assert_type(nemo.sessions.cancel(session.id), bool)
        history = assert_type(nemo.credits.history(page_size=1), Iterator[nemovideo.UsageRecord])
        records = list(history)
        assert [r.kind for r in records] == ["conversation", "grant"]  # newest first
        assert assert_type(records[0].amount, int) == -100
        assert_type(records[0].project_id, str | None)
        assert records[0].project_id == project.project_id
