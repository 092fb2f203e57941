"""Stage 1: one spelling for everything that can be typed several ways.

Full-width characters become ASCII (NFKC), and spelled-out numbers in front of a unit become digits, in both
languages ("one-minute" → "1-minute", "三十秒" → "30秒", "百分之十" → "10%", "half a minute" → "30 seconds").
Only numbers next to a unit are converted, so topic words such as "one of a kind" or "一点" stay as typed.
Case is kept (titles and topics come from this text); matching uses the lower-cased copy.
"""

from __future__ import annotations

import re
import unicodedata

from ._lexicon import EN_NUMBERS, ZH_DIGITS

_UNIT_EN = r"(?=\s*-?\s*(?:seconds?|secs?|minutes?|mins?|percent|%))"
_WORD_NUMBER = re.compile(
    r"\b(?:"
    + "|".join(sorted(EN_NUMBERS, key=len, reverse=True))
    + r")(?:[\s-](?:"
    + "|".join(sorted(EN_NUMBERS, key=len, reverse=True))
    + r")){0,2}\b"
    + _UNIT_EN,
    re.I,
)
_PHRASES = (
    (re.compile(r"\bhalf\s+an?\s+minute\b", re.I), "30 seconds"),
    (re.compile(r"\ban?\s+minute\s+and\s+a\s+half\b", re.I), "90 seconds"),
    (re.compile(r"\b(\d+)\s+and\s+a\s+half\s+minutes?\b", re.I), r"\1.5 minutes"),
    (re.compile(r"\ban?\s+(?=(?:minute|min)\b)", re.I), "1 "),
    (re.compile(r"\ba\s+couple\s+of\s+(?=seconds?\b)", re.I), "2 "),
)
_ZH_RUN = re.compile(
    "百分之([零一二两三四五六七八九十百]{1,6}|\\d{1,3})|([零一二两三四五六七八九十百千]{1,8})(?=\\s{0,2}(?:秒|分|%))"
)
_ZH_HALF = (("一分半钟", "90秒"), ("一分半", "90秒"), ("半分钟", "30秒"), ("一分钟半", "90秒"))


def han_number(run: str) -> float | None:
    """ "三十" → 30, "一百二十" → 120, "两" → 2, "3.5" → 3.5; None when it is not a number."""
    if re.fullmatch(r"\d+(?:\.\d+)?", run):
        return float(run)
    total, current = 0, 0
    for ch in run:
        if ch in ZH_DIGITS:
            current = ZH_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "千":
            total += (current or 1) * 1000
            current = 0
        else:
            return None
    return float(total + current)


def _digits(value: float) -> str:
    return f"{value:g}"


def _en(m: re.Match[str]) -> str:
    words = re.split(r"[\s-]+", m[0].lower())
    total = 0
    for word in words:
        value = EN_NUMBERS[word]
        total = total * value if value == 100 else total + value
    return str(total)


def _zh(m: re.Match[str]) -> str:
    if m[1] is not None:
        value = han_number(m[1])
        return m[0] if value is None else _digits(value) + "%"
    value = han_number(m[2])
    return m[0] if value is None else _digits(value)


def normalise(text: str) -> str:
    t = unicodedata.normalize("NFKC", text)
    for phrase, digits in _ZH_HALF:
        t = t.replace(phrase, digits)
    t = _ZH_RUN.sub(_zh, t)
    for pattern, repl in _PHRASES:
        t = pattern.sub(repl, t)
    return _WORD_NUMBER.sub(_en, t)


def lower(text: str) -> str:
    """Lower case with the same length (so positions found in it point into `text`)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
