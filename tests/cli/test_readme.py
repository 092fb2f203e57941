"""The README's two commands: the first makes a real MP4 in a fresh virtual environment; the second is
exactly what CI runs (running it here would run this suite inside itself)."""

from __future__ import annotations

import importlib
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ._probe import probe

ROOT = Path(__file__).parents[2]


def readme_commands() -> list[str]:
    """The bash blocks of the README's "On a fresh machine" section, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## On a fresh machine", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, re.S)]


def find_uv() -> str | None:
    found = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if found:
        return found
    try:
        uv: Any = importlib.import_module("uv")  # the uv package, when pip installed it beside nox
    except ImportError:
        return None
    return str(uv.find_uv_bin())


def test_the_readme_has_two_commands() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    assert all("\n" not in command for command in commands)


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == readme_commands()[1]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_readme_main_command_makes_an_mp4_in_a_fresh_environment(tmp_path: Path) -> None:
    """A new virtual environment gets the package as the README installs it (with uv instead of pip, for
    speed; same requirement string), then the rest of the command runs there, from an empty directory."""
    uv = find_uv()
    if uv is None:
        pytest.skip("uv is not installed, so a fresh environment cannot be made quickly")
    install, _, run = readme_commands()[0].partition(" && ")
    requirement = shlex.split(install)[-1]
    assert install == f'python3 -m pip install -e "{requirement}"'
    assert requirement.startswith(".[")

    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "NEMO_", "PYTHONPATH"))}
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, env=env)
    subprocess.run(
        [uv, "pip", "install", "--quiet", "-p", str(venv / "bin" / "python"), "-e", requirement],
        cwd=ROOT,
        check=True,
        env=env,
        timeout=300,
    )
    work = tmp_path / "work"
    work.mkdir()
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", NEMO_CONFIG_DIR=str(tmp_path / "config")
    )
    done = subprocess.run(
        run, shell=True, cwd=work, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = shlex.split(run)[shlex.split(run).index("-o") + 1]
    assert re.search(rf"Saved {re.escape(out)} · 10 s · [\d.]+ KB · \d+ credits left", done.stdout)
    video = probe(work / out)
    assert abs(video.duration - 10) < 0.5
    assert video.audio
    assert not (tmp_path / "config").exists()  # the emulator's token went to a temporary directory
