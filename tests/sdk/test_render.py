"""Export against the emulator: a playable MP4 end to end, one job per start, polling, cancel, deadlines,
resuming a job by its id."""

from __future__ import annotations

import json
import logging

import anyio
import httpx
import pytest

import nemovideo
from nemovideo import (
    Draft,
    DraftNotReadyError,
    RenderCancelledError,
    RenderFailedError,
    RenderJob,
    RenderStatus,
    RenderTimeoutError,
    UnsupportedOnThisAPI,
)
from nemovideo.emulator import Emulator
from nemovideo.resources import render as render_module

from ._media import session_id, tiny_draft
from .conftest import GATEWAY_KEY, requests_to, twin

pytestmark = pytest.mark.anyio


def jobs_in(emulator: Emulator) -> list[str]:
    return list(emulator.ctx.store.renders)


async def test_a_draft_that_is_not_ready_is_refused_before_sending(
    either: nemovideo.NemoClient, nemo_emulator: Emulator
) -> None:
    nemo = either
    with pytest.raises(DraftNotReadyError, match="nothing to export"):
        await nemo.render.start("1234567890123456789", {"t": [{"tt": 0, "sg": []}], "d": 0})
    with pytest.raises(DraftNotReadyError):
        await nemo.render.start("1234567890123456789", Draft())
    assert nemo_emulator.log == []
    session = await nemo.sessions.create()
    with pytest.raises(DraftNotReadyError):
        await session.export()
    assert requests_to(nemo_emulator, "render_start") == 0


class RecordStarts(httpx.AsyncHTTPTransport):
    """Keeps the id of every render start this client sends."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path in ("/api/render/proxy/lambda", "/services/v1/render-proxy/lambda"):
            self.ids.append(json.loads(request.content)["id"])
        return await super().handle_async_request(request)


@pytest.mark.parametrize("faults", [["status", "status"], ["status", "drop_after_headers"]])
async def test_a_failing_start_makes_one_job(
    nemo_emulator: Emulator, waits: list[float], faults: list[str], api: str
) -> None:
    """5xx answers and a lost answer (the job was made, the reply cut) before a success: one job."""
    nemo_emulator.configure(job_progression="manual")
    sent = RecordStarts()
    key = GATEWAY_KEY if api == "gateway" else None
    async with (
        httpx.AsyncClient(transport=sent) as http,
        nemovideo.NemoClient(api_url=nemo_emulator.url, http_client=http, api_key=key) as nemo,
    ):
        sid = await session_id(nemo)
        for kind in faults:
            nemo_emulator.faults.add(twin(api, "render_start"), kind)
        job = await nemo.render.start(sid, tiny_draft())
    starts = [e for e in nemo_emulator.log if e.endpoint == twin(api, "render_start")]
    assert len(starts) == 3
    assert sent.ids == [job.id] * 3
    assert [e.render_id for e in starts] == [job.id] * 3  # the server saw one id, three times
    assert jobs_in(nemo_emulator) == [job.id]
    assert job.status is RenderStatus.PENDING
    if "drop_after_headers" in faults:
        # the first attempt had landed: the skill API tells the retry "duplicate id" (and the job is read),
        # the gateway answers it with that job
        assert starts[-1].status == (409 if api == "skill" else 200)
        assert requests_to(nemo_emulator, "render_get") == (1 if api == "skill" else 0)


async def test_a_reused_id_is_explained(
    either: nemovideo.NemoClient, nemo_emulator: Emulator, api: str
) -> None:
    """The skill API refuses a reused id (the error says how to follow that job); the gateway answers it
    with the existing job."""
    nemo_emulator.configure(job_progression="manual")
    sid = await session_id(either)
    first = await either.render.start(sid, tiny_draft(), render_id="render_mine")
    if api == "gateway":
        again = await either.render.start(sid, tiny_draft(), render_id="render_mine")
        assert again.id == first.id == "render_mine"
        assert jobs_in(nemo_emulator) == ["render_mine"]
        return
    with pytest.raises(nemovideo.BadRequestError, match=r"nemo\.render\.wait\('render_mine'\)"):
        await either.render.start(sid, tiny_draft(), render_id="render_mine")


@pytest.mark.parametrize("shape", ["data", "output"])
async def test_both_poll_shapes_make_one_job(
    nemo: nemovideo.NemoClient, nemo_emulator: Emulator, shape: str
) -> None:
    nemo_emulator.configure(job_progression="immediate", poll_shape=shape)
    sid = await session_id(nemo)
    started = await nemo.render.start(sid, tiny_draft(), quality="draft")
    job = await nemo.render.get(started.id)
    assert job.id == started.id
    assert job.status is RenderStatus.COMPLETED
    assert job.progress == 100
    assert job.output_url == f"{nemo_emulator.cdn_url}/renders/{job.id}.mp4"
    if shape == "output":
        assert job.duration == pytest.approx(2.0, abs=0.1)
        assert job.size is not None
        assert job.size > 1000
    else:
        assert job.created_at is not None
        assert job.completed_at is not None
        assert job.completed_at >= job.created_at


def test_poll_shapes_parse_alike() -> None:
    data = RenderJob.model_validate(
        {
            "id": "render_1",
            "status": "completed",
            "progress": 100,
            "outputUrl": "https://cdn/x.mp4",
            "createdAt": 1_700_000_000_000,
            "completedAt": 1_700_000_030_500,
        }
    )
    output = RenderJob.model_validate(
        {
            "taskId": "render_1",
            "status": "completed",
            "progress": 100,
            "output": {"url": "https://cdn/x.mp4", "duration": 30.5, "size": 15728640},
        }
    )
    assert (data.id, data.status, data.output_url) == (output.id, output.status, output.output_url)
    assert data.created_at is not None
    assert data.completed_at is not None
    assert (data.completed_at - data.created_at).total_seconds() == 30.5
    assert (output.duration, output.size) == (30.5, 15728640)
    assert RenderJob.model_validate({"id": "r", "status": "queued"}).status.value == "queued"
    assert not RenderJob.model_validate({"id": "r", "status": "queued"}).done
    assert RenderJob.model_validate({"id": "r", "status": "failed", "error": "cancelled"}).cancelled


async def test_polling_cadence(
    either: nemovideo.NemoClient, nemo_emulator: Emulator, monkeypatch: pytest.MonkeyPatch, api: str
) -> None:
    """From 2 s growing to 15 s on the skill API; every 30 s on the gateway, as its CLI polls."""
    nemo_emulator.configure(job_progression="manual")
    sid = await session_id(either)
    job = await either.render.start(sid, tiny_draft())
    waited: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waited.append(seconds)
        if len(waited) == 8:
            while nemo_emulator.step_render(job.id) != "completed":
                pass

    monkeypatch.setattr(render_module, "_sleep", fake_sleep)
    done = await either.render.wait(job.id)
    assert done.status is RenderStatus.COMPLETED
    if api == "skill":
        assert waited == [2.0, 3.0, 4.5, 6.75, 10.125, 15.0, 15.0, 15.0]
    else:
        assert waited == [30.0] * 8


async def test_cancel_ends_a_wait_with_its_own_error(
    either: nemovideo.NemoClient, nemo_emulator: Emulator, api: str
) -> None:
    nemo = either
    nemo_emulator.configure(job_progression="manual")
    sid = await session_id(nemo)
    job = await nemo.render.start(sid, tiny_draft())
    if api == "gateway":  # it documents no render cancel: refused with nothing sent
        nemo_emulator.clear_log()
        with pytest.raises(UnsupportedOnThisAPI, match=r"render\.cancel\(\) exists on the skill API only"):
            await nemo.render.cancel(job.id)
        assert nemo_emulator.log == []
        return
    raised: list[BaseException] = []

    async def waiter() -> None:
        try:
            await nemo.render.wait(job.id, poll_interval=0.02)
        except RenderCancelledError as exc:
            raised.append(exc)

    async with anyio.create_task_group() as tg:
        tg.start_soon(waiter)
        await anyio.sleep(0.1)
        cancelled = await nemo.render.cancel(job.id)
    assert cancelled.cancelled
    [error] = raised
    assert isinstance(error, RenderCancelledError)
    assert error.render_id == job.id
    assert nemo_emulator.render_status(job.id)["status"] == "failed"


@pytest.mark.parametrize("cancel", [True, False])
async def test_deadline(
    either: nemovideo.NemoClient, nemo_emulator: Emulator, cancel: bool, api: str
) -> None:
    nemo = either
    nemo_emulator.configure(job_progression="manual")
    sid = await session_id(nemo)
    job = await nemo.render.start(sid, tiny_draft())
    with pytest.raises(RenderTimeoutError) as raised:
        await nemo.render.wait(job.id, poll_interval=0.02, deadline=0.2, cancel_on_timeout=cancel)
    assert raised.value.render_id == job.id
    status = nemo_emulator.render_status(job.id)
    if cancel and api == "gateway":  # no render cancel there: the job runs on, and the error says so
        assert raised.value.cancelled is False
        assert "cancelling it failed" in str(raised.value)
        assert status["status"] == "pending"
        return
    assert raised.value.cancelled is cancel
    if cancel:
        assert (status["status"], status.get("error")) == ("failed", "cancelled")
        assert "render_cancel" in [e.endpoint for e in nemo_emulator.log]
    else:
        assert status["status"] == "pending"
        assert f"nemo.render.wait('{job.id}')" in str(raised.value)
        assert "render_cancel" not in [e.endpoint for e in nemo_emulator.log]


async def test_poll_failures_are_retried(
    either: nemovideo.NemoClient, nemo_emulator: Emulator, waits: list[float], api: str
) -> None:
    nemo_emulator.configure(job_progression="immediate")
    sid = await session_id(either)
    job = await either.render.start(sid, tiny_draft(), quality="draft")
    nemo_emulator.faults.add(twin(api, "render_get"), "status", count=2, status=502)
    done = await either.render.wait(job.id)
    assert done.status is RenderStatus.COMPLETED
    assert requests_to(nemo_emulator, "render_get") == 3


async def test_a_failed_job_is_started_once_more_under_a_new_id(
    either: nemovideo.NemoClient, nemo_emulator: Emulator, caplog: pytest.LogCaptureFixture, api: str
) -> None:
    nemo_emulator.configure(job_progression="immediate")
    sid = await session_id(either)
    broken = tiny_draft(src="https://elsewhere.example/clip.mp4")  # not on the emulator's CDN: fails
    with caplog.at_level(logging.INFO, logger="nemovideo"), pytest.raises(RenderFailedError) as raised:
        await either.render.export(sid, broken, poll_interval=0.02)
    starts = [str(e.render_id) for e in nemo_emulator.log if e.endpoint == twin(api, "render_start")]
    assert len(starts) == 2
    assert len(set(starts)) == 2
    assert raised.value.render_id == starts[1]
    assert "media not found" in str(raised.value)
    assert any(
        r.levelno == logging.INFO and starts[0] in r.getMessage() and "new id" in r.getMessage()
        for r in caplog.records
    )
