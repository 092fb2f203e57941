"""Developer sessions: `nox` runs lint, typecheck, tests and docs; `nox -s fuzz` runs the long fuzzing.

The tests run once on each Python of 3.10 to 3.13 found working on PATH (a pyenv shim of an inactive
version is not one), the other sessions once, on the Python running nox when it is one of those. A missing
version is skipped, never an error, and nothing is downloaded.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "typecheck", "tests", "docs"]
nox.options.error_on_missing_interpreters = False

SUPPORTED = ("3.10", "3.11", "3.12", "3.13")
RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"


def _working(version: str) -> str | None:
    """The path of a Python ``version`` that runs, or None."""
    if version == RUNNING:
        return sys.executable
    found = shutil.which(f"python{version}")
    if found is None:
        return None
    try:
        done = subprocess.run(
            [found, "-c", "import sys; print(sys.executable)"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


PRESENT = {version: path for version in SUPPORTED if (path := _working(version))}
"""Version -> interpreter path, for each supported Python on this machine."""
MAIN = PRESENT.get(RUNNING) or next(reversed(PRESENT.values()), sys.executable)
"""One interpreter for the sessions that need one run: nox's own when supported, else the newest present."""


@nox.session
@nox.parametrize("python", list(PRESENT.values()) or [MAIN], ids=list(PRESENT) or [RUNNING])
def tests(session: nox.Session) -> None:
    """The suite, every async test on asyncio and on trio (the ``anyio_backend`` fixture)."""
    session.install("-e", ".[dev]")
    session.run("pytest", *session.posargs)


@nox.session(python=MAIN)
def fuzz(session: nox.Session) -> None:
    """The parsers under 10,000 hypothesis examples per target (the normal suite runs a short profile)."""
    session.install("-e", ".[dev]")
    session.run("pytest", "tests/fuzz", *session.posargs, env={"HYPOTHESIS_PROFILE": "fuzz"})


@nox.session(python=MAIN)
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=MAIN)
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", "src", "tests")


@nox.session(python=MAIN)
def docs(session: nox.Session) -> None:
    session.install("-e", ".", "mkdocs-material", "mkdocstrings[python]", "ruff")  # ruff lays out signatures
    session.run("mkdocs", "build", "--strict", "--site-dir", "site", env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session(python=MAIN)
def bench(session: nox.Session) -> None:
    """Every benchmark, one run, written to benchmarks/RESULTS.md (needs curl; several minutes)."""
    session.install("-e", ".[dev]")
    session.run("python", "benchmarks/run_all.py", *session.posargs)
