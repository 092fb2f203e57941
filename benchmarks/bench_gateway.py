"""The emulator's gateway chat next to its `/run_sse`: the same turns, the same agent, two transports.

    python benchmarks/bench_gateway.py [--sessions 50] [--json out.json]

N sessions each send one generation at once, over the gateway's WebSocket (raw httpx-ws) and, as the
baseline measured in the same run, over `/run_sse` (raw httpx). Reported: wall time until every turn ended,
the median time to the first answer text (the chat streams its thinking first, so it comes later there), and
the messages each turn carried. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, cast

import anyio
import httpx
from httpx_ws import AsyncWebSocketSession, aconnect_ws

from nemovideo.emulator import Emulator

GENERATE = "Generate a 4-second promotional video about a bakery with background music"
SETTINGS = {"generation_seconds": 0.5, "heartbeat_interval": 0.1, "text_delay": 0.002, "silent_share": 0.0}


async def ws_turn(emu: Emulator, c: httpx.AsyncClient) -> tuple[float, int]:
    key = f"nmv_usr_{uuid.uuid4().hex}"
    made = await c.post(
        "/projects", json={"create_session": True}, headers={"Authorization": f"Bearer {key}"}
    )
    sid = made.json()["data"]["session"]["session_id"]
    url = emu.url.replace("http://", "ws://") + f"/ws/chat?token={key}&session_id={sid}"
    start = time.perf_counter()
    first, count = 0.0, 0
    chat = cast("AbstractAsyncContextManager[AsyncWebSocketSession]", aconnect_ws(url, c))
    async with chat as ws:
        await ws.receive_json(timeout=60)
        await ws.send_json({"type": "message", "content": GENERATE, "metadata": {}})
        while True:
            message = await ws.receive_json(timeout=60)
            count += 1
            if message["type"] == "chunk" and not first:
                first = time.perf_counter() - start
            if message["type"] in ("done", "error"):
                return first, count


async def sse_turn(c: httpx.AsyncClient) -> tuple[float, int]:
    r = await c.post("/api/auth/anonymous-token", headers={"X-Client-Id": str(uuid.uuid4())})
    headers = {"Authorization": f"Bearer {r.json()['data']['token']}"}
    r = await c.post("/api/tasks/me/with-session/nemo_agent", json={"task_name": "project"}, headers=headers)
    sid = r.json()["data"]["session_id"]
    body = {
        "app_name": "nemo_agent",
        "user_id": "me",
        "session_id": sid,
        "new_message": {"role": "user", "parts": [{"text": GENERATE}]},
    }
    start = time.perf_counter()
    first, count = 0.0, 0
    async with c.stream("POST", "/run_sse", json=body, headers=headers) as resp:
        async for line in resp.aiter_lines():
            if not line.startswith("data: {"):
                continue
            count += 1
            if '"partial":true' in line and not first:
                first = time.perf_counter() - start
    return first, count


async def measure(n: int, emu: Emulator, gateway: bool) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=n * 2, max_keepalive_connections=n * 2)
    results: list[tuple[float, int]] = []
    async with httpx.AsyncClient(base_url=emu.url, timeout=120, limits=limits) as c:

        async def one() -> None:
            results.append(await (ws_turn(emu, c) if gateway else sse_turn(c)))

        start = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for _ in range(n):
                tg.start_soon(one)
        wall = time.perf_counter() - start
    return {
        "wall_s": wall,
        "first_text_median_s": statistics.median(f for f, _ in results),
        "messages_per_turn": statistics.median(m for _, m in results),
        "done": len(results),
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sessions", type=int, default=50)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args()
    with Emulator(credits=1000, tokens_per_ip=100_000, **SETTINGS) as emu:  # type: ignore[arg-type]
        sse = anyio.run(measure, args.sessions, emu, False)
        emu.reset()
        ws = anyio.run(measure, args.sessions, emu, True)
    out = {
        "sessions": args.sessions,
        "gateway": ws,
        "run_sse": sse,
        "wall_ratio": ws["wall_s"] / sse["wall_s"],
    }
    print(f"{args.sessions} turns at once, one generation each ({SETTINGS['generation_seconds']} s of work)")
    print(f"{'':22}{'gateway ws':>12}{'/run_sse':>12}{'ratio':>8}")
    for name, key in (("wall time, s", "wall_s"), ("first text, median s", "first_text_median_s")):
        print(f"{name:22}{ws[key]:12.3f}{sse[key]:12.3f}{ws[key] / sse[key]:8.2f}")
    print(f"{'messages per turn':22}{ws['messages_per_turn']:12.0f}{sse['messages_per_turn']:12.0f}")
    print(f"{'turns done':22}{ws['done']:12d}{sse['done']:12d}")
    if args.json is not None:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
