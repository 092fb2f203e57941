"""Stage 2: the facts in a message, each found on its own (a duration, an aspect, music, a volume, a title, a
topic, a script, the uploads), whatever the wording around them.

Every pattern here is a literal alternation or a bounded run of one character class, so the time is linear in
the length of the text.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from dataclasses import dataclass, field

from . import _lexicon as lex

MAX_REQUEST = 2_000
"""Characters of a request searched for cues (a script after the colon is read whole)."""
MAX_MENTIONS = 64
"""Mentions of one kind read per message: what a person means is said long before the 64th time."""
_HAN = re.compile(r"[\u3400-\u9fff]")
_DURATION = re.compile(
    r"(\d{1,5}(?:\.\d{1,3})?)\s{0,3}-?\s{0,3}"
    r"(seconds?|secs?|s|minutes?|mins?|m|秒钟|秒|分钟|分)(?![a-z])"
)
_CLOCK = re.compile(r"(?<![\d:])(\d{1,2}):([0-5]\d)(?![\d:])")
_RATIO = re.compile(r"(?<![\d.])(\d{1,2})\s{0,2}(?:[:x×/]|比)\s{0,2}(\d{1,2})(?![\d.])")
_RATIO_LIKE = frozenset({"9:16", "16:10", "10:16", "9:21", "16:12", "12:16"})
"""Written like minutes:seconds, but aspect ratios."""
_PERCENT = re.compile(r"(\d{1,4}(?:\.\d{1,3})?)\s{0,2}(?:%|percent\b|per cent\b)")
_VOLUME_TO = re.compile(r"(?:volume|音量)[^\d%]{0,24}?(?:to|at|到|为|成)\s{0,2}(\d{1,3})(?![\d.%])")
_QUOTES = {
    '"': '"',
    "'": "'",
    "“": "”",
    "‘": "’",
    "«": "»",
    "「": "」",
    "『": "』",
    "《": "》",
    "„": "“",
    "`": "`",
}
_COLON = re.compile(r"(?<!\d):|:(?!\d)")
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s*|\n+")
_CLAUSE_END = re.compile(
    r"[,.;!?\n()，。；！？、]|\s(?:with|without|in|using|from|that|which|who|at|and|set|lasting|under|for|"
    r"featuring|titled|called|named|please|including|plus|as|on|by)\s|\s(?=\d)|$"
)
_TITLE_CUE = re.compile(
    r"(?<![\w'])(?:titled|entitled|called|named|title|headline|heading|rename it|rename|call it|name it)"
    r"(?![\w'])"
    r"|标题|题目|片名|名为|名叫|叫做|叫"
)
_TITLE_SKIP = re.compile(
    r"(?:\s|:|=|-|to|it|as|of|be|is|should|say|says|saying|that|reading|reads|text|"
    r"为|是|改成|改为|换成|设为|设置为|叫|做|成)*"
)
_ARTICLES = ("a ", "an ", "the ")
_FILLER = frozenset(
    [
        "a",
        "an",
        "the",
        "some",
        "short",
        "quick",
        "brief",
        "little",
        "tiny",
        "nice",
        "cool",
        "simple",
        "new",
        "fresh",
        "great",
        "awesome",
        "good",
        "beautiful",
        "promotional",
        "promo",
        "marketing",
        "social",
        "media",
        "product",
        "brand",
        "advertising",
        "vertical",
        "horizontal",
        "square",
        "portrait",
        "landscape",
        "widescreen",
        "video",
        "videos",
        "clip",
        "second",
        "seconds",
        "minute",
        "minutes",
        "sec",
        "secs",
        "long",
        "me",
        "us",
        "our",
        "my",
        "please",
        "cinematic",
        "catchy",
        "fun",
        "engaging",
        "professional",
        "stunning",
        "modern",
    ]
)


@dataclass
class Slots:
    zh: bool = False
    head: str = ""
    """The request without its script (text before the first colon), as typed (normalised)."""
    script: str = ""
    length_s: float | None = None
    delta_s: float | None = None
    factor: float | None = None
    """A length as a multiple of the current one ("double the length", "缩短一半")."""
    at_s: float | None = None
    span_s: float | None = None
    tail_s: float | None = None
    """Text at the end: shown for this many seconds before the end (0: the default span)."""
    aspect: str | None = None
    music: bool | None = None
    style: str | None = None
    volume: int | None = None
    volume_delta: int | None = None
    title: str | None = None
    text: str | None = None
    topic: str | None = None
    uploads: bool = False
    quoted: list[str] = field(default_factory=list)


def is_zh(text: str) -> bool:
    return bool(_HAN.search(text))


@functools.lru_cache(maxsize=16)
def quotes(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of each quoted span, quote marks included; an apostrophe inside a word is not a quote.
    Each closing mark is looked up by bisection, so a text full of quotes stays linear-logarithmic."""
    closes: dict[str, list[int]] = {}
    for close in set(_QUOTES.values()):
        at = [
            i
            for i in _positions(text, close)
            if close != "'" or i + 1 >= len(text) or not text[i + 1].isalnum()
        ]
        closes[close] = at
    spans: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        shut = _QUOTES.get(ch)
        if shut is not None and not (ch == "'" and i > 0 and text[i - 1].isalnum()):
            at = closes[shut]
            k = bisect.bisect_right(at, i)
            if k < len(at) and at[k] - i <= 400:
                spans.append((i, at[k] + 1))
                i = at[k] + 1
                continue
        i += 1
    return tuple(spans)


def _positions(text: str, ch: str) -> list[int]:
    out, i = [], text.find(ch)
    while i != -1:
        out.append(i)
        i = text.find(ch, i + 1)
    return out


def blank_quotes(low: str, spans: tuple[tuple[int, int], ...]) -> str:
    """The text with quoted spans replaced by spaces (same length), so cue words inside quotes don't count."""
    if not spans:
        return low
    out, last = [], 0
    for start, end in spans:
        out += [low[last:start], " " * (end - start)]
        last = end
    out.append(low[last:])
    return "".join(out)


def split_script(text: str) -> tuple[str, str]:
    """(request, script): the script follows the first colon that is not inside a time or a ratio."""
    m = _COLON.search(text)
    if m is None:
        return text, ""
    return text[: m.start()], text[m.end() :].strip()


def sentences_of(script: str) -> list[str]:
    parts = [p.strip() for p in _SENTENCE.split(script[:20_000]) if p and p.strip()]
    return [p for p in parts if any(c.isalnum() for c in p)][:12]


def _seconds(value: str, unit: str) -> float:
    return float(value) * (60 if unit.startswith(("m", "分")) else 1)


def durations(low: str) -> list[tuple[int, int, float]]:
    """(start, end, seconds) of every duration; "1 minute 30 seconds" and "1分30秒" are one."""
    found: list[tuple[int, int, float]] = []
    for m in itertools.islice(_DURATION.finditer(low), MAX_MENTIONS):
        if m[2] in ("s", "m") and m.start(2) != m.end(1):
            continue  # "5 s" / "2 m": too ambiguous without the digits attached
        secs = _seconds(m[1], m[2])
        if found and found[-1][2] >= 60 and m[2].startswith(("s", "秒")):
            gap = low[found[-1][1] : m.start()].strip(" ,")
            if gap in ("", "and", "零"):
                found[-1] = (found[-1][0], m.end(), found[-1][2] + secs)
                continue
        found.append((m.start(), m.end(), secs))
    covered = {i for start, end, _ in found for i in range(start, end)}
    for m in itertools.islice(_CLOCK.finditer(low), MAX_MENTIONS):
        if m[0] not in _RATIO_LIKE and m.start() not in covered:
            found.append((m.start(), m.end(), int(m[1]) * 60 + int(m[2])))
    return sorted(found)


_RANGE = re.compile(
    r"(?<![\w'])(?:from|between)\s+(\d+(?:\.\d+)?)\s*(?:s|secs?|seconds?)?\s+(?:to|and|until|till|-)\s+"
    r"(\d+(?:\.\d+)?)\s*(?:s|secs?|seconds?)(?![\w'])"
    r"|(?<![\d.])第?(\d+(?:\.\d+)?)\s*秒?\s*(?:到|至|~|-)\s*第?(\d+(?:\.\d+)?)\s*秒"
)
_LAST = re.compile(
    r"(?<![\w'])(?:for\s+|in\s+)?the\s+(?:last|final)\s+(\d+(?:\.\d+)?)\s*(?:s|secs?|seconds?)(?![\w'])"
    r"|最后(\d+(?:\.\d+)?)\s*秒"
)
_AT_END = re.compile(r"(?<![\w'])(?:at|by|near|towards?)\s+the\s+(?:very\s+)?end(?![\w'])|结尾|末尾|片尾")
_TEXT_VERB = re.compile(r"(?<![\w'])(?:put|write|show|display|place|stick)(?![\w'])|显示|写上|打上|放上")
"""Verbs that put quoted words on screen ("put 'Open 24/7' at the end")."""

_ABOUT = (
    *("like", "about", "around", "say", "maybe", "roughly", "approximately", "total"),
    *("大概", "大约", "差不多"),
)
"""Words before a length that make it the length wanted, not a change ("longer, like 20 seconds")."""


def _before(low: str, start: int, words: tuple[str, ...]) -> bool:
    tail = low[max(0, start - 14) : start].rstrip()
    return any(
        tail.endswith(w) and (not w.isascii() or len(tail) == len(w) or not tail[-len(w) - 1].isalnum())
        for w in words
    )


def _aspect(low: str) -> str | None:
    for m in itertools.islice(_RATIO.finditer(low), MAX_MENTIONS):
        w, h = int(m[1]), int(m[2])
        if 0 < w <= 21 and 0 < h <= 21:
            r = w / h
            return "9:16" if r < 0.8 else "1:1" if r <= 1.25 else "16:9"
    found = lex.first_key(lex.ASPECTS, low)
    return found[0] if found else None


_FACTOR = re.compile(
    r"(?<![\w'])(?:(double|twice as long)|(halve|half as long|half the length|half its length))(?![\w'])"
    r"|(翻倍|加倍|两倍|一倍)|(一半|减半)"
)
_TOO_QUIET = re.compile(
    r"(?<![\w'])(?:too (?:quiet|soft|low)|(?:can't|cannot|can not|barely|hardly) hear|hard to hear|"
    r"not loud enough)(?![\w'])|太小声|声音太小|音乐太小|音量太小|太小了|太轻|听不见|听不清|不够大声"
)
_TOO_LOUD = re.compile(
    r"(?<![\w'])(?:too loud|too noisy|overpowering|drowns? out)(?![\w'])"
    r"|太大声|太吵|声音太大|音乐太大|音量太大|太响"
)
_EXTREME = re.compile(r"(?<![\w'])all the way (up|down)(?![\w'])|(最大|最小)")
"""A complaint ("too quiet", "太小声", which holds "小声") says which way to go, whatever else it holds."""


def _volume(low: str, slots: Slots) -> None:
    louder, quieter = lex.has("louder", low), lex.has("quieter", low)
    if _TOO_QUIET.search(low):
        louder, quieter = True, False
    elif _TOO_LOUD.search(low):
        louder, quieter = False, True
    for m in itertools.islice(_PERCENT.finditer(low), 1):
        value = round(float(m[1]))
        if _before(low, m.start(), ("by", "了")) or (
            (louder or quieter) and not _before(low, m.start(), ("to", "at", "到", "为", "成", "至", "在"))
        ):
            slots.volume_delta = -value if quieter and not louder else value
        else:
            slots.volume = min(value, 100)
        return
    if m2 := _VOLUME_TO.search(low):
        slots.volume = min(int(m2[1]), 100)
        return
    audible = lex.has("music", low) or lex.has("volume", low)
    if (m3 := _EXTREME.search(low)) and audible:
        slots.volume = 100 if m3[0] in ("all the way up", "最大") else 0
        return
    if louder != quieter and (audible or _strong(low) or _TOO_QUIET.search(low) or _TOO_LOUD.search(low)):
        size = 10 if lex.has("bit", low) else 25 if lex.has("lot", low) else 15
        slots.volume_delta = size if louder else -size


def _strong(low: str) -> bool:
    """Comparatives that speak of loudness on their own ("louder", "小声点")."""
    return bool(
        re.search(r"(?<![\w'])(?:louder|quieter|softer|too loud)(?![\w'])|大声|小声|响一点|太吵", low)
    )


def _clause(text: str, start: int) -> str:
    """The words from `start` to the end of their clause (a comma, "with", "in 9:16", a number...)."""
    m = _CLAUSE_END.search(text, start)
    end = m.start() if m else len(text)
    return text[start:end].strip(" \t-—:'\"")


def _quoted_at(text: str, pos: int, spans: tuple[tuple[int, int], ...]) -> str | None:
    for start, end in spans:
        if start >= pos and not text[pos:start].strip(" :=,"):
            return text[start + 1 : end - 1].strip()
    return None


def explicit_title(text: str, low: str, spans: tuple[tuple[int, int], ...]) -> str | None:
    """The title named: quoted after a cue ("the title 'New'"), else the bare words after the first cue
    that has some ("title it Tomorrow")."""
    cues = []
    for m in itertools.islice(_TITLE_CUE.finditer(blank_quotes(low, spans)), MAX_MENTIONS):
        skip = _TITLE_SKIP.match(low, m.end())
        pos = skip.end() if skip else m.end()
        # The skip may have eaten the first letters of a word ("title it Tomorrow" → "it" "to"...):
        # back up to the start of that word.
        while pos > m.end() and low[pos - 1].isalnum() and pos < len(low) and low[pos].isalnum():
            pos -= 1
        quoted = _quoted_at(text, pos, spans)
        if quoted:
            return quoted
        cues.append((m, pos))
    for m, pos in cues:
        bare = m[0] in ("title", "headline", "heading", "标题", "题目", "片名")
        if bare and (pos == m.end() or not any(c.isalnum() for c in text[pos : pos + 1])):
            continue  # "add a title" with nothing after it
        words = _POLITE.sub("", _clause(text, pos)).strip(" ,.!")
        if words and any(c.isalnum() for c in words):
            return words[:80]
    return None


_POLITE = re.compile(
    r"(?:^|\s+)(?:please|pls|thanks|thank you|now|too)\s*[.!]*$|^(?:please|now)(?:\s+|$)", re.I
)
"""Words around a bare title that are not part of it ("change the title to Summer Sale please")."""


def _zh_topic(head: str) -> str | None:
    for marker in ("关于", "介绍", "推广", "宣传"):
        i = head.find(marker)
        if i != -1:
            rest = head[i + len(marker) :]
            ends = [j for j in (rest.find(c) for c in "，,。!！?？ ") if j > 0]
            ends += [m.start() for m in lex.find("noun", rest)[:1]]
            topic = rest[: min(ends or [len(rest)])].rstrip("的")
            if 0 < len(topic) <= 20 and not (marker == "宣传" and rest[:1] in ("片", "视")):
                return topic
    for marker in ("给", "为"):
        i = head.find(marker)
        j = head.find("做", i + 1) if i != -1 else -1
        if i != -1 and 1 < j - i <= 20:
            return head[i + 1 : j].strip()
    return None


def _zh_topic_before_noun(head: str) -> str | None:
    """The words just before the video noun ("做个生日祝福视频"): the weakest clue, taken last."""
    nouns = lex.find("noun", head)
    zh_nouns = [m for m in nouns if not m[0].isascii()]
    if not zh_nouns:
        return None
    before = head[: zh_nouns[0].start()]
    for stop in ("的", "个", "段", "支", "条", "部", "做", "生成", "制作", "一", "，", ","):
        k = before.rfind(stop)
        if k != -1 and before[k + len(stop) :].strip():
            before = before[k + len(stop) :]
            break
    before = before.strip(" 的").lstrip("一个段支条部")
    if (
        before
        and not re.search(r"\d|竖屏|横屏|方形|短|宣传|帮我|我想|抖音|快手|小红书|朋友圈", before)
        and len(before) <= 20
    ):
        return before
    return None


_ZH_OWNER = re.compile(
    r"我们?(?:刚|刚刚)?(?:开了|开|有|经营|是|办了|做)(?:一)?(?:家|个|间|所)([^，,。！!？?；;]{1,20})"
)
_EN_OWNER = re.compile(
    r"(?<![\w'])(?:i|we)(?:'m|'re| am| are)?\s+(?:just\s+|recently\s+)?"
    r"(?:run|own|have|manage|started|opened|launched|are|am)\s+(?:a|an|my|our)\s+"
    r"(.+?)(?=\s*[,.;!?]|\s+(?:and|but|so|in|on|at|since|that|which|who)\s|$)"
)
"""What a person says they run ("I run a small bakery", "我开了一家花店"): the topic if none is named."""
_PRONOUNS = ("it", "this", "that", "them", "this one", "these", "those", "us", "me", "her", "him")


def _en_topic(head: str, low: str) -> str | None:
    markers = re.compile(
        r"(?<![\w'])(?:for|about|of|showing|featuring|introducing|promoting|advertising|celebrating|"
        r"highlighting|presenting|explaining|on|announcing|starring|to promote|to sell)\s"
    )
    skip_after_for = ("me", "us", "this", "it", "my video", "instagram", "tiktok", "youtube", "social")
    for m in itertools.islice(markers.finditer(low), MAX_MENTIONS):
        rest = low[m.end() :]
        if m[0].startswith("for") and rest.startswith(skip_after_for):
            continue
        if m[0].startswith("of") and not lex.has("noun", low[: m.start()]):
            continue
        if re.match(r"\d|about\s\d", rest):
            continue
        topic = _clause(head, m.end())
        if topic.lower().strip(" .!?") in _PRONOUNS:
            continue
        if topic and any(c.isalpha() for c in topic):
            return topic[:80]
    if (owner := _EN_OWNER.search(low)) and not lex.has("noun", owner[1]):
        return head[owner.start(1) : owner.end(1)][:80]
    nouns = [n for n in lex.find("noun", low) if n[0].isascii()]
    if nouns:
        words = re.findall(r"[\w'’&-]+", head[: nouns[0].start()])
        gen = [
            i
            for i, w in enumerate(words)
            if w.lower()
            in ("generate", "create", "make", "produce", "build", "need", "want", "give", "into", "together")
        ]
        words = words[gen[-1] + 1 :] if gen else words
        keep = [w for w in words if w.lower() not in _FILLER and not re.match(r"\d", w)]
        if keep and len(keep) <= 6:
            return " ".join(keep)
    return None


def topic_of(head: str, low: str, zh: bool) -> str | None:
    topic = _zh_topic(head) if zh else None
    owner = _ZH_OWNER.search(head) if zh else None
    if topic is None and owner and not lex.has("noun", owner[1]):
        topic = owner[1].removeprefix("做")
    if topic is None and zh:
        topic = _zh_topic_before_noun(head)
    if topic is None:
        topic = _en_topic(head, low)
    if topic is None and not zh:
        return None
    if topic:
        for article in _ARTICLES:
            if topic.lower().startswith(article):
                topic = topic[len(article) :]
    return topic or None


def slots_of(text: str, low: str, *, generation: bool) -> Slots:
    """The facts in the message. For a generation, the script (after the colon) is not searched for them."""
    head, script = split_script(text) if generation else (text, "")
    head = head[:MAX_REQUEST]
    spans = quotes(head)
    hlow = low[: len(head)]
    scan = blank_quotes(hlow, spans)
    s = Slots(zh=is_zh(head), head=head, script=script, quoted=[head[a + 1 : b - 1] for a, b in spans])
    titled = lex.has("title", scan) or lex.has("text", scan)
    relative = lex.has("shorter", scan) or lex.has("longer", scan)
    if span := _RANGE.search(scan):  # "from 2 to 5 seconds", "第2秒到第5秒": when, not how long
        start, end = float(span[1] or span[3]), float(span[2] or span[4])
        s.at_s, s.span_s = start, (end - start if end > start else None)
        scan = scan[: span.start()] + " " * (span.end() - span.start()) + scan[span.end() :]
    elif last := _LAST.search(scan):
        s.tail_s = float(last[1] or last[2])
        scan = scan[: last.start()] + " " * (last.end() - last.start()) + scan[last.end() :]
    elif _AT_END.search(scan):
        s.tail_s = 0.0
    for start, _end, secs in durations(scan):
        if _before(scan, start, ("控制在", "保持在", "限制在", "缩短在")):
            s.length_s = s.length_s if s.length_s is not None else secs
        elif _before(scan, start, ("at", "from", "在", "第", "在第", "at the", "after")):
            s.at_s = s.at_s if s.at_s is not None else secs
        elif titled and _before(scan, start, ("for", "显示", "持续")):
            s.span_s = s.span_s if s.span_s is not None else secs
        elif _before(scan, start, ("by", "了")) or (
            relative and not _before(scan, start, ("to", "到", "成", "为", "至", *_ABOUT))
        ):
            s.delta_s = s.delta_s if s.delta_s is not None else secs
        elif s.length_s is None:
            s.length_s = secs
    if m := _FACTOR.search(scan):
        s.factor = 2.0 if m[1] or m[3] else 0.5
    s.aspect = _aspect(scan)
    found = lex.first_key(lex.STYLES, scan)
    if found is None and lex.has("music", scan):  # 'change the music to "jazz"'
        found = lex.first_key(lex.STYLES, hlow)
    s.style = found[0] if found else None
    if lex.has("music_off", scan):
        s.music = False
    elif lex.has("music", scan):
        s.music = True
    _volume(scan, s)
    s.title = explicit_title(head, hlow, spans)
    if (lex.has("text", scan) or (_TEXT_VERB.search(scan) and not lex.has("music", scan))) and s.quoted:
        s.text = next((q for q in s.quoted if q and q != s.title), None)
    s.uploads = lex.has("uploads", scan)
    if generation:
        s.topic = topic_of(head, hlow, s.zh)
    return s
