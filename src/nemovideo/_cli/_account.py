"""``nemovideo login``/``logout`` (an API key stored for the gateway), ``projects`` and ``usage``.

The key is checked against the gateway (a balance read) before it is stored, 0600 in the config directory,
where the client reads it when no token or key is given (docs/which-api.md has the order).
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from .._client import NemoClient
from .._config import API_KEY_FILE, Config
from .._errors import ConfigurationError
from ._options import READ_TIMEOUT, JsonOpt, TimeoutOpt

KEY_PREFIX = "nmv_usr_"

ApiKeyOpt = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        metavar="KEY",
        help="The API key (nmv_usr_...) from the dashboard; else read from standard input or asked for.",
        show_default=False,
    ),
]
FromOpt = Annotated[
    dt.datetime | None,
    typer.Option("--from", metavar="YYYY-MM-DD", formats=["%Y-%m-%d"], help="The first day, inclusive."),
]
ToOpt = Annotated[
    dt.datetime | None,
    typer.Option("--to", metavar="YYYY-MM-DD", formats=["%Y-%m-%d"], help="The last day, inclusive."),
]


def _key_file() -> Path:
    return Config.resolve().config_dir / API_KEY_FILE


def _store(path: Path, key: str) -> None:
    """Written to a private temporary file beside the target, then renamed: never a half-written key."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".api_key.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(key + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_key(given: str | None) -> str:
    if given is not None:
        return given.strip()
    if not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    return getpass.getpass("API key (nmv_usr_..., from the dashboard): ").strip()


def login(api_key: ApiKeyOpt = None, timeout: TimeoutOpt = READ_TIMEOUT, as_json: JsonOpt = False) -> None:
    """Store an API key for the gateway, after checking that the gateway accepts it."""
    from ._app import out, run, timeout_of

    key = _read_key(api_key)
    path = _key_file()

    async def job() -> dict[str, Any]:
        if not key.startswith(KEY_PREFIX) or len(key) <= len(KEY_PREFIX):
            raise ConfigurationError(
                f"that is not an API key: keys start with {KEY_PREFIX} (copy it from the dashboard)"
            )
        async with NemoClient(api_key=key, timeout=timeout_of(timeout)) as nemo:
            balance = await nemo.credits.balance()
        _store(path, key)
        if not as_json:
            out.print(f"Logged in; the key is stored in {path} · {balance}", highlight=False)
        return {"stored": str(path), "credits": balance.model_dump()}

    run(job, as_json=as_json)


def logout(as_json: JsonOpt = False) -> None:
    """Remove the stored API key (a key in NEMO_API_KEY stays in effect)."""
    from ._app import out, run

    path = _key_file()

    async def job() -> dict[str, Any]:
        existed = path.exists()
        path.unlink(missing_ok=True)
        if not as_json:
            out.print(f"Removed {path}" if existed else "No stored API key.", highlight=False)
        return {"removed": existed, "path": str(path)}

    run(job, as_json=as_json)


def projects(timeout: TimeoutOpt = READ_TIMEOUT, as_json: JsonOpt = False) -> None:
    """List your projects on the gateway (needs an API key: nemovideo login)."""
    from rich.table import Table

    from ._app import out, run, timeout_of

    async def job() -> dict[str, Any]:
        async with NemoClient(timeout=timeout_of(timeout)) as nemo:
            found = await nemo.projects.list()
        if not as_json:
            table = Table("project", "name", "created")
            for project in found:
                table.add_row(project.project_id, project.name or "", project.created_at or "")
            out.print(table if found else "No projects yet.")
        return {"projects": [p.model_dump(mode="json") for p in found]}

    run(job, as_json=as_json)


def usage(
    since: FromOpt = None,
    until: ToOpt = None,
    timeout: TimeoutOpt = READ_TIMEOUT,
    as_json: JsonOpt = False,
) -> None:
    """What was charged and granted, newest first (gateway: needs an API key)."""
    from rich.table import Table

    from ._app import out, run, timeout_of

    async def job() -> dict[str, Any]:
        records = []
        async with NemoClient(timeout=timeout_of(timeout)) as nemo:
            start = since.date() if since else None
            end = until.date() if until else None
            async for record in nemo.credits.history(start=start, end=end):
                records.append(record)
        if not as_json:
            table = Table("when", "kind", "credits", "what")
            for record in records:
                when = record.when.strftime("%Y-%m-%d %H:%M") if record.when else ""
                table.add_row(when, record.kind, f"{record.amount:+d}", record.summary())
            out.print(table if records else "No usage in that range.")
        return {"records": [r.model_dump(mode="json") for r in records]}

    run(job, as_json=as_json)
