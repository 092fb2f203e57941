"""All emulator state: tokens, users and credits, sessions, uploads, render jobs.

Only the server's event loop touches it (the Python API reaches it through the loop), so it needs no locks.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from ._clock import Clock
from ._drafts import canvas_for, empty_draft
from ._settings import Settings


class CreditsShort(Exception):
    """Not enough available credits for the work asked for."""


@dataclass
class Token:
    value: str
    user_id: str
    client_id: str
    ip: str
    issued_at: float
    expires_at: float
    revoked: bool = False


@dataclass
class User:
    user_id: str
    available: int
    frozen: int = 0

    def freeze(self, amount: int) -> None:
        if self.available < amount:
            raise CreditsShort(f"{amount} credits needed, {self.available} available")
        self.available -= amount
        self.frozen += amount

    def charge(self, amount: int) -> None:
        self.frozen -= amount

    def release(self, amount: int) -> None:
        self.frozen -= amount
        self.available += amount


@dataclass
class Session:
    session_id: str
    task_id: str
    task_name: str
    language: str
    user_id: str
    draft: dict[str, Any]
    canvas_config: dict[str, Any]
    video_infos: list[dict[str, Any]] = field(default_factory=list)
    video_analyses: dict[str, Any] = field(default_factory=dict)
    generated_media: list[dict[str, Any]] = field(default_factory=list)
    spec: dict[str, Any] | None = None
    """What the last generation was asked for, so an aspect change can regenerate it."""
    messages: int = 0

    def state(self) -> dict[str, Any]:
        return {
            "draft": self.draft,
            "video_infos": self.video_infos,
            "canvas_config": self.canvas_config,
            "video_analyses": self.video_analyses,
            "generated_media": self.generated_media,
        }


@dataclass
class RenderJob:
    id: str
    session_id: str
    user_id: str
    draft: dict[str, Any]
    quality: str
    created_at: int
    status: str = "pending"
    progress: int = 5
    completed_at: int | None = None
    error: str | None = None
    output_path: Path | None = None
    output_url: str | None = None
    duration: float | None = None
    size: int | None = None
    width: int | None = None
    height: int | None = None
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    steps: int = 0
    """Manual progression: how many times the job was stepped."""
    wake: anyio.Event = field(default_factory=anyio.Event)


class Store:
    def __init__(self, settings: Settings, clock: Clock, data_dir: Path) -> None:
        self.clock = clock
        self.data_dir = data_dir
        self.reset(settings)

    def reset(self, settings: Settings) -> None:
        self.settings = settings
        self.rng = random.Random(f"ids:{settings.seed}")
        self.silent_rng = random.Random(f"silent:{settings.seed}")
        self.tokens: dict[str, Token] = {}
        self.client_issues: dict[str, list[float]] = {}
        self.ip_issues: dict[str, list[float]] = {}
        self.users: dict[str, User] = {}
        self.client_users: dict[str, str] = {}
        """client id -> its anonymous user: a new token after expiry keeps the user's sessions and credits."""
        self.sessions: dict[str, Session] = {}
        self.renders: dict[str, RenderJob] = {}
        self.upload_count = 0
        from ._accounts import Gateway

        self.gateway = Gateway(self)
        for sub in ("uploads", "renders"):
            shutil.rmtree(self.data_dir / sub, ignore_errors=True)
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True)

    # ids
    def hex(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def new_session_id(self) -> str:
        while True:
            sid = str(self.rng.randrange(10**18, 10**19))
            if sid not in self.sessions:
                return sid

    # tokens
    def _recent(self, stamps: list[float], now: float) -> list[float]:
        return [t for t in stamps if now - t < self.settings.token_ttl]

    def issue_token(self, client_id: str, ip: str) -> Token | None:
        """A new anonymous token, or None when the client or the IP is over its limit."""
        now = self.clock.now()
        by_client = self._recent(self.client_issues.get(client_id, []), now)
        by_ip = self._recent(self.ip_issues.get(ip, []), now)
        live = [t for t in self.tokens.values() if t.client_id == client_id and t.expires_at > now]
        if len(by_client) >= self.settings.tokens_per_client and live:
            return None
        if len(by_ip) >= self.settings.tokens_per_ip:
            return None
        known = self.client_users.get(client_id)
        user = self.users[known] if known else User(f"anon_{self.hex(16)}", self.settings.credits)
        self.users[user.user_id] = user
        self.client_users[client_id] = user.user_id
        token = Token(
            f"nmv_usr_{self.hex(32)}", user.user_id, client_id, ip, now, now + self.settings.token_ttl
        )
        self.tokens[token.value] = token
        self.client_issues[client_id] = [*by_client, now]
        self.ip_issues[ip] = [*by_ip, now]
        return token

    def authenticate(self, authorization: str | None) -> tuple[User | None, str]:
        """The user behind a bearer header, else (None, why)."""
        if not authorization:
            return None, "missing bearer token"
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None, "malformed Authorization header (expected 'Bearer <token>')"
        token = self.tokens.get(value.strip())
        if token is None:
            return None, "invalid token"
        if token.revoked:
            return None, "token revoked"
        if token.expires_at <= self.clock.now():
            return None, "token expired"
        return self.users[token.user_id], ""

    def expire(self, authorization: str | None) -> None:
        """Make the caller's token expire now (the `expire_token` fault)."""
        if authorization:
            token = self.tokens.get(authorization.partition(" ")[2].strip())
            if token is not None:
                token.expires_at = self.clock.now()

    # sessions
    def create_session(self, user: User, task_name: str, language: str) -> Session:
        canvas = canvas_for("16:9")
        session = Session(
            session_id=self.new_session_id(),
            task_id=f"task_{self.hex(24)}",
            task_name=task_name,
            language=language,
            user_id=user.user_id,
            draft=empty_draft(canvas),
            canvas_config=canvas,
        )
        self.sessions[session.session_id] = session
        return session

    def session_for(self, user: User, session_id: str) -> Session | None:
        session = self.sessions.get(session_id)
        if session is None or session.user_id != user.user_id:
            return None
        return session

    def upload_dir(self, session_id: str) -> Path:
        path = self.data_dir / "uploads" / session_id
        path.mkdir(parents=True, exist_ok=True)
        return path
