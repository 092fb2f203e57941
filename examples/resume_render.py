"""Resuming a render after a restart: a render job lives on the server, so its id is all you need.

    python examples/resume_render.py start  --id-file render.json   # generate, start a render, exit
    python examples/resume_render.py resume --id-file render.json   # later, in a new process: wait, download
    python examples/resume_render.py --emulator                     # both steps, each in its own process

The first program starts the render and saves the job's id, then stops without waiting (a crash, a
deploy, a laptop lid). The second, a new process with a new client, picks the job up by id with
``nemo.render.wait(render_id)`` and downloads the MP4. With ``--emulator`` this script starts an emulator,
then runs both steps as separate processes against it, sharing only the id file (and the config directory,
so both are the same anonymous user).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Literal

import anyio
from _connect import emulator_settings

import nemovideo

PROMPT = "Generate a 5-second video from this script: Start once. Resume anywhere."


async def start(id_file: Path, quality: Literal["high", "medium", "draft"]) -> None:
    async with nemovideo.NemoClient() as nemo:
        session = await nemo.sessions.create(language="en")
        reply = await session.send(PROMPT)
        print(f"[start] {reply.text}")
        job = await nemo.render.start(session.id, session.draft, quality)
        await anyio.Path(id_file).write_text(json.dumps({"render_id": job.id, "session_id": session.id}))
        print(
            f"[start] render {job.id} is {job.status.value}; id saved to {id_file}; exiting without waiting"
        )


async def resume(id_file: Path, output: Path) -> None:
    saved = json.loads(await anyio.Path(id_file).read_text())
    async with nemovideo.NemoClient() as nemo:  # a new process, a new client: only the id is shared
        print(f"[resume] waiting for render {saved['render_id']}")
        job = await nemo.render.wait(
            saved["render_id"], on_progress=lambda j: print(f"[resume] {j.progress:.0f}% ({j.status.value})")
        )
        path = await nemo.render.download(job, output, overwrite=True)
        print(f"[resume] saved {path} ({path.stat().st_size:,} bytes)")


def both_against_an_emulator(id_file: Path, output: Path, quality: str) -> int:
    from nemovideo.emulator import Emulator

    with Emulator(**emulator_settings()) as emu, tempfile.TemporaryDirectory() as config_dir:
        env = {k: v for k, v in os.environ.items() if k != "NEMO_TOKEN"}
        env.update(NEMO_API_URL=emu.url, NEMO_CONFIG_DIR=config_dir)
        script = [sys.executable, __file__]
        for step in (
            ["start", "--id-file", str(id_file), "--quality", quality],
            ["resume", "--id-file", str(id_file), "-o", str(output)],
        ):
            done = subprocess.run([*script, *step], env=env, check=False)
            if done.returncode:
                return done.returncode
    return 0


if __name__ == "__main__":
    import argparse

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "step", nargs="?", choices=("start", "resume"), help="one step (default: both, with --emulator)"
    )
    p.add_argument("--emulator", action="store_true", help="run both steps against a local emulator")
    p.add_argument("--id-file", type=Path, default=Path("render.json"), help="where the render id is kept")
    p.add_argument("-o", "--output", type=Path, default=Path("resumed.mp4"), help="where to save the MP4")
    p.add_argument("--quality", choices=("high", "medium", "draft"), default="high", help="render quality")
    ns = p.parse_args()
    if ns.step == "start":
        anyio.run(start, ns.id_file, ns.quality)
    elif ns.step == "resume":
        anyio.run(resume, ns.id_file, ns.output)
    elif ns.emulator:
        sys.exit(both_against_an_emulator(ns.id_file, ns.output, ns.quality))
    else:
        p.error("choose a step (start or resume), or --emulator to run both")
