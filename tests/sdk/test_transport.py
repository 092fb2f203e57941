"""The gate in front of the connection pool: slots held until a response closes, the pool timeout kept."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest

import nemovideo
from nemovideo._transport import GatedTransport
from nemovideo.emulator import Emulator

pytestmark = pytest.mark.anyio


def _client(emulator: Emulator, slots: int, pool_timeout: float) -> httpx.AsyncClient:
    gate = GatedTransport(httpx.AsyncHTTPTransport(), slots)
    return httpx.AsyncClient(
        transport=gate, base_url=emulator.url, timeout=httpx.Timeout(10, pool=pool_timeout)
    )


async def test_a_slot_is_held_until_the_response_is_closed(nemo_emulator: Emulator) -> None:
    async with _client(nemo_emulator, 2, 0.2) as http:
        first = await http.send(http.build_request("GET", "/_emulator/log"), stream=True)
        second = await http.send(http.build_request("GET", "/_emulator/log"), stream=True)
        with pytest.raises(httpx.PoolTimeout, match="pool timeout"):
            await http.get("/_emulator/log")
        await first.aclose()
        await first.aclose()  # a second close gives back nothing more
        third = await http.get("/_emulator/log")
        assert third.status_code == 200
        fourth = await http.send(http.build_request("GET", "/_emulator/log"), stream=True)
        with pytest.raises(httpx.PoolTimeout):  # `second` and `fourth` hold both slots
            await http.get("/_emulator/log")
        await second.aclose()
        await fourth.aclose()


async def test_waiting_requests_go_through_as_slots_free(nemo_emulator: Emulator) -> None:
    inside = peak = 0
    statuses: list[int] = []

    async with _client(nemo_emulator, 3, 10) as http:

        async def one() -> None:
            nonlocal inside, peak
            async with http.stream("GET", "/_emulator/log") as response:
                inside += 1
                peak = max(peak, inside)
                await anyio.sleep(0.02)
                statuses.append(response.status_code)
                inside -= 1

        async with anyio.create_task_group() as tg:
            for _ in range(12):
                tg.start_soon(one)
    assert statuses == [200] * 12
    assert peak == 3


async def test_a_failed_request_gives_its_slot_back(tmp_path: Path) -> None:
    gate = GatedTransport(httpx.AsyncHTTPTransport(), 1)
    async with httpx.AsyncClient(transport=gate, timeout=httpx.Timeout(2, pool=0.5)) as http:
        for _ in range(3):  # with the slot lost, the second attempt would wait out the pool timeout
            with pytest.raises(httpx.ConnectError):
                await http.get("http://127.0.0.1:9/")


async def test_the_default_client_is_gated_and_works(nemo_emulator: Emulator, tmp_path: Path) -> None:
    async with nemovideo.NemoClient(api_url=nemo_emulator.url, config_dir=tmp_path) as nemo:
        assert isinstance(nemo._requestor.http._transport, GatedTransport)
        balances: list[int] = []
        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(lambda: _balance(nemo, balances))
        assert len(balances) == 5


async def _balance(nemo: nemovideo.NemoClient, into: list[int]) -> None:
    into.append((await nemo.credits.balance()).total)
