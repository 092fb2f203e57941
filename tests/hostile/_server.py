"""A raw HTTP/1.1 server that misbehaves on purpose, one behaviour per URL prefix.

It speaks over plain TCP sockets (anyio listeners) rather than through a framework, because what it must send
is exactly what a framework refuses to: a wrong Content-Length, a reset mid-body, a half-closed socket, two
conflicting headers. It runs on its own event loop in a background thread (as the emulator does), so the
client under test may run on asyncio or trio and is never slowed by the server's own work.

A case is reached at ``server.url(name)``: the client's API URL is that prefix, so every request it makes
lands on the handler named ``name``. Handlers that stream (a huge body, endless events) write until the client
goes away, and ``sent[name]`` tells how many bytes they managed to push.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import zlib
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass

import anyio
import anyio.from_thread
from anyio.abc import SocketAttribute, SocketStream, TaskStatus

HEAD_LIMIT = 64 * 1024


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Connection:
    """One accepted socket: what a handler writes through, counted per case."""

    def __init__(self, stream: SocketStream, server: HostileServer, case: str) -> None:
        self.stream = stream
        self.server = server
        self.case = case

    async def send(self, data: bytes) -> bool:
        """Write ``data``; ``False`` once the client has gone away (then stop writing)."""
        try:
            await self.stream.send(data)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            return False
        self.server.count(self.case, len(data))
        return True

    async def send_all(self, chunks: Iterable[bytes], *, pause: float = 0.0) -> bool:
        """Write chunk after chunk until they run out or the client leaves."""
        for chunk in chunks:
            if not await self.send(chunk):
                return False
            if pause:
                await anyio.sleep(pause)
        return True

    async def head(self, status: str, headers: list[tuple[str, str]]) -> bool:
        lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers), "", ""]
        return await self.send("\r\n".join(lines).encode("latin-1"))

    async def answer(self, status: str, body: bytes, headers: list[tuple[str, str]] | None = None) -> None:
        """A whole, well-formed answer (the misbehaviour is then in what it says)."""
        head = headers if headers is not None else [("Content-Type", "application/json")]
        await self.head(status, [*head, ("Content-Length", str(len(body))), ("Connection", "close")])
        await self.send(body)

    def reset(self) -> None:
        """Make the coming close a TCP reset (RST) instead of an orderly FIN."""
        sock = self.stream.extra(SocketAttribute.raw_socket)
        with contextlib.suppress(OSError):  # the client already closed it: nothing left to reset
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    async def half_close(self) -> None:
        """Shut our sending side (FIN) and keep reading until the client closes its own."""
        await self.stream.send_eof()
        await self.wait_closed()

    async def wait_closed(self) -> None:
        """Hold the connection open, silent, until the client closes it."""
        try:
            while await self.stream.receive():
                pass
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            return


Handler = Callable[[Connection, Request], Awaitable[None]]


async def _read_request(stream: SocketStream) -> Request | None:
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        if len(buffer) > HEAD_LIMIT:
            return None
        try:
            buffer += await stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
            return None
    head, _, body = buffer.partition(b"\r\n\r\n")
    first, *lines = head.decode("latin-1").split("\r\n")
    method, path, _ = first.split(" ", 2)
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(body) < length:
        try:
            body += await stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
            return None
    return Request(method, path, headers, body)


class HostileServer:
    """``start()`` returns once listening, ``stop()`` once closed; ``route`` registers a case."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}
        self.sent: Counter[str] = Counter()
        """Bytes written per case (headers included), reset by ``clear()``."""
        self.requests: Counter[str] = Counter()
        """Requests received per case."""
        self.seen: defaultdict[str, list[Request]] = defaultdict(list)
        """The requests themselves, per case (their headers tell a resume from a fresh download)."""
        self.port = 0
        self._lock = threading.Lock()
        self._portal_cm: AbstractContextManager[anyio.from_thread.BlockingPortal] | None = None
        self._portal: anyio.from_thread.BlockingPortal | None = None
        self._main: Future[None] | None = None
        self._stop: anyio.Event | None = None

    def route(self, name: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.handlers[name] = handler
            return handler

        return register

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def count(self, case: str, size: int) -> None:
        with self._lock:
            self.sent[case] += size

    def clear(self) -> None:
        with self._lock:
            self.sent.clear()
            self.requests.clear()
            self.seen.clear()

    def start(self) -> HostileServer:
        cm = anyio.from_thread.start_blocking_portal("asyncio")
        self._portal = cm.__enter__()
        self._portal_cm = cm
        self._main, _ = self._portal.start_task(self._serve)
        return self

    def stop(self) -> None:
        portal, cm = self._portal, self._portal_cm
        if portal is None or cm is None:
            return
        portal.call(self._request_stop)
        if self._main is not None:
            self._main.result(timeout=10)
        cm.__exit__(None, None, None)
        self._portal = self._portal_cm = None

    def _request_stop(self) -> None:
        if self._stop is not None:
            self._stop.set()

    async def _serve(self, *, task_status: TaskStatus[None]) -> None:
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        self.port = listener.extra(SocketAttribute.local_port)
        self._stop = anyio.Event()
        async with listener, anyio.create_task_group() as group:
            group.start_soon(listener.serve, self._connection)
            task_status.started()
            await self._stop.wait()
            group.cancel_scope.cancel()

    async def _connection(self, stream: SocketStream) -> None:
        # the client may go away mid-misbehaviour; the server must live on for the next case
        with contextlib.suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
            await self._serve_one(stream)

    async def _serve_one(self, stream: SocketStream) -> None:
        async with stream:
            request = await _read_request(stream)
            if request is None:
                return
            case = request.path.lstrip("/").split("/", 1)[0]
            with self._lock:
                self.requests[case] += 1
                self.seen[case].append(request)
            handler = self.handlers.get(case)
            if handler is None:
                await Connection(stream, self, case).answer("404 Not Found", b'{"detail":"no such case"}')
                return
            await handler(Connection(stream, self, case), request)


def gzip_of_zeros(total: int, block: int = 1024 * 1024) -> Iterator[bytes]:
    """A gzip stream of ``total`` zero bytes, made block by block: never ``total`` bytes in memory, and cheap
    because after a full flush every block of zeros compresses to the same bytes (computed once)."""
    zeros = bytes(block)
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    first = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    again = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    blocks = total // block
    yield first
    for _ in range(blocks - 2):
        yield again
    last = packer.compress(zeros) + packer.flush(zlib.Z_FINISH)  # the second block's state ends the stream
    crc = 0
    for _ in range(blocks):
        crc = zlib.crc32(zeros, crc)
    yield last[:-8] + struct.pack("<II", crc, total & 0xFFFFFFFF)
