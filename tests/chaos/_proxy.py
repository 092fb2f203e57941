"""A TCP fault proxy: it forwards connections to a target and breaks each one its own way.

Every accepted connection draws a ``Fault`` (from a seeded generator, so a seed replays the same sequence of
faults in connection order): added latency per chunk, a bandwidth limit, a reset after N bytes, or a stall
after N bytes (for a while, or until the client gives up). The proxy is transport-blind: it breaks TLS-less
HTTP/1.1 the way a bad network would, without knowing which request it carries.
"""

from __future__ import annotations

import random
import socket
import struct
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
from anyio.abc import SocketAttribute, SocketStream

CHUNK = 16 * 1024


@dataclass(frozen=True)
class Fault:
    """What happens to one connection; the default forwards it untouched."""

    latency: float = 0.0
    """Seconds each chunk waits before it is forwarded (each direction)."""
    bandwidth: int | None = None
    """Bytes per second each direction may carry."""
    reset_after: int | None = None
    """Bytes (both directions together) after which both sides get a TCP reset."""
    stall_after: int | None = None
    """Bytes from the server after which it stops forwarding to the client ..."""
    stall_seconds: float = 0.0
    """... for this long (``inf``: until the client gives up)."""
    idle_close: float | None = None
    """Seconds of silence after which the connection is closed, as servers close idle keep-alive ones
    (a request sent just then meets a closed connection)."""

    @property
    def kinds(self) -> list[str]:
        names = []
        if self.latency:
            names.append("latency")
        if self.bandwidth is not None:
            names.append("bandwidth")
        if self.reset_after is not None:
            names.append("reset")
        if self.stall_after is not None:
            names.append("stall")
        if self.idle_close is not None:
            names.append("idle close")
        return names


def random_faults(rng: random.Random, *, clean_share: float = 0.4) -> Callable[[], Fault]:
    """A source of faults: ``clean_share`` of connections untouched, the rest with one or two faults."""

    def draw() -> Fault:
        idle = rng.choice([None, 0.05, 0.3, 1.0])  # any connection, faulty or not, may be closed when idle
        if rng.random() < clean_share:
            return Fault(idle_close=idle)
        kinds = rng.sample(["latency", "bandwidth", "reset", "stall"], k=rng.choice([1, 1, 2]))
        return Fault(
            idle_close=idle,
            latency=rng.uniform(0.005, 0.15) if "latency" in kinds else 0.0,
            bandwidth=rng.choice([20_000, 100_000, 1_000_000]) if "bandwidth" in kinds else None,
            reset_after=int(rng.expovariate(1 / 4000)) if "reset" in kinds else None,
            stall_after=int(rng.expovariate(1 / 4000)) if "stall" in kinds else None,
            stall_seconds=rng.choice([0.3, 1.0, 3.0, float("inf")]) if "stall" in kinds else 0.0,
        )

    return draw


@dataclass
class Stats:
    connections: int = 0
    drawn: Counter[str] = field(default_factory=Counter)
    """Faults given to connections, by kind."""
    fired: Counter[str] = field(default_factory=Counter)
    """Faults that took effect: a reset sent, a stall begun (a connection may end before its N bytes)."""


class _Link:
    """One proxied connection: two pumps sharing a byte count and a fault."""

    def __init__(self, client: SocketStream, server: SocketStream, fault: Fault, stats: Stats) -> None:
        self.client, self.server, self.fault, self.stats = client, server, fault, stats
        self.carried = 0
        self.done = anyio.Event()
        self.last = anyio.current_time()

    def _reset(self) -> None:
        self.stats.fired["reset"] += 1
        for stream in (self.client, self.server):
            sock = stream.extra(SocketAttribute.raw_socket)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.done.set()

    async def pump(self, source: SocketStream, sink: SocketStream, downstream: bool) -> None:
        fault = self.fault
        stalled = False
        try:
            while True:
                try:
                    data = await source.receive(CHUNK)
                except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                    break
                self.last = anyio.current_time()
                if fault.latency:
                    await anyio.sleep(fault.latency)
                if fault.reset_after is not None and self.carried + len(data) > fault.reset_after:
                    part = data[: max(fault.reset_after - self.carried, 0)]
                    if part:
                        await self._send(sink, part)
                    self._reset()
                    return
                stall = fault.stall_after
                if downstream and stall is not None and not stalled and self.carried + len(data) > stall:
                    stalled = True
                    self.stats.fired["stall"] += 1
                    await anyio.sleep(fault.stall_seconds)  # inf: until the client closes (see run)
                self.carried += len(data)
                if not await self._send(sink, data):
                    break
        finally:
            self.done.set()

    async def _send(self, sink: SocketStream, data: bytes) -> bool:
        rate = self.fault.bandwidth
        step = len(data) if rate is None else max(rate // 20, 1)
        for start in range(0, len(data), step):
            piece = data[start : start + step]
            try:
                await sink.send(piece)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                return False
            if rate is not None:
                await anyio.sleep(len(piece) / rate)
        return True

    async def close_when_idle(self, seconds: float) -> None:
        while (idle := anyio.current_time() - self.last) < seconds:  # noqa: ASYNC110 (a timer, not a wait)
            await anyio.sleep(seconds - idle)
        self.stats.fired["idle close"] += 1
        self.done.set()

    async def run(self) -> None:
        async with anyio.create_task_group() as pumps:
            pumps.start_soon(self.pump, self.client, self.server, False)
            pumps.start_soon(self.pump, self.server, self.client, True)
            if self.fault.idle_close is not None:
                pumps.start_soon(self.close_when_idle, self.fault.idle_close)
            await self.done.wait()  # either side ended, or a reset: the whole connection goes
            pumps.cancel_scope.cancel()


class FaultProxy:
    """``async with FaultProxy.serve(port, faults) as proxy``: on ``proxy.url`` until the block ends."""

    def __init__(self, target_port: int, faults: Callable[[], Fault]) -> None:
        self.target_port = target_port
        self.faults = faults
        self.stats = Stats()
        self.port = 0
        self.enabled = True
        """Off: connections pass untouched (for the checks after a soak)."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    @asynccontextmanager
    async def serve(cls, target_port: int, faults: Callable[[], Fault]) -> AsyncIterator[FaultProxy]:
        proxy = cls(target_port, faults)
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        proxy.port = listener.extra(SocketAttribute.local_port)
        async with listener, anyio.create_task_group() as group:
            group.start_soon(listener.serve, proxy._accept, group)
            try:
                yield proxy
            finally:
                group.cancel_scope.cancel()

    async def _accept(self, client: SocketStream) -> None:
        fault = self.faults() if self.enabled else Fault()
        self.stats.connections += 1
        self.stats.drawn.update(fault.kinds)
        async with client:
            try:
                server = await anyio.connect_tcp("127.0.0.1", self.target_port)
            except OSError:
                return
            async with server:
                await _Link(client, server, fault, self.stats).run()


__all__ = ["Fault", "FaultProxy", "Stats", "random_faults"]
