"""Authentication as one ``httpx.Auth`` flow: bearer token, anonymous token, client id, one refresh.

Token order: the caller's token (argument or ``NEMO_TOKEN``), else a cached anonymous token, else a new
anonymous token from ``POST /api/auth/anonymous-token`` sent with ``X-Client-Id``. The fetch happens
lazily, under a lock, so a hundred first requests at once cause exactly one token request.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
import uuid
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx

from ._body import read_limited
from ._config import Config, Secret

TOKEN_PATH = "/api/auth/anonymous-token"
TOKEN_LIFETIME = 7 * 24 * 3600.0
EXPIRY_MARGIN = 60.0
ATTRIBUTION_PREFIX = "x-skill-"
SEND_ONCE = "nemovideo.send_once"
"""Request extension: never repeat this request, even after a refused token (a chat message)."""

log = logging.getLogger("nemovideo")


@dataclass(frozen=True)
class AnonymousToken:
    token: Secret
    expires_at: float
    user_id: str | None = None

    def fresh(self, now: float | None = None) -> bool:
        return self.expires_at - EXPIRY_MARGIN > (time.time() if now is None else now)


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, atomically, in a directory only its owner can enter."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class TokenStore:
    """The client id and the anonymous tokens (one per API URL) under the config directory."""

    def __init__(self, config_dir: Path, api_url: str) -> None:
        self._dir = config_dir
        self._api_url = api_url

    @property
    def token_file(self) -> Path:
        return self._dir / "tokens.json"

    @property
    def client_id_file(self) -> Path:
        return self._dir / "client_id"

    def _read_all(self) -> dict[str, Any]:
        try:
            data = json.loads(self.token_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def load(self) -> AnonymousToken | None:
        entry = self._read_all().get(self._api_url)
        if not isinstance(entry, dict):
            return None
        try:
            token = AnonymousToken(
                Secret(str(entry["token"])), float(entry["expires_at"]), entry.get("user_id")
            )
        except (KeyError, TypeError, ValueError):
            return None
        return token if token.fresh() else None

    def save(self, token: AnonymousToken) -> None:
        data = self._read_all()
        data[self._api_url] = {
            "token": token.token.get(),
            "expires_at": token.expires_at,
            "user_id": token.user_id,
        }
        _write_private(self.token_file, json.dumps(data, indent=1))

    def forget(self, token: AnonymousToken) -> None:
        data = self._read_all()
        entry = data.get(self._api_url)
        if isinstance(entry, dict) and entry.get("token") == token.token.get():
            del data[self._api_url]
            _write_private(self.token_file, json.dumps(data, indent=1))

    def client_id(self) -> str:
        try:
            cid = self.client_id_file.read_text(encoding="utf-8").strip()
        except OSError:
            cid = ""
        return cid if 0 < len(cid) <= 64 else self.new_client_id()

    def new_client_id(self) -> str:
        cid = str(uuid.uuid4())
        _write_private(self.client_id_file, cid + "\n")
        return cid


def response_code(response: httpx.Response) -> int | None:
    """The documented code of an already-read JSON response: the body's ``code``, else None."""
    if "json" not in response.headers.get("content-type", ""):
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    try:
        return int(code) if code is not None else None
    except (TypeError, ValueError):
        return None


async def _read_if_json(response: httpx.Response) -> None:
    if "json" in response.headers.get("content-type", ""):
        await read_limited(response)


def _replayable(request: httpx.Request) -> bool:
    return isinstance(request.stream, httpx.ByteStream)


def _parse_expiry(data: dict[str, Any]) -> float:
    raw = data.get("expires_at")
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    return time.time() + TOKEN_LIFETIME


class NemoAuth(httpx.Auth):
    """Stamps ``Authorization`` on API requests, fetching and refreshing anonymous tokens as needed."""

    def __init__(self, config: Config, store: TokenStore | None = None) -> None:
        self._config = config
        self._store = store or TokenStore(config.config_dir, config.api_url)
        self._token: AnonymousToken | None = None
        self._client_id = config.client_id
        self._lock = anyio.Lock()
        self._answer_lost = False
        """A token request left and its answer never came: a 429 for this client id may be our own doing."""
        self.token_requests = 0

    def __repr__(self) -> str:
        return f"NemoAuth(source={self._config.token_source!r}, api_url={self._config.api_url!r})"

    @property
    def user_id(self) -> str | None:
        return self._token.user_id if self._token else None

    @property
    def is_anonymous(self) -> bool:
        return self._config.token is None

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self._config.token is not None:
            request.headers["Authorization"] = f"Bearer {self._config.token.get()}"
            response = yield request
            await _read_if_json(response)
            return

        token = await self._current()
        for attempt in (1, 2):
            if token is None:
                async with self._lock:
                    if self._token is None:
                        async with aclosing(self._fetch(request)) as flow:
                            token_request = await flow.__anext__()
                            while True:
                                token_response = yield token_request
                                try:
                                    token_request = await flow.asend(token_response)
                                except StopAsyncIteration:
                                    break
                    token = self._token
            assert token is not None
            request.headers["Authorization"] = f"Bearer {token.token.get()}"
            response = yield request
            await _read_if_json(response)
            if attempt == 2 or not self._rejected(response):
                return
            log.info("anonymous token refused (1001); discarding it")
            async with self._lock:
                if self._token is token:
                    self._token = None
                    await anyio.to_thread.run_sync(self._store.forget, token)
            if request.extensions.get(SEND_ONCE) or not _replayable(request):
                return  # the caller sees the 1001 answer; its next call fetches a new token
            token = None

    async def _current(self) -> AnonymousToken | None:
        if self._token is not None and self._token.fresh():
            return self._token
        async with self._lock:
            if self._token is None or not self._token.fresh():
                self._token = await anyio.to_thread.run_sync(self._store.load)
            return self._token

    @staticmethod
    def _rejected(response: httpx.Response) -> bool:
        return response.status_code == 401 or response_code(response) == 1001

    async def _fetch(self, origin: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Get a new anonymous token; on "missing client id" make a new id and ask once more.

        Errors are left in the response for the requestor to map (429 is retried there, once).
        """
        if self._client_id is None:
            self._client_id = await anyio.to_thread.run_sync(self._store.client_id)
        for attempt in (1, 2):
            self.token_requests += 1
            try:
                response = yield self._token_request(origin)
                await read_limited(response)
            except BaseException:
                # The request left and its answer was lost: the server may have issued a token to this
                # client id, and it issues one per client id per 7 days.
                self._answer_lost = True
                raise
            code = response_code(response)
            if (response.status_code == 400 or code == 400) and attempt == 1:
                log.info("token endpoint reported a missing client id; making a new one")
                self._client_id = await anyio.to_thread.run_sync(self._store.new_client_id)
                continue
            if (response.status_code == 429 or code == 429) and self._answer_lost and attempt == 1:
                log.info(
                    "token endpoint refused this client id after an earlier answer was lost; making a new one"
                )
                self._answer_lost = False
                self._client_id = await anyio.to_thread.run_sync(self._store.new_client_id)
                continue
            token = self._parse_token(response, code)
            if token is not None:
                self._answer_lost = False
                self._token = token
                await anyio.to_thread.run_sync(self._store.save, token)
                return
            raise TokenRequestFailed(response)

    def _token_request(self, origin: httpx.Request) -> httpx.Request:
        headers = {k: v for k, v in origin.headers.items() if k.lower().startswith(ATTRIBUTION_PREFIX)}
        headers["X-Client-Id"] = self._client_id or ""
        if "user-agent" in origin.headers:
            headers["User-Agent"] = origin.headers["user-agent"]
        return httpx.Request(
            "POST",
            origin.url.copy_with(path=TOKEN_PATH, query=None),
            headers=headers,
            extensions=origin.extensions,
        )

    @staticmethod
    def _parse_token(response: httpx.Response, code: int | None) -> AnonymousToken | None:
        if response.status_code != 200 or code != 0:
            return None
        data = json.loads(response.content).get("data")
        if not isinstance(data, dict) or not isinstance(data.get("token"), str):
            return None
        user_id = data.get("user_id")
        return AnonymousToken(
            Secret(data["token"]), _parse_expiry(data), user_id if isinstance(user_id, str) else None
        )


class TokenRequestFailed(Exception):
    """Carries the token endpoint's error response to the requestor, which maps it like any other."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__("anonymous token request failed")
        self.response = response
