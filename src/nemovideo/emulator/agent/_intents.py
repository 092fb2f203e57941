"""Stage 3: what the person wants, from cue words and the slots: a generation, one or more edits, a question
about the timeline, the help text, or nothing the stand-in can do."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from . import _lexicon as lex
from ._slots import MAX_REQUEST, Slots, blank_quotes, quotes, slots_of, split_script

Kind = Literal["generate", "edit", "question", "help", "export", "thanks", "unknown"]
EDIT_ORDER = ("aspect", "uploads", "length", "music_off", "music", "volume", "title", "title_off", "text")
"""The order edits of one message are applied in (a new canvas first, then what sits on it)."""


@dataclass
class Intent:
    kind: Kind
    slots: Slots
    edits: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    topic: str = ""
    """For questions: what is asked about (length, music, aspect, title, everything)."""


def _generation_cue(low: str, has_draft: bool, s: Slots) -> bool:
    verb = lex.has("generate", low) and not re.search(r"(?<![\w'])make\s+it\b", low)
    nouns = lex.find("noun", low)
    if not has_draft:
        return bool(nouns) or (verb and bool(s.topic or s.length_s or s.script or s.uploads or s.music))
    if not nouns:
        return False
    if verb:
        return True
    # With a timeline, a noun alone is a new video only when the message opens with it and says what the
    # video is about ("Short promo for a pizza place..."); "视频太长了" and "帮我导出视频" speak of this one.
    opening = low[: nouns[0].start()]
    short = len(opening.split()) <= 3 if opening.isascii() else len(opening.strip()) <= 2
    return bool(s.topic or s.script) and short and not lex.has("edit", opening)


def understand(text: str, low: str, has_draft: bool) -> Intent:
    head, _script = split_script(text)
    head = head[:MAX_REQUEST]
    hlow = blank_quotes(low[: len(head)], quotes(head))
    gen = slots_of(text, low, generation=True)
    if _generation_cue(hlow, has_draft, gen) and not _is_question(hlow, gen, generation_cue=True):
        return Intent("generate", gen)
    text, low = text[:MAX_REQUEST], low[:MAX_REQUEST]
    s = slots_of(text, low, generation=False)
    scan = blank_quotes(low, quotes(text))
    exporting = lex.has("export", scan)
    if not exporting and _is_question(scan, s, generation_cue=True) and (asked := _asked(scan)):
        return Intent("help" if asked == "help" else "question", s, topic=asked)
    edits = _edits(scan, s)
    if edits:
        return Intent("edit", s, edits)
    if exporting:
        return Intent("export", s)
    if lex.has("capabilities", scan) or lex.has("greeting", scan):
        return Intent("help", s)
    short = len(scan.split()) <= 5 if scan.isascii() else len(scan.strip()) <= 8
    if lex.has("thanks", scan) and short and not lex.has("edit", scan):
        return Intent("thanks", s)
    if _is_question(scan, s, generation_cue=False) and (asked := _asked(scan)):
        return Intent("question", s, topic=asked)
    return Intent("unknown", s)


def _is_question(low: str, s: Slots, *, generation_cue: bool) -> bool:
    asks = lex.has("question", low) or low.rstrip().endswith("?")
    if not asks:
        return False
    if generation_cue:
        # "can you make a promo about cats?" is a request; "what video can you make?" is not one.
        opens = re.match(r"\s*(?:what|how|which|is|does|do|why|什么|多长|多久|现在|目前)", low)
        zh_asks = re.search(r"什么|多长|多久|几秒|吗|有没有|是否|哪", low)
        return bool(opens or zh_asks) and not lex.has("request", low)
    return True


def _asked(low: str) -> str:
    if lex.has("capabilities", low):
        return "help"
    for topic, words in (
        ("length", r"how long|length|duration|seconds|long is|runtime|多长|多久|几秒|时长|长度"),
        ("music", r"music|song|soundtrack|bgm|track|volume|音乐|配乐|歌|音量"),
        ("aspect", r"aspect|ratio|format|vertical|horizontal|square|orientation|比例|横屏|竖屏|尺寸|方形"),
        ("title", r"title|called|name|标题|名字|题目"),
    ):
        if re.search(words, low):
            return topic
    if re.search(r"(?<![\w'])(?:video|timeline|it|so far|draft|project)(?![\w'])|视频|时间线|现在|目前", low):
        return "everything"
    return ""


def _edits(low: str, s: Slots) -> list[tuple[str, dict[str, Any]]]:
    found: dict[str, dict[str, Any]] = {}
    music = s.music is not None or lex.has("music", low)
    if s.aspect is not None:
        found["aspect"] = {"aspect": s.aspect}
    if s.uploads and (lex.has("edit", low) or lex.has("request", low)):
        found["uploads"] = {}
    shorter, longer = lex.has("shorter", low), lex.has("longer", low)
    if s.factor is not None and s.length_s is None and s.delta_s is None and not music:
        found["length"] = {"factor": s.factor}
    elif s.length_s is not None and (lex.has("length", low) or lex.has("edit", low) or len(low.split()) <= 3):
        found["length"] = {"seconds": s.length_s}
    elif s.delta_s is not None and shorter != longer:
        found["length"] = {"delta": -s.delta_s if shorter else s.delta_s}
    elif shorter != longer and not music:
        found["length"] = {"factor": 0.75 if shorter else 1.25}
    removals = _removal_clauses(low)
    replacing = any(
        (lex.has("add", c) or lex.has("change", c))
        and (lex.has("music", c) or lex.first_key(lex.STYLES, c) is not None)
        and not lex.has("remove", c)
        for c in _CLAUSE.split(low)
    )  # "remove the music, add upbeat music instead", "去掉现在的音乐，换成舒缓的"
    removing = s.music is False or any(
        lex.has("music", c) and not lex.has("add", _after_remove(c)) and not replacing for c in removals
    )
    if removing:
        found["music_off"] = {}
    elif s.volume_delta is not None or (s.volume is not None and (music or lex.has("volume", low))):
        if s.volume is not None:
            found["volume"] = {"volume": s.volume}
        else:
            found["volume"] = {"delta": s.volume_delta}
        if s.style or (lex.has("add", low) and not lex.has("volume", low.replace("% volume", ""))):
            found["music"] = {"style": s.style, "change": False, "quiet": True}
    elif music or (s.style and re.search(r"more|less|something|更|一点|些", low)):
        if s.style or lex.has("change", low):
            found["music"] = {"style": s.style, "change": True}
        elif lex.has("add", low) or lex.has("edit", low) or lex.has("request", low) or len(low.split()) <= 3:
            found["music"] = {"style": None, "change": False}
    clauses = _CLAUSE.split(low)
    removing_title = [
        c
        for c in removals
        if lex.has("title", c) and not (lex.has("add", c) or lex.has("change", c) or lex.has("text", c))
    ]
    retitled = s.title is not None and any(lex.has("title", c) and not lex.has("remove", c) for c in clauses)
    if removing_title and not retitled:
        found["title_off"] = {}
    elif s.title and (lex.has("title", low) or lex.has("edit", low)):
        found["title"] = {"title": s.title, "seconds": s.span_s}
    elif s.text and (lex.has("edit", low) or lex.has("request", low)):
        found["text"] = {"text": s.text, "at": s.at_s or 0.0, "seconds": s.span_s, "tail": s.tail_s}
    return [(name, found[name]) for name in EDIT_ORDER if name in found]


_CLAUSE = re.compile(
    r"[,，;；。!！?？、]|(?<![\w'])(?:and|then|also|plus)(?![\w'])|然后|并且|并|再|还有|同时"
)


def _removal_clauses(low: str) -> list[str]:
    """The clauses that hold a removal cue: what is removed is named there ("把标题去掉，音乐调到10%"
    removes the title, not the music)."""
    return [c for c in _CLAUSE.split(low) if lex.has("remove", c)]


def _after_remove(low: str) -> str:
    """The words after the removal cue ("remove the music and add..." still removes)."""
    m = lex.find("remove", low)
    if not m or m[0][0].startswith("with"):
        return ""
    rest = low[m[0].end() :]
    for music in lex.find("music", rest):
        rest = rest.replace(music[0], " ")
    return rest
