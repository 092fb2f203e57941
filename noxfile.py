"""Developer sessions: `nox` runs lint, typecheck, tests and docs; `nox -s fuzz` runs the long fuzzing."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "typecheck", "tests", "docs"]
nox.options.error_on_missing_interpreters = True

PYTHON = "3.11"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The suite, every async test on asyncio and on trio (the ``anyio_backend`` fixture)."""
    session.install("-e", ".[dev]")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def fuzz(session: nox.Session) -> None:
    """The parsers under 10,000 hypothesis examples per target (the normal suite runs a short profile)."""
    session.install("-e", ".[dev]")
    session.run("pytest", "tests/fuzz", *session.posargs, env={"HYPOTHESIS_PROFILE": "fuzz"})


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", "src", "tests")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    session.install("-e", ".", "mkdocs-material", "mkdocstrings[python]")
    session.run("mkdocs", "build", "--strict", "--site-dir", "site", env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Every benchmark, one run, written to benchmarks/RESULTS.md (needs curl; several minutes)."""
    session.install("-e", ".[dev]")
    session.run("python", "benchmarks/run_all.py", *session.posargs)
