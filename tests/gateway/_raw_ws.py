"""A tiny raw WebSocket server on loopback (blocking sockets + wsproto, in a thread), for wire cases the
emulator does not play: refused handshakes of every status, close codes, abrupt drops, the vendor CLI's
exact message sequences. httpx's MockTransport cannot carry a WebSocket, so this is the next smallest real
thing. It works the same under asyncio and trio, since the client talks to it over real TCP.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Request,
    TextMessage,
)


class Conn:
    """One accepted socket, as a script sees it."""

    def __init__(self, sock: socket.socket, ws: WSConnection, server: RawGateway) -> None:
        self.sock = sock
        self.ws = ws
        self.server = server
        self.received: list[dict[str, Any]] = []
        self._buffer = ""

    def send(self, message: dict[str, Any]) -> None:
        self.sock.sendall(self.ws.send(TextMessage(data=json.dumps(message))))

    def send_raw(self, text: str) -> None:
        self.sock.sendall(self.ws.send(TextMessage(data=text)))

    def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next JSON message of the client (pings answered with pong by the script, not here)."""
        self.sock.settimeout(timeout)
        while True:
            for event in self.ws.events():
                if isinstance(event, TextMessage):
                    self._buffer += event.data
                    if event.message_finished:
                        message: dict[str, Any] = json.loads(self._buffer)
                        self._buffer = ""
                        self.received.append(message)
                        self.server.received.append(message)
                        return message
                elif isinstance(event, Ping):
                    self.sock.sendall(self.ws.send(event.response()))
                elif isinstance(event, CloseConnection):
                    raise ConnectionError(f"client closed ({event.code})")
                elif isinstance(event, BytesMessage):
                    continue
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("client went away")
            self.ws.receive_data(data)

    def recv_type(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        """Skip to the client's next message of ``kind`` (pings are answered with pong on the way)."""
        while True:
            message = self.recv(timeout)
            if message.get("type") == kind:
                return message
            if message.get("type") == "ping":
                self.send({"type": "pong"})

    def close(self, code: int = 1000, reason: str = "") -> None:
        with contextlib.suppress(OSError):
            self.sock.sendall(self.ws.send(CloseConnection(code=code, reason=reason)))

    def drop(self) -> None:
        """Vanish without a close frame."""
        self.sock.close()


Script = Callable[[Conn], None]


@dataclass
class RawGateway:
    """Serves ``/ws/chat``: first answers each queued refusal (status, body), then plays each queued script
    on one accepted connection. ``urls`` records each handshake's path and query."""

    refusals: list[tuple[int, str]] = field(default_factory=list)
    scripts: list[Script] = field(default_factory=list)
    urls: list[str] = field(default_factory=list, repr=False)
    received: list[dict[str, Any]] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def query(self, index: int = -1) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.urls[index]).query)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(sock,), daemon=True).start()

    def _handle(self, sock: socket.socket) -> None:
        try:
            sock.settimeout(5.0)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                head += chunk
            self.urls.append(head.split(b" ", 2)[1].decode())
            if self.refusals:
                status, body = self.refusals.pop(0)
                sock.sendall(
                    f"HTTP/1.1 {status} Refused\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body.encode())}\r\nConnection: close\r\n\r\n{body}".encode()
                )
                sock.close()
                return
            ws = WSConnection(ConnectionType.SERVER)
            ws.receive_data(head)
            for event in ws.events():
                if isinstance(event, Request):
                    sock.sendall(ws.send(AcceptConnection()))
            script = self.scripts.pop(0) if self.scripts else _idle
            conn = Conn(sock, ws, self)
            script(conn)
        except (ConnectionError, OSError):
            pass
        except BaseException as exc:  # a failing script is reported by the test
            self.errors.append(exc)
        finally:
            with contextlib.suppress(OSError):
                sock.close()

    def stop(self) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(2)


def _idle(conn: Conn) -> None:
    conn.close(1000)


def play(*steps: dict[str, Any], expect_message: bool = True, then_close: int | None = 1000) -> Script:
    """A script: ``session_ready``, wait for the client's message, then send ``steps`` in order."""

    def script(conn: Conn) -> None:
        conn.send({"type": "session_ready", "session_id": "s1"})
        if expect_message:
            conn.recv_type("message")
        for step in steps:
            conn.send(step)
        if then_close is not None:
            conn.close(then_close)

    return script
