"""``login``/``logout``, ``projects`` and ``usage`` against the emulator's gateway (``NEMO_GATEWAY_URL``)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import anyio
import pytest
from typer.testing import CliRunner

from nemovideo import NemoClient
from nemovideo._cli._app import app
from nemovideo.emulator import Emulator

runner = CliRunner()


@pytest.fixture
def gateway(api: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    monkeypatch.setenv("NEMO_GATEWAY_URL", api.url)
    api.configure(gateway_strict_keys=True)
    return api


def key_file() -> Path:
    return Path(os.environ["NEMO_CONFIG_DIR"]) / "api_key"


def test_login_checks_and_stores_the_key_then_logout_removes_it(gateway: Emulator) -> None:
    key = gateway.add_api_key(credits=700)
    done = runner.invoke(app, ["login", "--api-key", key])
    assert done.exit_code == 0, done.stdout + done.stderr
    assert "Logged in" in done.stdout
    assert key not in done.stdout + done.stderr
    assert key_file().read_text().strip() == key
    assert stat.S_IMODE(key_file().stat().st_mode) == 0o600
    assert NemoClient().config.api == "gateway"  # the stored key is picked up

    out = runner.invoke(app, ["logout"])
    assert out.exit_code == 0
    assert not key_file().exists()
    assert NemoClient().config.api == "skill"


def test_a_refused_or_malformed_key_is_not_stored(gateway: Emulator) -> None:
    refused = runner.invoke(app, ["login"], input="nmv_usr_never_registered_123\n")
    assert refused.exit_code == 4
    assert "nmv_usr_never_registered_123" not in refused.stdout + refused.stderr
    malformed = runner.invoke(app, ["login", "--api-key", "sk-not-ours"])
    assert malformed.exit_code == 3
    assert "nmv_usr_" in malformed.stderr
    assert not key_file().exists()
    assert not [e for e in gateway.log if e.endpoint == "gw_balance" and e.status == 200]


def test_projects_and_usage_list_what_the_gateway_recorded(
    gateway: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key = gateway.add_api_key(credits=700)
    monkeypatch.setenv("NEMO_API_KEY", key)
    waited: list[float] = []

    async def quick(seconds: float) -> None:  # the gateway's render polls are 30 s apart: not in a test
        waited.append(seconds)
        await anyio.sleep(0.05)

    monkeypatch.setattr("nemovideo.resources.render._sleep", quick)
    made = runner.invoke(
        app, ["generate", "A 2-second video about rain", "-q", "draft", "-o", str(tmp_path / "rain.mp4")]
    )
    assert made.exit_code == 0, made.stdout + made.stderr
    assert set(waited) == {30.0}  # the export polled at the gateway's cadence
    listed = json.loads(runner.invoke(app, ["projects", "--json"]).stdout)
    assert len(listed["projects"]) == 1
    table = runner.invoke(app, ["projects"])
    assert listed["projects"][0]["project_id"] in table.stdout
    usage = json.loads(runner.invoke(app, ["usage", "--json"]).stdout)
    kinds = [r["kind"] for r in usage["records"]]
    assert "conversation" in kinds
    assert sum(r["amount"] for r in usage["records"] if r["kind"] == "conversation") < 0
    none = runner.invoke(app, ["usage", "--from", "2001-01-01", "--to", "2001-01-02"])
    assert none.exit_code == 0
    assert "No usage in that range." in none.stdout


def test_projects_on_the_skill_api_say_which_api_has_them(api: Emulator) -> None:
    done = runner.invoke(app, ["projects"])
    assert done.exit_code == 3
    assert "gateway" in done.stderr
    assert "NEMO_API_KEY" in done.stderr
