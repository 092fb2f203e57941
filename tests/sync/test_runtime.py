"""Where the sync client runs: threads with a running event loop, a Jupyter kernel, many threads at once,
a forked child; how it ends (close, ``with``, garbage collection, interpreter exit); and which thread runs
the hooks."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import traceback
import warnings
from pathlib import Path
from typing import Any

import anyio
import pytest
import sniffio

import nemovideo
from nemovideo import SyncNemoClient
from nemovideo._sync import THREAD_NAME
from nemovideo.emulator import Emulator

from ..sdk._media import png, tiny_draft
from .conftest import loop_threads, threads_left


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_inside_a_running_event_loop(nemo: SyncNemoClient, backend: str) -> None:
    """A sync call from a coroutine blocks that loop, but works: the client's loop is another thread's."""

    async def main() -> tuple[str, int]:
        return sniffio.current_async_library(), nemo.credits.balance().total

    assert anyio.run(main, backend=backend) == (backend, 10_000)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_in_a_jupyter_kernel(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    monkeypatch.setenv("NEMO_API_URL", emulator.url)
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    cells = [
        "import asyncio\nprint('loop running:', asyncio.get_event_loop().is_running())",
        "import nemovideo\nnemo = nemovideo.SyncNemoClient()\nsession = nemo.sessions.create()\n"
        "print('balance:', nemo.credits.balance().total, session.state().draft.is_ready)",
        "nemo.close()\nimport threading\nprint('threads:', [t.name for t in threading.enumerate() "
        f"if t.name == {THREAD_NAME!r}])",
    ]
    notebook: Any = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = nbclient.NotebookClient(
        notebook, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    printed = ["".join(o.get("text", "") for o in cell.outputs).strip() for cell in notebook.cells]
    assert printed == ["loop running: True", "balance: 10000 False", "threads: []"]


def test_from_several_threads_at_once(nemo: SyncNemoClient) -> None:
    results: dict[int, tuple[str, int]] = {}
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            session = nemo.sessions.create(task_name=f"t{n}")
            results[n] = (session.id, nemo.credits.balance().total)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len({session_id for session_id, _ in results.values()}) == 8
    assert {total for _, total in results.values()} == {10_000}
    assert len(loop_threads()) == 1


def test_hooks_run_in_the_calling_thread(nemo: SyncNemoClient, emulator: Emulator, tmp_path: Path) -> None:
    """Every ``on_*`` hook runs in the thread that made the call (here not the main one), in order."""
    emulator.configure(job_progression="immediate")
    (tmp_path / "logo.png").write_bytes(png())
    seen: dict[str, set[int]] = {}
    progress: list[float] = []

    def hook(name: str) -> Any:
        return lambda *args: seen.setdefault(name, set()).add(threading.get_ident())

    def work() -> None:
        session = nemo.sessions.create()
        session.upload(tmp_path / "logo.png", on_progress=hook("upload"))
        session.send("Generate a 3-second video about tea", on_event=hook("event"))
        video = session.export(on_progress=lambda job: progress.append(job.progress), poll_interval=0.05)
        video.download(tmp_path / "out.mp4", on_progress=hook("download"))
        with session.stream("Add a title 'Tea' for 1 second") as events:
            for _ in events:
                seen.setdefault("stream", set()).add(threading.get_ident())
        seen["caller"] = {threading.get_ident()}

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(60)
    assert set(seen) == {"upload", "event", "download", "stream", "caller"}
    assert {ident for idents in seen.values() for ident in idents} == seen["caller"]
    assert progress
    assert progress[-1] == 100
    assert (tmp_path / "out.mp4").stat().st_size > 1000


def test_a_hook_that_raises_stops_the_call(nemo: SyncNemoClient, emulator: Emulator) -> None:
    emulator.configure(job_progression="manual")
    session = nemo.sessions.create()

    def stop(job: nemovideo.RenderJob) -> None:
        raise ValueError(f"seen {job.status.value}")

    job = nemo.render.start(session.id, tiny_draft())
    with pytest.raises(ValueError, match="seen pending"):
        nemo.render.wait(job.id, on_progress=stop, poll_interval=0.05)
    assert nemo.render.get(job.id).id == job.id  # the loop is fine afterwards


def test_close_and_with_stop_the_loop_thread(emulator: Emulator, tmp_path: Path) -> None:
    before = set(threading.enumerate())
    with SyncNemoClient(api_url=emulator.url, config_dir=tmp_path) as nemo:
        assert loop_threads() == []  # started on the first call, not before
        nemo.sessions.create().upload(("a.png", png()))  # a worker thread of the loop reads the file
        derived = nemo.with_options(max_retries=0)
        assert derived.credits.balance().total == 10_000
        derived.close()  # a derived client leaves the shared loop running
        assert len(loop_threads()) == 1
    assert threads_left(before) == []
    nemo.close()  # again: nothing to do
    with pytest.raises(RuntimeError, match="closed: make a new one"):
        nemo.credits.balance()

    other = SyncNemoClient(api_url=emulator.url, config_dir=tmp_path)
    other.credits.balance()
    del other
    gc.collect()  # a client dropped without close() stops its thread too
    assert threads_left(before) == []


def test_interpreter_exit_stops_the_loop_thread(emulator: Emulator, tmp_path: Path) -> None:
    """Nothing closes the client: at exit the pool is closed and the thread joined, before Python ends."""
    code = (
        "import atexit, threading\n"
        "atexit.register(lambda: print(sorted(t.name for t in threading.enumerate())))\n"  # runs last
        "import nemovideo\n"
        f"nemo = nemovideo.SyncNemoClient(api_url={emulator.url!r}, config_dir={str(tmp_path)!r})\n"
        "print(nemo.credits.balance().total, len([t for t in threading.enumerate() "
        f"if t.name == {THREAD_NAME!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["10000 1", "['MainThread']"]
    assert done.stderr == ""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX")
def test_a_forked_child_gets_a_fresh_loop(nemo: SyncNemoClient) -> None:
    parent_session = nemo.sessions.create()  # the loop runs before the fork
    assert len(loop_threads()) == 1
    read, write = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # forking with threads (3.12+)
        pid = os.fork()
    if pid == 0:  # the child: report, and leave without running the parent's cleanup
        code = 1
        try:
            os.close(read)
            child = nemo.sessions.create()
            loops = loop_threads()
            try:
                parent_session.state()
                stale = "no error"
            except RuntimeError as exc:
                stale = str(exc)
            report = f"{child.id != parent_session.id} {len(loops)} {stale}"
            nemo.close()
            report += f" {len(loop_threads())}"
            os.write(write, report.encode())
            code = 0
        except BaseException:
            os.write(write, traceback.format_exc().encode())
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as pipe:
        report = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, report
    assert report.startswith("True 1 this SyncSession was made before os.fork()")
    assert report.endswith(" 0")
    assert parent_session.state().session_id == parent_session.id  # the parent's loop is untouched
