"""Fault rules: per endpoint, counted, seeded; the outermost ASGI layer and the SSE stream apply them."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

FaultKind = Literal[
    "status",
    "rate_limit",
    "latency",
    "drop_before_headers",
    "drop_after_headers",
    "cut_body",
    "cut_stream",
    "heartbeats_only",
    "malformed_json",
    "expire_token",
    "forbidden",
    "ws_close",
]
KINDS: tuple[str, ...] = get_args(FaultKind)
ENDPOINTS: tuple[str, ...] = (
    "anonymous_token",
    "create_session",
    "claim_token",
    "run_sse",
    "upload",
    "credits",
    "state",
    "render_start",
    "render_get",
    "render_cancel",
    "render_download",
    "cdn",
    "gw_verify",
    "gw_project_create",
    "gw_projects",
    "gw_project",
    "gw_sessions",
    "gw_state",
    "gw_balance",
    "gw_usage",
    "gw_upload",
    "gw_render_start",
    "gw_render_get",
    "gw_render_download",
    "ws_chat",
    "*",
)
# Parameters each kind understands, with their defaults.
_PARAMS: dict[str, dict[str, Any]] = {
    "status": {"status": 503},
    "rate_limit": {"retry_after": 1.0},
    "latency": {"seconds": 1.0},
    "drop_before_headers": {},
    "drop_after_headers": {},
    "cut_body": {"at": 1024},
    "cut_stream": {"after": 1},
    "heartbeats_only": {"seconds": 5.0},
    "malformed_json": {},
    "expire_token": {},
    "forbidden": {"reason": "sandbox capacity exceeded, retry shortly"},
    "ws_close": {"after": 3, "code": 1011},
}
_STREAM_ONLY = ("cut_stream", "heartbeats_only")
_CHAT_ONLY = ("forbidden", "ws_close")


@dataclass
class FaultRule:
    """One rule: on `endpoint` (or "*"), `kind` fires at most `count` times (None: forever), each time
    with `probability`; `params` holds the kind's own parameters (see `KINDS` and the docs)."""

    endpoint: str
    kind: str
    count: int | None = 1
    probability: float = 1.0
    params: dict[str, Any] = field(default_factory=dict)
    fired: int = 0

    def __post_init__(self) -> None:
        if self.endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {self.endpoint!r}; one of {', '.join(ENDPOINTS)}")
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(KINDS)}")
        if self.kind in _STREAM_ONLY and self.endpoint not in ("run_sse", "*"):
            raise ValueError(f"{self.kind} only applies to run_sse")
        if self.kind in _CHAT_ONLY and self.endpoint not in ("ws_chat", "*"):
            raise ValueError(f"{self.kind} only applies to ws_chat")
        if self.count is not None and self.count < 0:
            raise ValueError("count must be >= 0 or None")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be within 0..1")
        unknown = set(self.params) - set(_PARAMS[self.kind])
        if unknown:
            raise ValueError(
                f"{self.kind} takes no parameter(s) {sorted(unknown)}; it takes {sorted(_PARAMS[self.kind])}"
            )
        self.params = {**_PARAMS[self.kind], **self.params}
        if self.kind == "status" and not 500 <= int(self.params["status"]) <= 599:
            raise ValueError("a status fault sends a 5xx status")

    def param(self, name: str) -> Any:
        return self.params[name]

    def as_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "kind": self.kind,
            "count": self.count,
            "probability": self.probability,
            "params": dict(self.params),
            "fired": self.fired,
        }


class Faults:
    """The rule book. Thread-safe: tests add rules from their own thread while the server reads them."""

    def __init__(self, seed: int = 0) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._rng = random.Random(f"faults:{seed}")

    def add(
        self,
        endpoint: str,
        kind: str,
        *,
        count: int | None = 1,
        probability: float = 1.0,
        **params: Any,
    ) -> FaultRule:
        """Add a rule: `add("run_sse", "cut_stream", after=3)`, `add("*", "latency", seconds=0.2)`, ..."""
        rule = FaultRule(endpoint, kind, count, probability, dict(params))
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def reseed(self, seed: int) -> None:
        with self._lock:
            self._rng = random.Random(f"faults:{seed}")

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def pick(self, endpoint: str, kinds: tuple[str, ...] | None = None) -> FaultRule | None:
        """The first live rule for `endpoint` that fires now (its count is spent here), or None."""
        with self._lock:
            for rule in self._rules:
                if rule.endpoint not in (endpoint, "*"):
                    continue
                if kinds is not None and rule.kind not in kinds:
                    continue
                if rule.kind in _STREAM_ONLY and endpoint != "run_sse":
                    continue
                if rule.kind in _CHAT_ONLY and endpoint != "ws_chat":
                    continue
                if rule.count is not None and rule.fired >= rule.count:
                    continue
                if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                return rule
        return None


def cutting_send(send: Any, abort: Any, at: int) -> Any:
    """An ASGI ``send`` that passes the headers as they are (Content-Length included) and the body up to
    byte ``at``, then closes the connection: a download cut at a chosen byte."""
    state = {"sent": 0, "cut": False}

    async def cutting(message: dict[str, Any]) -> None:
        if state["cut"]:
            return
        if message["type"] == "http.response.body":
            body: bytes = message.get("body", b"")
            room = at - state["sent"]
            if len(body) >= room and (body or not message.get("more_body", False)):
                state["cut"] = True
                if room > 0:
                    await send({"type": "http.response.body", "body": body[:room], "more_body": True})
                abort()
                return
            state["sent"] += len(body)
        await send(message)

    return cutting
