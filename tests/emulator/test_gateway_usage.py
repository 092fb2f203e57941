"""Usage history: what the emulator really charged and granted, paged and filtered by date."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from nemovideo.emulator import Emulator

from ._gw import bearer, connect, data, new_key, new_project, say, ws_url
from ._helpers import GENERATE, api

pytestmark = pytest.mark.anyio
USAGE = "/billing/usage/conversations"
DAY = 24 * 3600.0


async def test_a_turn_is_charged_once_and_recorded_with_its_project_session_and_tools(
    nemo_emulator: Emulator,
) -> None:
    nemo_emulator.configure(credits=300, silent_share=0)
    key = new_key()
    async with api(nemo_emulator) as c:
        pid, sid = await new_project(c, key)
        async with connect(ws_url(nemo_emulator, key, sid), c) as ws:
            await ws.receive_json(timeout=10)
            generated = await say(ws, GENERATE, client_message_id="cm-gen")
            await say(ws, "what can you do?")  # a reply with no tool: free, not in the history
        usage = data(await c.get(USAGE, headers=bearer(key)))
        balance = data(await c.get("/billing/balance", headers=bearer(key)))
    assert generated[-1]["credits_charged"] == 100
    assert [(i["kind"], i["amount_delta"]) for i in usage["items"]] == [
        ("conversation", -100),
        ("grant", 300),
    ]
    conversation = usage["items"][0]["conversation"]
    assert conversation == {
        "project_id": pid,
        "session_id": sid,
        "conversation_id": "cm-gen",
        "user_message": GENERATE,
        "user_message_hidden": False,
        "tool_breakdown": [{"tool_key": "generate_video"}, {"tool_key": "compose_video"}],
    }
    assert usage["items"][1]["grant"] == {"source": "welcome"}
    assert balance == {"available": 200, "frozen": 0, "total_granted": 300, "total_consumed": 100}
    assert (
        -sum(i["amount_delta"] for i in usage["items"] if i["kind"] == "conversation")
        == balance["total_consumed"]
    )


async def test_paging(nemo_emulator: Emulator) -> None:
    key = nemo_emulator.add_api_key()
    for credits in range(1, 8):  # each change of balance is an admin grant
        nemo_emulator.add_api_key(key, credits=100 + credits * 10)
    async with api(nemo_emulator) as c:
        pages = [
            data(await c.get(USAGE, params={"page_no": n, "page_size": 3}, headers=bearer(key)))
            for n in (1, 2, 3)
        ]
        default = data(await c.get(USAGE, headers=bearer(key)))
        too_big = await c.get(USAGE, params={"page_size": 101}, headers=bearer(key))
        zero = await c.get(USAGE, params={"page_no": 0}, headers=bearer(key))
        word = await c.get(USAGE, params={"page_size": "many"}, headers=bearer(key))
        biggest = await c.get(USAGE, params={"page_size": 100}, headers=bearer(key))
    assert [len(p["items"]) for p in pages] == [3, 3, 2]
    assert [p["has_next"] for p in pages] == [True, True, False]
    assert {(p["total"], p["total_pages"]) for p in pages} == {(8, 3)}
    assert [p["page_no"] for p in pages] == [1, 2, 3]
    flat = [i for p in pages for i in p["items"]]
    assert flat == default["items"]
    assert [i["grant"]["source"] for i in flat] == ["admin"] * 7 + ["welcome"]
    assert [i["amount_delta"] for i in flat[:7]] == [10] * 7
    assert default["page_size"] == 20
    assert (too_big.status_code, too_big.json()["code"]) == (400, 400)
    assert "page_size" in too_big.json()["message"]
    assert zero.status_code == 400
    assert word.status_code == 400
    assert biggest.status_code == 200


async def test_date_range_on_the_emulator_clock(nemo_emulator: Emulator) -> None:
    key = nemo_emulator.add_api_key()
    days = [datetime.fromtimestamp(nemo_emulator.clock.now(), timezone.utc).date()]
    for n in range(1, 4):
        nemo_emulator.clock.advance(DAY)
        days.append(datetime.fromtimestamp(nemo_emulator.clock.now(), timezone.utc).date())
        nemo_emulator.add_api_key(key, credits=100 + n)
    async with api(nemo_emulator) as c:

        async def between(start: str | None, end: str | None) -> list[int]:
            params = {k: v for k, v in (("start_date", start), ("end_date", end)) if v}
            got = data(await c.get(USAGE, params=params, headers=bearer(key)))
            return [int(i["amount_delta"]) for i in got["items"]]

        middle = await between(days[1].isoformat(), days[2].isoformat())
        since = await between(days[2].isoformat(), None)
        until_ = await between(None, days[0].isoformat())
        as_time = await between(f"{days[3].isoformat()}T00:00:00Z", None)
        backwards = await c.get(
            USAGE,
            params={"start_date": days[2].isoformat(), "end_date": days[1].isoformat()},
            headers=bearer(key),
        )
        nonsense = await c.get(USAGE, params={"start_date": "yesterday"}, headers=bearer(key))
    assert middle == [1, 1]  # the grants of day 2 and day 1, newest first
    assert since == [1, 1]
    assert until_ == [100]  # the welcome grant
    assert as_time == [1]
    assert backwards.status_code == 400
    assert nonsense.status_code == 400


async def test_the_older_records_shape(nemo_emulator: Emulator) -> None:
    nemo_emulator.configure(gateway_usage_shape="records")
    key = new_key()
    async with api(nemo_emulator) as c:
        body = data(await c.get(USAGE, headers=bearer(key)))
    assert set(body) == {"records", "total"}
    assert body["total"] == 1
    record = body["records"][0]
    assert record["type"] == "grant"
    assert record["credits"] == 100
    assert record["id"].startswith("usage_")
    assert "welcome" in record["description"]
