"""The emulator's agent: deterministic rules (regular expressions) that turn a message into timeline edits.

It is a stand-in for tests and offline demos, not an AI: it understands a fixed set of English phrasings
(see docs/emulator.md) and answers anything else with a short help text. Replies speak as if the user had the
web app's GUI ("click the Export button", "open the Music panel"), as the real service does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from . import _drafts as drafts
from ._store import Session

HELP = (
    'I can generate a video from a script (try: "generate a 30-second promotional video from this script '
    'with background music: ..."), add a title ("add a title \'Summer Sale\' for 3 seconds"), add or remove '
    'background music, set the music volume ("set the music volume to 20%"), change the length ("make it 15 '
    'seconds") or the aspect ratio ("change the aspect ratio to 9:16"). Click the Upload button to add '
    'your own clips, then say "use my uploaded clip".'
)
NEED_DRAFT = (
    "Your timeline is empty, so there is nothing to edit yet. Describe the video you want (for example "
    '"generate a 15-second promotional video from this script: ...") and I will build it.'
)


@dataclass
class Step:
    """One tool call: `apply` changes the session and returns the tool's response."""

    tool: str
    args: dict[str, Any]
    weight: float
    """Share of the run's work time spent on this step."""
    apply: Callable[[Session], dict[str, Any]]


@dataclass
class Plan:
    kind: Literal["generation", "edit", "text"]
    intro: str = ""
    answer: str = ""
    steps: list[Step] = field(default_factory=list)


_NUM = r"(\d+(?:\.\d+)?)"
_QUOTED = r"[\"'“”‘’«]([^\"'“”‘’»]+)[\"'“”‘’»]"
_GENERATE = re.compile(
    r"^\W*(?:please\s+)?(?:(?:generate|create|produce|build)\b|make\s+(?:me\s+)?(?:a|an|another|new)\b)"
    r"(?P<head>(?:[^:]|(?<=\d):(?=\d))*?)\bvideos?\b",
    re.I,
)
_SECONDS = re.compile(_NUM + r"\s*-?\s*(?:seconds?|secs?|s)\b", re.I)
_TITLE = re.compile(r"\b(?:add|put|set|change)\b.*?\btitle\b\s*(?:to\s+|of\s+|saying\s+)?" + _QUOTED, re.I)
_REMOVE_MUSIC = re.compile(
    r"\b(?:remove|delete|drop|turn off|no)\b.*\b(?:background music|music|bgm)\b", re.I
)
_ADD_MUSIC = re.compile(r"\b(?:add|put|use|with)\b.*\b(?:background music|music|bgm)\b", re.I)
_VOLUME = re.compile(r"\bvolume\b.*?\b(?:to\s+)?" + _NUM + r"\s*(?:%|percent)?", re.I)
_DURATION = re.compile(
    r"\b(?:make\s+it|make\s+the\s+video|set\s+the\s+(?:duration|length)\s+to|change\s+the\s+(?:duration|length)"
    r"\s+to|shorten\s+it\s+to|extend\s+it\s+to|trim\s+it\s+to)\s+" + _NUM + r"\s*-?\s*(?:seconds?|secs?|s)\b",
    re.I,
)
_ASPECT = re.compile(
    r"\b(?:aspect\s+ratio|format|orientation)\b|\b(?:vertical|portrait|landscape|square)\b", re.I
)
_USE_UPLOADS = re.compile(
    r"\buse\s+(?:my|the)\s+uploaded\b|\buse\s+my\s+(?:clips?|videos?|footage|images?|photos?)\b", re.I
)
_STYLES = {
    "upbeat": "upbeat",
    "energetic": "upbeat",
    "ambient": "ambient",
    "calm": "ambient",
    "lo-fi": "lofi",
    "lofi": "lofi",
}


def aspect_in(text: str) -> str | None:
    if re.search(r"\b9\s*:\s*16\b|\bvertical\b|\bportrait\b|\btiktok\b|\breels?\b|\bshorts\b", text, re.I):
        return "9:16"
    if re.search(r"\b1\s*:\s*1\b|\bsquare\b", text, re.I):
        return "1:1"
    if re.search(r"\b16\s*:\s*9\b|\bhorizontal\b|\blandscape\b|\bwidescreen\b", text, re.I):
        return "16:9"
    return None


def style_in(text: str) -> str:
    for word, style in _STYLES.items():
        if word in text.lower():
            return style
    return "lofi"


def sentences_of(script: str) -> list[str]:
    parts = [p.strip() for p in re.split(r"(?<=[.!?。！？])\s+|\n+", script) if p.strip()]
    return parts[:12]


def title_from(message: str, sentences: list[str]) -> str:
    if m := re.search(r"\b(?:titled|called|named|title)\s+" + _QUOTED, message, re.I):
        return m[1].strip()
    first = sentences[0] if sentences else "My video"
    words = re.findall(r"[\w'’-]+", first)
    return " ".join(words[:5]) or "My video"


def visual_media(session: Session) -> list[dict[str, Any]]:
    return [v for v in session.video_infos if v.get("file_type") in ("video", "image")]


def _seconds_text(seconds: float) -> str:
    return f"{seconds:g}"


def plan_for(message: str, session: Session, seed: int) -> Plan:
    """Read the message and decide what to do; nothing changes until a step's `apply` runs."""
    text = message.strip()
    if m := _GENERATE.search(text):
        return _generation(text, m["head"], session, seed)
    if _ASPECT.search(text) and (aspect := aspect_in(text)):
        return _aspect_change(aspect, session, seed)
    if m := _TITLE.search(text):
        seconds = float(s[1]) if (s := _SECONDS.search(text[m.end() :])) else None
        return _edit_title(m[1].strip(), seconds, session)
    if m := _VOLUME.search(text):
        return _edit_volume(float(m[1]), session)
    if _REMOVE_MUSIC.search(text):
        return _edit_remove_music(session)
    if _ADD_MUSIC.search(text):
        return _edit_add_music(style_in(text), session, seed)
    if m := _DURATION.search(text):
        return _edit_duration(float(m[1]), session)
    if _USE_UPLOADS.search(text):
        return _edit_use_uploads(session, seed)
    return Plan("text", answer=HELP)


def _clamp_seconds(seconds: float) -> int:
    return int(min(max(seconds, 2.0), 600.0) * 1000)


_SCRIPT_COLON = re.compile(r"(?<!\d):|:(?!\d)")


def _generation(text: str, head: str, session: Session, seed: int) -> Plan:
    colon = _SCRIPT_COLON.search(text)
    before_script = text[: colon.start()] if colon else text
    script = text[colon.end() :] if colon else ""
    seconds_m = _SECONDS.search(before_script)
    duration_ms = _clamp_seconds(float(seconds_m[1])) if seconds_m else 30000
    aspect = aspect_in(before_script) or session.canvas_config.get("aspect", "16:9")
    music = bool(
        re.search(r"\b(?:background music|music|bgm|soundtrack)\b", before_script, re.I)
    ) and not re.search(r"\b(?:no|without)\s+(?:background\s+)?music\b", before_script, re.I)
    sentences = sentences_of(script) or [re.sub(r"\s+", " ", head).strip(" ,.") or "Your story starts here"]
    use_media = bool(visual_media(session))
    spec: dict[str, Any] = {
        "duration_ms": duration_ms,
        "sentences": sentences,
        "title": title_from(before_script, sentences),
        "music": music,
        "style": style_in(before_script),
        "use_media": use_media,
        "seed": seed + len(session.generated_media),
    }
    return _generation_plan(spec, aspect, session, regenerate=False)


def _generation_plan(spec: dict[str, Any], aspect: str, session: Session, *, regenerate: bool) -> Plan:
    seconds = spec["duration_ms"] / 1000
    source = "your uploaded media" if spec["use_media"] else "your script"

    def raw(s: Session) -> dict[str, Any]:
        canvas = drafts.canvas_for(aspect)
        s.canvas_config = canvas
        s.spec = {**spec, "aspect": aspect}
        s.draft = drafts.build_raw(
            duration_ms=spec["duration_ms"],
            canvas=canvas,
            title=spec["title"],
            sentences=spec["sentences"],
            media=visual_media(s) if spec["use_media"] else [],
            seed=spec["seed"],
        )
        media = {"type": "video", "stage": "raw_video", "duration": seconds, "aspect": aspect}
        s.generated_media.append({"id": f"gen_{len(s.generated_media) + 1}", **media})
        segments = len(s.draft["t"][0]["sg"])
        return {"ok": True, "stage": "raw_video", "segments": segments, "duration_ms": spec["duration_ms"]}

    def compose(s: Session) -> dict[str, Any]:
        draft = drafts.with_title(s.draft, spec["title"])
        if spec["music"]:
            draft = drafts.with_music(draft, style=spec["style"], seed=spec["seed"] % 1000, volume=35)
        s.draft = draft
        return {"ok": True, "stage": "composed", "title": spec["title"], "background_music": spec["music"]}

    extras = ["the title \u201c" + spec["title"] + "\u201d"]
    if spec["music"]:
        extras.insert(0, "background music at 35%")
    verb = f"regenerated your video in {aspect}" if regenerate else f"made your {seconds:g}-second video"
    return Plan(
        "generation",
        intro=(
            f"Regenerating your video in {aspect} from the same script, this takes a moment."
            if regenerate
            else f"Great, I'll generate a {seconds:g}-second {aspect} video from {source}. "
            "This takes a moment."
        ),
        answer=(
            f"Done! I {verb} with {len(spec['sentences']) if not spec['use_media'] else 'your uploaded'} "
            f"{'scenes' if not spec['use_media'] else 'media'} and {' and '.join(extras)}. Preview it in the "
            "timeline, open the Music panel to change the soundtrack, and click the Export button when you "
            "are happy."
        ),
        steps=[
            Step("generate_video", {"duration": seconds, "aspect_ratio": aspect, "source": source}, 0.6, raw),
            Step("compose_video", {"title": spec["title"], "background_music": spec["music"]}, 0.4, compose),
        ],
    )


def _aspect_change(aspect: str, session: Session, seed: int) -> Plan:
    if session.spec is None:
        if not session.draft["t"]:
            return Plan("text", answer=NEED_DRAFT)
        spec: dict[str, Any] = {
            "duration_ms": session.draft["d"],
            "sentences": [session.draft["m"].get("title") or "Video"],
            "title": session.draft["m"].get("title") or "Video",
            "music": bool(drafts.music_segments(session.draft)),
            "style": "lofi",
            "use_media": False,
            "seed": seed,
        }
    else:
        spec = dict(session.spec)
    if session.canvas_config.get("aspect") == aspect and session.draft["t"]:
        return Plan("text", answer=f"Your video is already {aspect}. Click the Export button to download it.")
    return _generation_plan(spec, aspect, session, regenerate=True)


def _edit(
    tool: str, args: dict[str, Any], intro: str, answer: str, apply: Callable[[Session], dict[str, Any]]
) -> Plan:
    return Plan("edit", intro=intro, answer=answer, steps=[Step(tool, args, 1.0, apply)])


def _edit_title(title: str, seconds: float | None, session: Session) -> Plan:
    if not session.draft["t"]:
        return Plan("text", answer=NEED_DRAFT)
    secs = seconds if seconds is not None else drafts.TITLE_MS / 1000

    def apply(s: Session) -> dict[str, Any]:
        s.draft = drafts.with_title(s.draft, title, secs)
        if s.spec is not None:
            s.spec["title"] = title
        return {"ok": True, "title": title, "duration": secs}

    return _edit(
        "add_title",
        {"text": title, "start": 0, "duration": secs},
        f"Adding the title \u201c{title}\u201d.",
        f"Done! The title \u201c{title}\u201d now shows for the first {_seconds_text(secs)} seconds. "
        "Drag it on the "
        "timeline to move it, or open the Text panel to change its style.",
        apply,
    )


def _edit_volume(volume: float, session: Session) -> Plan:
    if not drafts.music_segments(session.draft):
        return Plan(
            "text",
            answer='There is no background music yet. Say "add background music" first, or open the Music '
            "panel to pick a track.",
        )
    level = int(min(max(volume, 0), 100))

    def apply(s: Session) -> dict[str, Any]:
        s.draft = drafts.with_volume(s.draft, level)
        return {"ok": True, "volume": level}

    return _edit(
        "set_music_volume",
        {"volume": level},
        f"Setting the music volume to {level}%.",
        f"The background music now plays at {level}%. Open the Music panel to fine-tune it.",
        apply,
    )


def _edit_remove_music(session: Session) -> Plan:
    if not drafts.music_segments(session.draft):
        return Plan(
            "text", answer="There is no background music to remove. Open the Music panel to add a track."
        )

    def apply(s: Session) -> dict[str, Any]:
        s.draft, removed = drafts.without_music(s.draft)
        if s.spec is not None:
            s.spec["music"] = False
        return {"ok": True, "removed_tracks": removed}

    return _edit(
        "remove_background_music",
        {},
        "Removing the background music.",
        "I removed the background music. Open the Music panel if you want to add a different track.",
        apply,
    )


def _edit_add_music(style: str, session: Session, seed: int) -> Plan:
    if not session.draft["t"]:
        return Plan("text", answer=NEED_DRAFT)
    name = drafts.MUSIC_NAMES.get(style, style)

    def apply(s: Session) -> dict[str, Any]:
        s.draft = drafts.with_music(s.draft, style=style, seed=seed % 1000 + 7, volume=35)
        if s.spec is not None:
            s.spec.update(music=True, style=style)
        return {"ok": True, "style": style, "volume": 35}

    return _edit(
        "set_background_music",
        {"style": style, "volume": 35},
        f"Adding {name} background music.",
        f"I added {name} background music at 35%. Open the Music panel to change the track or its volume.",
        apply,
    )


def _edit_duration(seconds: float, session: Session) -> Plan:
    if not session.draft["t"]:
        return Plan("text", answer=NEED_DRAFT)
    duration_ms = _clamp_seconds(seconds)

    def apply(s: Session) -> dict[str, Any]:
        s.draft = drafts.with_duration(s.draft, duration_ms)
        if s.spec is not None:
            s.spec["duration_ms"] = duration_ms
        return {"ok": True, "duration_ms": duration_ms}

    return _edit(
        "set_duration",
        {"duration": duration_ms / 1000},
        f"Changing the length to {duration_ms / 1000:g} seconds.",
        f"Your video is now {duration_ms / 1000:g} seconds long. Preview it in the timeline, then click the "
        "Export button.",
        apply,
    )


def _edit_use_uploads(session: Session, seed: int) -> Plan:
    media = visual_media(session)
    if not media:
        return Plan(
            "text",
            answer="I don't see any uploaded clips or images yet. Click the Upload button to add one, "
            "then ask again.",
        )
    if not session.draft["t"]:
        spec: dict[str, Any] = {
            "duration_ms": 10000,
            "sentences": [],
            "title": media[0]["filename"].rsplit(".", 1)[0],
            "music": False,
            "style": "lofi",
            "use_media": True,
            "seed": seed,
        }
        spec["sentences"] = [spec["title"]]
        return _generation_plan(spec, session.canvas_config.get("aspect", "16:9"), session, regenerate=False)
    sentences = session.spec["sentences"] if session.spec else []

    def apply(s: Session) -> dict[str, Any]:
        s.draft = drafts.with_media(
            s.draft, visual_media(s), sentences or [s.draft["m"].get("title") or "Video"], seed
        )
        if s.spec is not None:
            s.spec["use_media"] = True
        return {"ok": True, "media": [m["filename"] for m in visual_media(s)]}

    names = ", ".join(m["filename"] for m in media)
    return _edit(
        "use_uploaded_media",
        {"files": [m["filename"] for m in media]},
        "Putting your uploaded media on the timeline.",
        f"Your uploaded media ({names}) now fill the video track. Preview it in the timeline, then click the "
        "Export button.",
        apply,
    )
