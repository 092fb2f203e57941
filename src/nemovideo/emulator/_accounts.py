"""The gateway's state: API-key accounts, their projects and the usage ledger.

It lives inside the `Store` (reset with it) and reuses its `User` (credits) and `Session` (the draft the agent
edits), so the gateway's chat and the skill API's `/run_sse` drive the very same agent and run machinery.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._store import Session, Store, User

KEY_RE = re.compile(r"nmv_usr_[A-Za-z0-9_-]{8,128}")
"""A well-formed API key: the vendor's prefix and 8..128 URL-safe characters."""


def iso(seconds: float) -> str:
    """An emulator-clock time as the gateway writes it: ISO 8601, UTC, milliseconds, `Z`."""
    stamp = datetime.fromtimestamp(seconds, timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


@dataclass
class Usage:
    """One ledger line of `GET /billing/usage/conversations`."""

    id: str
    kind: str
    """"conversation", "grant" or "expire"."""
    amount: int
    """Signed: a charge is negative, a grant positive."""
    at: float
    conversation: dict[str, Any] | None = None
    grant: dict[str, Any] | None = None

    def item(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "amount_delta": self.amount, "created_at": iso(self.at)}
        if self.conversation is not None:
            out["conversation"] = dict(self.conversation)
        if self.grant is not None:
            out["grant"] = dict(self.grant)
        return out

    def record(self) -> dict[str, Any]:
        """The older `{records: [...]}` shape."""
        if self.kind == "conversation" and self.conversation is not None:
            tools = [t["tool_key"] for t in self.conversation.get("tool_breakdown", [])]
            description = self.conversation.get("user_message") or ", ".join(tools)
        elif self.kind == "grant" and self.grant is not None:
            description = f"grant: {self.grant.get('source', '')}"
        else:
            description = self.kind
        return {
            "id": self.id,
            "type": self.kind,
            "credits": self.amount,
            "description": description,
            "created_at": iso(self.at),
        }


@dataclass
class Account:
    key: str
    user: User
    email: str
    created_at: float
    revoked: bool = False
    ledger: list[Usage] = field(default_factory=list)

    @property
    def total_granted(self) -> int:
        return sum(u.amount for u in self.ledger if u.kind == "grant")

    @property
    def total_consumed(self) -> int:
        return -sum(u.amount for u in self.ledger if u.kind == "conversation")


@dataclass
class Project:
    project_id: str
    user_id: str
    name: str | None
    created_at: float
    updated_at: float
    session_ids: list[str] = field(default_factory=list)
    render_ids: list[str] = field(default_factory=list)


class Gateway:
    """Accounts by key, projects by id, which sessions are gateway sessions, and the sandboxes started."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.accounts: dict[str, Account] = {}
        self.registered: set[str] = set()
        """Keys a test registered (the only ones accepted with `gateway_strict_keys`)."""
        self.projects: dict[str, Project] = {}
        self.session_project: dict[str, str] = {}
        self.warm: set[str] = set()
        """Sessions whose sandbox already started (the first turn of a session warms it up)."""
        self.turns: dict[str, Any] = {}
        """session id -> its running chat turn (`_ws.Turn`)."""

    def now(self) -> float:
        return self.store.clock.now()

    def register(self, key: str | None, credits: int | None) -> Account:
        key = key if key is not None else f"nmv_usr_{self.store.hex(32)}"
        if not KEY_RE.fullmatch(key):
            raise ValueError("an API key is 'nmv_usr_' followed by 8..128 letters, digits, '-' or '_'")
        self.registered.add(key)
        account = self.accounts.get(key)
        if account is None:
            account = self._open(key, credits)
        elif credits is not None:
            self.grant(account, credits - account.user.available, "admin")
        return account

    def _open(self, key: str, credits: int | None) -> Account:
        from ._store import User

        amount = self.store.settings.credits if credits is None else credits
        user = User(f"usr_{self.store.hex(16)}", 0)
        self.store.users[user.user_id] = user
        account = Account(key, user, f"{user.user_id}@example.test", self.now())
        self.accounts[key] = account
        self.grant(account, amount, "welcome")
        return account

    def grant(self, account: Account, amount: int, source: str) -> None:
        account.user.available += amount
        account.ledger.append(
            Usage(f"usage_{self.store.hex(12)}", "grant", amount, self.now(), None, {"source": source})
        )

    def charge(self, account: Account, amount: int, conversation: dict[str, Any]) -> None:
        """Record what a turn really cost (the credits themselves moved through `User.freeze/charge`)."""
        account.ledger.append(
            Usage(f"usage_{self.store.hex(12)}", "conversation", -amount, self.now(), conversation)
        )

    def authenticate(self, key: str | None) -> tuple[Account | None, int, str]:
        """(account, 0, "") or (None, code, why): 1010 missing/invalid, 1011 revoked."""
        if not key:
            return None, 1010, "missing authentication token"
        if not KEY_RE.fullmatch(key):
            return None, 1010, "invalid token: API keys start with nmv_usr_"
        account = self.accounts.get(key)
        if self.store.settings.gateway_strict_keys and key not in self.registered:
            return None, 1010, "invalid token"
        if account is None:
            account = self._open(key, None)
        if account.revoked:
            return None, 1011, "token has been revoked"
        return account, 0, ""

    def create_project(self, account: Account, name: str | None, with_session: bool) -> Project:
        now = self.now()
        project = Project(f"project_{self.store.hex(12)}", account.user.user_id, name, now, now)
        self.projects[project.project_id] = project
        if with_session:
            self.new_session(account, project)
        return project

    def new_session(self, account: Account, project: Project) -> Session:
        session = self.store.create_session(account.user, project.name or "project", "en")
        session.task_id = project.project_id
        project.session_ids.append(session.session_id)
        self.session_project[session.session_id] = project.project_id
        return session

    def project_for(self, account: Account, project_id: str) -> Project | None:
        project = self.projects.get(project_id)
        return project if project is not None and project.user_id == account.user.user_id else None

    def session_for(self, account: Account, session_id: str) -> tuple[Project, Session] | None:
        project_id = self.session_project.get(session_id)
        session = self.store.session_for(account.user, session_id)
        if project_id is None or session is None:
            return None
        return self.projects[project_id], session
