"""Settings resolution and the token store on disk."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from nemovideo import ConfigurationError, NemoClient
from nemovideo._auth import AnonymousToken, TokenStore
from nemovideo._config import DEFAULT_API_URL, Config, Secret


def test_arguments_beat_environment_beat_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Config.resolve().api_url == DEFAULT_API_URL
    monkeypatch.setenv("NEMO_API_URL", "https://env.example")
    monkeypatch.setenv("NEMO_TOKEN", "nmv_usr_fromenv")
    monkeypatch.setenv("SKILL_SOURCE", "cursor")
    config = Config.resolve()
    assert config.api_url == "https://env.example"
    assert config.token_source == "environment"
    assert config.skill_platform == "cursor"
    config = Config.resolve(api_url="https://arg.example/", token="nmv_usr_arg", skill_platform="clawhub")
    assert config.api_url == "https://arg.example"
    assert config.token_source == "argument"
    assert config.token == Secret("nmv_usr_arg")
    assert config.skill_platform == "clawhub"


def test_attribution_defaults() -> None:
    headers = Config.resolve().attribution_headers()
    assert headers["X-Skill-Source"] == "generator-video"
    assert headers["X-Skill-Platform"] == "unknown"
    assert headers["X-Skill-Version"]


def test_plain_http_is_refused_off_loopback() -> None:
    with pytest.raises(ConfigurationError, match="plain http"):
        Config.resolve(api_url="http://api.example.com")
    assert Config.resolve(api_url="http://api.example.com", allow_insecure_http=True).api_url
    for url in ("http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:2"):
        assert Config.resolve(api_url=url).api_url == url
    with pytest.raises(ConfigurationError):
        Config.resolve(api_url="ftp://x")


def test_token_never_shows_in_reprs() -> None:
    secret = "nmv_usr_supersecret"
    config = Config.resolve(token=secret)
    client = NemoClient(token=secret, api_url="http://127.0.0.1:9")
    for text in (repr(config), str(config), repr(client), repr(config.token), str(config.token)):
        assert "supersecret" not in text


def test_token_store_files_are_private(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "cfg", "http://127.0.0.1:1")
    cid = store.client_id()
    assert store.client_id() == cid
    store.save(AnonymousToken(Secret("nmv_usr_x"), expires_at=4_000_000_000.0, user_id="anon_1"))
    assert stat.S_IMODE(store.token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.client_id_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.token_file.parent.stat().st_mode) == 0o700
    loaded = TokenStore(tmp_path / "cfg", "http://127.0.0.1:1").load()
    assert loaded is not None
    assert loaded.token.get() == "nmv_usr_x"
    assert loaded.user_id == "anon_1"
    assert TokenStore(tmp_path / "cfg", "http://127.0.0.1:2").load() is None  # tokens are per API URL
    store.save(AnonymousToken(Secret("nmv_usr_old"), expires_at=1.0))
    assert store.load() is None  # expired tokens are not used


def test_connections_use_tcp_keepalive() -> None:
    """A peer that vanished behind a NAT is noticed during a long quiet stream."""
    import socket

    from nemovideo._client import _keepalive_options

    options = _keepalive_options()
    assert (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1) in options
    if hasattr(socket, "TCP_KEEPIDLE"):
        assert (socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 60) in options
    client = NemoClient(api_url="http://127.0.0.1:9")
    pool = client._requestor.http._transport._inner._pool  # type: ignore[attr-defined]
    assert pool._socket_options == options
