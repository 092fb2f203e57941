"""Every request of the corpus (and every prompt the project shows people) through the SDK against the
emulator, judged by the timeline it leaves (never by the reply's wording)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import nemovideo
from nemovideo.emulator import Emulator

from ._corpus import Case, Corpus, collected, load, misses

pytestmark = pytest.mark.anyio


def test_the_corpus_covers_every_intent_in_both_languages() -> None:
    corpus = load()
    assert len(corpus.cases) >= 250
    zh = [c for c in corpus.cases if c.lang == "zh"]
    assert len(zh) * 3 >= len(corpus.cases)
    intents = {c.intent for c in corpus.cases}
    assert {c.intent for c in zh} == {c.intent for c in corpus.cases if c.lang == "en"}
    assert {"generate", "volume", "music_style", "music_off", "music_add", "title", "text", "length",
            "aspect", "uploads", "multi", "question", "help", "unknown", "empty"} <= intents  # fmt: skip


def test_shown_prompts_are_collected() -> None:
    """The collector finds the prompts of each kind of source (so an empty list cannot pass silently)."""
    sources = {c.source.split(" ")[0].split("/")[0] for c in collected()}
    assert {"README.md", "docs", "examples", "nemovideo", "agent"} <= sources


async def _state(
    nemo: nemovideo.NemoClient, emulator: Emulator, session: nemovideo.Session
) -> dict[str, object]:
    state = emulator.session_state(session.id)
    return {"draft": state["draft"], "canvas_config": state["canvas_config"]}


async def _run(
    nemo: nemovideo.NemoClient, emulator: Emulator, corpus: Corpus, case: Case, media: Path
) -> list[str]:
    session = await nemo.sessions.create(language="zh" if case.lang == "zh" else "en")
    setup = corpus.setups[case.setup]
    if setup["upload"]:
        await session.upload(media)
    for message in setup["messages"]:
        await session.send(message)
    before = await _state(nemo, emulator, session)
    await session.send(case.say)
    return misses(case.expect, before, await _state(nemo, emulator, session))


async def test_every_request_builds_the_timeline_it_asks_for(
    nemo_emulator: Emulator, tmp_path: Path, media_dir: Path
) -> None:
    nemo_emulator.configure(
        credits=10**9, silent_share=0.0, generation_seconds=0.002, heartbeat_interval=1.0, text_delay=0.0
    )
    corpus = load()
    cases = corpus.cases + collected()
    failed: dict[str, list[str]] = {}
    tally: Counter[str] = Counter()
    async with nemovideo.NemoClient(api_url=nemo_emulator.url, config_dir=tmp_path / "nemo") as nemo:
        for case in cases:
            tally[case.intent] += 1
            problems = await _run(nemo, nemo_emulator, corpus, case, media_dir / "still.png")
            if problems:
                failed.setdefault(case.intent, []).append(f"  {case.say!r}: {'; '.join(problems)}")
    if failed:
        table = [
            f"{intent:32} {len(lines):3} of {tally[intent]:3} missed" for intent, lines in failed.items()
        ]
        details = [line for lines in failed.values() for line in lines]
        pytest.fail("\n".join(["misses per intent:", *table, "", *details]))


def test_the_docs_table_quotes_corpus_requests() -> None:
    """The table of intents in docs/emulator.md quotes corpus requests of the intent of each row."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "emulator.md").read_text(encoding="utf-8")
    section = text[text.index("## The agent") : text.index("## The stream")]
    known = {(c.intent, c.say) for c in load().cases}
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| ") and '"' in line]
    assert len(rows) >= 12
    for row in rows:
        intent = row[0].removeprefix("| ").strip()
        for quoted in (row[1], row[2]):
            say = quoted.strip()[1:-1].replace('\\"', '"')
            assert (intent, say) in known, f"{intent}: {say!r} is not a corpus request of that intent"
