"""``NemoClient``: settings, one connection pool, auth and the resources, composed in one place."""

from __future__ import annotations

import os
import socket
import ssl
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING

import httpx

from ._auth import NemoAuth
from ._config import Config
from ._http import Requestor
from ._transport import GatedTransport
from ._version import __version__

if TYPE_CHECKING:  # each resource is imported by its property, on first use
    from .resources.credits import CreditsResource
    from .resources.projects import ProjectsResource
    from .resources.render import RenderResource
    from .resources.sessions import SessionsResource
    from .resources.state import StateResource
    from .resources.uploads import UploadsResource

USER_AGENT = f"nemovideo-python/{__version__}"


def _keepalive_options() -> list[tuple[int, int, int]]:
    """TCP keepalive, so a peer that vanished behind a NAT is noticed during long quiet streams."""
    options = [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
    for name, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 15), ("TCP_KEEPCNT", 4)):
        if hasattr(socket, name):
            options.append((socket.IPPROTO_TCP, getattr(socket, name), value))
    return options


MAX_CONNECTIONS = 100
"""Connections the default pool opens to the API at once; more requests wait for a free one."""
KEEP_ALIVE = 20
"""Idle connections the default pool keeps open for reuse."""


def _default_http(config: Config, verify: bool | ssl.SSLContext) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(
        verify=verify,
        socket_options=_keepalive_options(),
        limits=httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=KEEP_ALIVE),
    )
    return httpx.AsyncClient(
        transport=GatedTransport(transport, MAX_CONNECTIONS),
        timeout=config.timeout,
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )


class NemoClient:
    """An async client for the NemoVideo API.

    Settings come from the arguments, else the environment (``NEMO_TOKEN``, ``NEMO_API_KEY``,
    ``NEMO_API_URL``, ``NEMO_GATEWAY_URL``, ``NEMO_API``, ``NEMO_WEB_URL``, ``NEMO_CLIENT_ID``,
    ``NEMO_CONFIG_DIR``, ``SKILL_SOURCE``), else the documented defaults.

    The credential picks the API generation: an API key (``api_key=``, ``NEMO_API_KEY``, or the key saved
    by ``nemovideo login``) speaks to the vendor's gateway, a token or none to the skill API; ``api=``
    ("skill" or "gateway") overrides that. Without a token the client fetches an anonymous one on first
    use and caches it (mode 0600) under the config directory. Use it as
    ``async with NemoClient() as nemo: ...`` or call ``aclose()``.

    Pass ``http_client`` to use your own ``httpx.AsyncClient`` (then closing it is yours to do).
    TLS verification is only turned off by an explicit ``verify=False``.
    """

    def __init__(
        self,
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
        http_client: httpx.AsyncClient | None = None,
        verify: bool | ssl.SSLContext = True,
        allow_insecure_http: bool = False,
        api_key: str | None = None,
        api: str | None = None,
    ) -> None:
        config = Config.resolve(
            api_key=api_key,
            api=api,
            token=token,
            api_url=api_url,
            web_url=web_url,
            client_id=client_id,
            config_dir=config_dir,
            skill_source=skill_source,
            skill_version=skill_version,
            skill_platform=skill_platform,
            timeout=timeout,
            max_retries=max_retries,
            allow_insecure_http=allow_insecure_http,
        )
        self._owns_http = http_client is None
        http = http_client if http_client is not None else _default_http(config, verify)
        self._requestor = Requestor(config, http, NemoAuth(config))

    @classmethod
    def _derived(cls, requestor: Requestor) -> NemoClient:
        client = cls.__new__(cls)
        client._owns_http = False
        client._requestor = requestor
        return client

    def with_options(
        self,
        *,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        max_body_size: int | None = None,
        max_event_size: int | None = None,
        max_stream_events: int | None = None,
        max_stream_bytes: int | None = None,
        min_download_rate: int | None = None,
        download_rate_window: float | None = None,
    ) -> NemoClient:
        """A client with other timeouts, retries or limits that shares this one's pool and token.

        ``deadline`` bounds one request attempt in all (seconds); the ``max_*`` limits cap what is read
        (see ``Config``); ``min_download_rate`` (bytes/s) over ``download_rate_window`` (s) is the pace
        below which a download gives up and keeps its bytes for the next call to resume. Closing the
        derived client leaves the pool open; close the original.
        """
        config = self.config.with_changes(
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            max_body_size=max_body_size,
            max_event_size=max_event_size,
            max_stream_events=max_stream_events,
            max_stream_bytes=max_stream_bytes,
            min_download_rate=min_download_rate,
            download_rate_window=download_rate_window,
        )
        return NemoClient._derived(self._requestor.with_config(config))

    @property
    def config(self) -> Config:
        return self._requestor.config

    @cached_property
    def credits(self) -> CreditsResource:
        from .resources.credits import CreditsResource

        return CreditsResource(self._requestor)

    @cached_property
    def projects(self) -> ProjectsResource:
        """Projects and their sessions (gateway only)."""
        from .resources.projects import ProjectsResource

        return ProjectsResource(self._requestor)

    @cached_property
    def state(self) -> StateResource:
        from .resources.state import StateResource

        return StateResource(self._requestor)

    @cached_property
    def uploads(self) -> UploadsResource:
        from .resources.uploads import UploadsResource

        return UploadsResource(self._requestor)

    @cached_property
    def render(self) -> RenderResource:
        from .resources.render import RenderResource

        return RenderResource(self._requestor)

    @cached_property
    def sessions(self) -> SessionsResource:
        from .resources.sessions import SessionsResource

        return SessionsResource(
            self._requestor, state=self.state, credits=self.credits, uploads=self.uploads, render=self.render
        )

    async def aclose(self) -> None:
        if self._owns_http:
            await self._requestor.http.aclose()

    async def __aenter__(self) -> NemoClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        source = {
            "argument": "given",
            "environment": "from NEMO_TOKEN",
            "anonymous": "anonymous",
            "key_argument": "given",
            "key_environment": "from NEMO_API_KEY",
            "key_stored": "saved by nemovideo login",
        }[self.config.token_source]
        what = "api_key" if self.config.token_source.startswith("key_") else "token"
        return f"NemoClient(api={self.config.api!r}, api_url={self.config.api_url!r}, {what}={source})"
