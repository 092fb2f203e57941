"""The vendor's router and GUI translation, for front ends built on the SDK.

The agent speaks as if its user had a GUI ("click the Export button", "open the Music panel"). Callers of
an SDK have none, so a reply's text keeps the content and replaces each GUI instruction with what can be
done instead; the actions found are returned so a front end can offer them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable


class Route(str, enum.Enum):
    """Where a user's message goes: an SDK call, or the agent (``CHAT``)."""

    EXPORT = "export"
    CREDITS = "credits"
    STATE = "state"
    UPLOAD = "upload"
    CHAT = "chat"


_ROUTES: tuple[tuple[Route, re.Pattern[str]], ...] = (
    (Route.EXPORT, re.compile(r"\bexport\b|导出|\bdownload\b|send me the video", re.I)),
    (Route.CREDITS, re.compile(r"\bcredits?\b|积分|\bbalance\b|余额", re.I)),
    (Route.STATE, re.compile(r"\bstatus\b|状态|show (?:the )?tracks", re.I)),
    (Route.UPLOAD, re.compile(r"\bupload\b|上传", re.I)),
)


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def language_of(user_text: str) -> str:
    """The language a message is written in, as the router tells it: "zh" (any Chinese character) or "en"."""
    return "zh" if _CJK.search(user_text) else "en"


def route(user_text: str) -> Route:
    """Classify a user's message by the vendor's keywords (English and Chinese)."""
    for target, pattern in _ROUTES:
        if pattern.search(user_text):
            return target
    return Route.CHAT


_Q = r"[\"'“”‘’「」『』\[\]【】]?"  # optional quotes or brackets around a button name
_PANEL = r"(?:open|check|go to|use)\s+(?:the\s+)?[\w ]{1,30}?\s+(?:panel|tab|window|sidebar|menu)"

_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str], Route | None]

_RULES: tuple[_Rule, ...] = (
    (
        re.compile(
            rf"\b(?:click|tap|press|hit)\s+(?:on\s+)?(?:the\s+)?{_Q}(?:export|download){_Q}(?:\s+button)?",
            re.I,
        ),
        lambda m: "export the video",
        Route.EXPORT,
    ),
    (re.compile(rf"(?:点击|点)\s*{_Q}(?:导出|下载){_Q}(?:按钮)?"), lambda m: "导出视频", Route.EXPORT),
    (
        re.compile(
            r"\b(?:open|check|go to)\s+(?:the\s+|your\s+)?(?:account|billing)(?:\s+(?:page|settings))?", re.I
        ),
        lambda m: "check your credits",
        Route.CREDITS,
    ),
    (re.compile(rf"\b{_PANEL}\s+(?:to|and)\s+", re.I), lambda m: "ask me to ", None),
    (re.compile(rf"\b{_PANEL}\s+if\s+", re.I), lambda m: "ask me if ", None),
    (re.compile(rf"\b{_PANEL}", re.I), lambda m: "look at the timeline", Route.STATE),
    (
        re.compile(r"打开\s*(?:[^，。,.\s]{1,12}?)(?:面板|窗口|标签)(?:可以|来|就能)"),
        lambda m: "告诉我就能",
        None,
    ),
    (re.compile(r"打开\s*(?:[^，。,.\s]{1,12}?)(?:面板|窗口|标签)"), lambda m: "查看时间线", Route.STATE),
    (
        re.compile(r"\b(?:preview|see|view|check)\s+(?:it\s+)?in\s+the\s+timeline", re.I),
        lambda m: "look at the track summary",
        Route.STATE,
    ),
    (re.compile(r"在时间线(?:中|上|里)?(?:预览|查看)|预览时间线"), lambda m: "查看轨道摘要", Route.STATE),
    (re.compile(r"在时间线(?:中|上|里)?(?:拖动|拖拽)(?:可以|来|就能)?"), lambda m: "告诉我就能", None),
    (
        re.compile(r"\b(?:drag(?:\s+and\s+drop)?|drop)\s+[^.,;!?]{1,40}?\s+to\s+(?=\w)", re.I),
        lambda m: "ask me to ",
        None,
    ),
    (re.compile(r"拖拽|拖动|拖放"), lambda m: "用文字告诉我要怎么改", None),
    (
        re.compile(rf"\b(?:click|tap|press)\s+(?:on\s+)?(?:the\s+)?{_Q}upload{_Q}(?:\s+button)?", re.I),
        lambda m: "upload the file",
        Route.UPLOAD,
    ),
    (
        re.compile(rf"\b(?:click|tap|press)\s+(?:on\s+)?(?:the\s+)?{_Q}([\w ]{{1,30}}?){_Q}\s+button", re.I),
        lambda m: f"ask me to {m.group(1).strip().lower()}",
        None,
    ),
    (re.compile(rf"点击\s*{_Q}([^，。,.\s]{{1,12}}?){_Q}\s*按钮"), lambda m: f"告诉我“{m.group(1)}”", None),
)


def _sentence_case(text: str, at: int, replacement: str) -> str:
    before = text[:at].rstrip()
    if not before or before[-1] in ".!?。！？\n":
        return replacement[:1].upper() + replacement[1:]
    return replacement


def _apply(pattern: re.Pattern[str], replacement: Callable[[re.Match[str]], str], text: str) -> str:
    return pattern.sub(lambda m: _sentence_case(text, m.start(), replacement(m)), text)


def translate(text: str) -> tuple[str, list[Route]]:
    """Replace GUI instructions with what the SDK can do; return the text and the actions found."""
    actions: list[Route] = []
    for pattern, replacement, action in _RULES:
        if pattern.search(text):
            text = _apply(pattern, replacement, text)
            if action is not None and action not in actions:
                actions.append(action)
    return _REPEATED_OFFER.sub(r"\1或", text), actions


_REPEATED_OFFER = re.compile(r"(告诉我就能[^，。；]*)，告诉我就能")
"""Two GUI hints in one sentence both become "告诉我就能…": the second joins the first ("…或…"), as the
English "ask me to …, or ask me to …" reads."""
