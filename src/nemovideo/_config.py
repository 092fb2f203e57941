"""Frozen client settings: arguments win, then the environment, then the documented defaults."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import httpx

from ._errors import ConfigurationError
from ._version import __version__

DEFAULT_API_URL = "https://mega-api-prod.nemovideo.ai"
DEFAULT_GATEWAY_URL = "https://mega-x-api.nemovideo.ai"
"""The vendor's gateway (the API its own CLI speaks, with dashboard API keys)."""
API_KEY_FILE = "api_key"
"""Where ``nemovideo login`` keeps the API key, under the config directory (mode 0600)."""
DEFAULT_WEB_URL = "https://nemovideo.com"
DEFAULT_SKILL_SOURCE = "generator-video"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
DEFAULT_MAX_RETRIES = 2
DEFAULT_DEADLINE = 120.0
"""Seconds one request attempt may take in all, body included (besides the connect and read timeouts)."""
DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024
"""Bytes of one JSON answer, after decompression."""
DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024
"""Characters of one server-sent event."""
DEFAULT_MAX_STREAM_EVENTS = 200_000
"""Frames (heartbeats included) in one agent turn's stream."""
DEFAULT_MAX_STREAM_BYTES = 256 * 1024 * 1024
"""Characters in one agent turn's stream."""
DEFAULT_MIN_DOWNLOAD_RATE = 1024
"""Bytes per second a download must average over each ``download_rate_window``, or it is given up."""
DEFAULT_DOWNLOAD_RATE_WINDOW = 30.0
"""Seconds over which a download's rate is measured against ``min_download_rate``."""
LIMIT_SETTINGS = (
    "deadline",
    "max_body_size",
    "max_event_size",
    "max_stream_events",
    "max_stream_bytes",
    "min_download_rate",
    "download_rate_window",
)

TokenSource = Literal["argument", "environment", "anonymous", "key_argument", "key_environment", "key_stored"]
Generation = Literal["skill", "gateway"]
"""Which API generation a client speaks: the agent skill's (tokens, ``/run_sse``) or the gateway's."""


class Secret:
    """A string that never shows itself in a repr, a str() or a traceback's locals."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('<redacted>')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def default_config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "nemovideo"


def detect_platform() -> str:
    """Where the SDK is installed tells the platform, as the vendor's skill detects it."""
    env = os.environ.get("SKILL_SOURCE")
    if env:
        return env
    here = Path(__file__).resolve().as_posix()
    if "/.clawhub/" in here:
        return "clawhub"
    if "/.cursor/skills/" in here:
        return "cursor"
    return "unknown"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, name: str, allow_insecure_http: bool) -> str:
    """Refuse a URL that would send a bearer token in clear text across a network."""
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigurationError(f"{name} must be an http(s) URL with a host, got {url!r}")
    if parsed.scheme == "http" and not _is_loopback(parsed.host) and not allow_insecure_http:
        raise ConfigurationError(
            f"{name} {url!r} uses plain http off this machine, which would expose your token. "
            "Use https, or pass allow_insecure_http=True if you really mean it."
        )
    return url.rstrip("/")


@dataclass(frozen=True)
class Config:
    """Everything a client needs to know, resolved once at construction."""

    api_url: str = DEFAULT_API_URL
    api: Generation = "skill"
    """The API generation, from the credential (an API key means the gateway) or the ``api`` setting."""
    web_url: str = DEFAULT_WEB_URL
    token: Secret | None = field(default=None, repr=False)
    token_source: TokenSource = "anonymous"
    client_id: str | None = None
    config_dir: Path = field(default_factory=default_config_dir)
    skill_source: str = DEFAULT_SKILL_SOURCE
    skill_version: str = __version__
    skill_platform: str = "unknown"
    timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
    max_retries: int = DEFAULT_MAX_RETRIES
    max_retry_wait: float = 60.0
    """The longest ``Retry-After`` the SDK waits out by itself; a longer one is raised to the caller."""
    deadline: float = DEFAULT_DEADLINE
    """Total seconds for one attempt of a request, answer body included (a chat stream has its own)."""
    max_body_size: int = DEFAULT_MAX_BODY_SIZE
    """Largest JSON answer read, in bytes after decompression; a larger one raises ``LimitExceededError``."""
    max_event_size: int = DEFAULT_MAX_EVENT_SIZE
    """Largest single server-sent event, in characters."""
    max_stream_events: int = DEFAULT_MAX_STREAM_EVENTS
    """Most frames (heartbeats included) read from one chat stream."""
    max_stream_bytes: int = DEFAULT_MAX_STREAM_BYTES
    """Most characters read from one chat stream."""
    min_download_rate: int = DEFAULT_MIN_DOWNLOAD_RATE
    """Slowest download kept going, in bytes per second over each ``download_rate_window``; a slower one
    raises ``DownloadError`` and keeps its bytes for the next call to resume."""
    download_rate_window: float = DEFAULT_DOWNLOAD_RATE_WINDOW
    """Seconds over which ``min_download_rate`` is measured."""

    @classmethod
    def resolve(
        cls,
        *,
        token: str | None = None,
        api_url: str | None = None,
        web_url: str | None = None,
        client_id: str | None = None,
        config_dir: str | os.PathLike[str] | None = None,
        skill_source: str | None = None,
        skill_version: str | None = None,
        skill_platform: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        allow_insecure_http: bool = False,
        api_key: str | None = None,
        api: str | None = None,
    ) -> Config:
        env = os.environ
        cdir = Path(config_dir or env.get("NEMO_CONFIG_DIR") or default_config_dir()).expanduser()
        token, source = _credential(token, api_key, cdir)
        generation = _generation(api or env.get("NEMO_API"), source)
        if generation == "gateway" and token is None:
            raise ConfigurationError(
                "the gateway needs an API key: pass api_key=..., set NEMO_API_KEY, or run `nemovideo login` "
                "(keys start with nmv_usr_ and come from the dashboard at nemovideo.com)"
            )
        if generation == "gateway":
            url = api_url or env.get("NEMO_GATEWAY_URL") or DEFAULT_GATEWAY_URL
        else:
            url = api_url or env.get("NEMO_API_URL") or DEFAULT_API_URL
        checked = check_url(url, name="API URL", allow_insecure_http=allow_insecure_http)
        web = (web_url or env.get("NEMO_WEB_URL") or DEFAULT_WEB_URL).rstrip("/")
        cid = client_id or env.get("NEMO_CLIENT_ID") or None
        if cid is not None and not 0 < len(cid) <= 64:
            raise ConfigurationError("client id must be 1 to 64 characters")
        if max_retries is not None and max_retries < 0:
            raise ConfigurationError("max_retries must be >= 0")
        return cls(
            api_url=checked,
            api=generation,
            web_url=web,
            token=Secret(token) if token else None,
            token_source=source,
            client_id=cid,
            config_dir=cdir,
            skill_source=skill_source or DEFAULT_SKILL_SOURCE,
            skill_version=skill_version or __version__,
            skill_platform=skill_platform or detect_platform(),
            timeout=_timeout(timeout) if timeout is not None else DEFAULT_TIMEOUT,
            max_retries=DEFAULT_MAX_RETRIES if max_retries is None else max_retries,
        )

    def with_changes(
        self, *, timeout: float | httpx.Timeout | None, max_retries: int | None, **limits: float | None
    ) -> Config:
        """A copy with other timeouts, retries or limits (``LIMIT_SETTINGS``); ``None`` keeps a value."""
        changes: dict[str, object] = {}
        if timeout is not None:
            changes["timeout"] = _timeout(timeout)
        if max_retries is not None:
            changes["max_retries"] = max_retries
        for name, value in limits.items():
            if name not in LIMIT_SETTINGS:
                raise TypeError(f"unknown setting {name!r}")
            if value is None:
                continue
            if value <= 0:
                raise ConfigurationError(f"{name} must be positive, got {value!r}")
            changes[name] = value if name in ("deadline", "download_rate_window") else int(value)
        return replace(self, **changes)  # type: ignore[arg-type]

    def attribution_headers(self) -> dict[str, str]:
        """The three headers every request carries; missing ones cause auth failures or export 402."""
        return {
            "X-Skill-Source": self.skill_source,
            "X-Skill-Version": self.skill_version,
            "X-Skill-Platform": self.skill_platform,
        }

    def registration_url(self, user_id: str | None) -> str | None:
        return f"{self.web_url}/register?bind={user_id}" if user_id else None


def _credential(token: str | None, api_key: str | None, config_dir: Path) -> tuple[str | None, TokenSource]:
    """The credential and where it came from. Precedence: ``api_key=``, ``token=``, ``NEMO_API_KEY``,
    ``NEMO_TOKEN``, the key saved by ``nemovideo login``, else none (an anonymous token, skill API)."""
    env = os.environ
    if api_key and token:
        raise ConfigurationError("pass either token= (skill API) or api_key= (gateway), not both")
    if api_key:
        return api_key, "key_argument"
    if token:
        return token, "argument"
    if env.get("NEMO_API_KEY"):
        return env["NEMO_API_KEY"], "key_environment"
    if env.get("NEMO_TOKEN"):
        return env["NEMO_TOKEN"], "environment"
    stored = read_stored_key(config_dir)
    if stored:
        return stored, "key_stored"
    return None, "anonymous"


def read_stored_key(config_dir: Path) -> str | None:
    try:
        key = (config_dir / API_KEY_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return key or None


def _generation(setting: str | None, source: TokenSource) -> Generation:
    """An explicit setting wins; else an API key means the gateway, anything else the skill API."""
    if setting:
        value = setting.strip().lower()
        if value not in ("skill", "gateway"):
            raise ConfigurationError(f"api must be 'skill' or 'gateway', got {setting!r}")
        return "gateway" if value == "gateway" else "skill"
    return "gateway" if source.startswith("key_") else "skill"


def _timeout(value: float | httpx.Timeout) -> httpx.Timeout:
    return value if isinstance(value, httpx.Timeout) else httpx.Timeout(value)
