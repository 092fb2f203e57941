"""Stage 4: turn what was understood into a Plan of tool steps; nothing changes until a step's `apply` runs."""

# ruff: noqa: E501  (Chinese text counts double in the line width)

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from .. import _drafts as drafts
from .._store import Session
from . import _replies as r
from ._intents import Intent, understand
from ._normalise import lower, normalise
from ._replies import pick
from ._slots import Slots, sentences_of

MAX_CHARS = 20_000
"""Longer messages are read up to here (a script of 12 scenes fits many times over)."""
STYLE_ORDER = ("lofi", "upbeat", "ambient")


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
    choices: list[str] = field(default_factory=list)
    """A reply that did not understand: the closest things the agent can do (keys of `SUGGEST`), which
    the gateway's chat offers as a question."""


def plan_for(message: str, session: Session, seed: int) -> Plan:
    """Read the message and decide what to do."""
    text = normalise(message[:MAX_CHARS]).strip()
    low = lower(text)
    intent = understand(text, low, bool(session.draft["t"]))
    zh = session.language.lower().startswith("zh") or intent.slots.zh
    if intent.kind == "generate":
        return _generation(intent.slots, session, seed, zh)
    if intent.kind == "edit":
        return _edits(intent, session, seed, zh)
    if intent.kind == "question":
        return Plan("text", answer=_answer(intent.topic, session, zh))
    if intent.kind == "export":
        has_draft = bool(session.draft["t"])
        return Plan("text", answer=(r.EXPORT if has_draft else r.NEED_DRAFT)[r.lang(zh)])
    if intent.kind == "thanks":
        return Plan("text", answer=r.THANKS[r.lang(zh)])
    if intent.kind == "help" or not text:
        return Plan("text", answer=r.HELP[r.lang(zh)])
    closest = _closest(low)
    return Plan("text", answer=r.not_understood(zh, text, closest), choices=closest)


def _closest(low: str) -> list[str]:
    hints = {
        "music": ("music", "song", "sound", "audio", "音乐", "歌", "声音"),
        "volume": ("loud", "quiet", "volume", "音量", "声"),
        "length": ("long", "short", "second", "time", "长", "短", "秒"),
        "aspect": ("wide", "tall", "size", "ratio", "format", "横", "竖", "比例"),
        "title": ("title", "name", "heading", "标题", "名"),
        "text": ("text", "word", "caption", "字"),
        "uploads": ("clip", "photo", "upload", "footage", "素材", "上传", "照片"),
    }
    picked = [k for k, words in hints.items() if any(w in low for w in words)]
    return (picked + [k for k in ("generate", "music", "length") if k not in picked])[:3]


def visual_media(session: Session) -> list[dict[str, Any]]:
    return [v for v in session.video_infos if v.get("file_type") in ("video", "image")]


def _clamp_ms(seconds: float) -> int:
    return int(min(max(seconds, 2.0), 600.0) * 1000)


def _titled(topic: str) -> str:
    if not topic.isascii():
        return topic
    return " ".join(w[:1].upper() + w[1:] if w.islower() else w for w in topic.split())


def _scenes(topic: str | None, title: str, zh: bool) -> list[str]:
    if not topic:
        return [pick(zh, "Your story starts here", "你的故事从这里开始")]
    if zh:
        return [f"{topic}", f"发现{topic}的精彩", f"{title}，等你来体验"]
    return [f"Introducing {topic}", f"Discover what makes {topic} special", f"{title}: see it for yourself"]


_NO_TITLE = re.compile(
    r"(?<![\w'])(?:without|no)\s+(?:a\s+|any\s+)?title|不要标题|无标题|不加标题|不需要标题"
)


def _generation(s: Slots, session: Session, seed: int, zh: bool) -> Plan:
    seconds = s.length_s or s.delta_s or (15.0 if _short(s) else 30.0)
    sentences = sentences_of(s.script)
    topic = s.topic.strip() if s.topic else None
    if s.title:
        title = s.title
    elif topic:
        title = _titled(topic)
    elif sentences:
        words = [w.strip(".,!?;:\"'“”。，！？") for w in sentences[0].split()]
        title = " ".join(w for w in words[:5] if w) if sentences[0].isascii() else sentences[0][:12]
    else:
        title = pick(zh, "My video", "我的视频")
    if not sentences:
        sentences = _scenes(topic or (s.title if s.title else None), title, zh)
    spec: dict[str, Any] = {
        "duration_ms": _clamp_ms(seconds),
        "sentences": sentences,
        "title": "" if _NO_TITLE.search(s.head.lower()) else title or pick(zh, "My video", "我的视频"),
        "music": bool(s.music),
        "style": s.style or "lofi",
        "use_media": bool(visual_media(session)),
        "seed": seed + len(session.generated_media),
    }
    aspect = s.aspect or session.canvas_config.get("aspect", "16:9")
    return _generation_plan(spec, aspect, session, regenerate=False, zh=zh)


def _short(s: Slots) -> bool:
    from . import _lexicon as lex

    return lex.has("short", lower(s.head))


def _generation_steps(spec: dict[str, Any], aspect: str) -> list[Step]:
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
        draft = drafts.with_title(s.draft, spec["title"]) if spec["title"] else s.draft
        if spec["music"]:
            draft = drafts.with_music(draft, style=spec["style"], seed=spec["seed"] % 1000, volume=35)
        s.draft = draft
        return {"ok": True, "stage": "composed", "title": spec["title"], "background_music": spec["music"]}

    return [
        Step("generate_video", {"duration": seconds, "aspect_ratio": aspect, "source": source}, 0.6, raw),
        Step("compose_video", {"title": spec["title"], "background_music": spec["music"]}, 0.4, compose),
    ]


def _generation_plan(
    spec: dict[str, Any], aspect: str, session: Session, *, regenerate: bool, zh: bool
) -> Plan:
    seconds = spec["duration_ms"] / 1000
    n = len(spec["sentences"])
    if zh:
        extras = (["标题「" + spec["title"] + "」"] if spec["title"] else []) + (
            ["35%音量的背景音乐"] if spec["music"] else []
        )
        source = "你上传的素材" if spec["use_media"] else "你的脚本"
        intro = (
            f"正在用同一个脚本重新生成{aspect}的视频，请稍候。"
            if regenerate
            else f"好的，我会根据{source}生成一个{seconds:g}秒的{aspect}视频，请稍候。"
        )
        made = f"重新生成了{aspect}的视频" if regenerate else f"做好了你的{seconds:g}秒视频"
        scenes = "你上传的素材" if spec["use_media"] else f"{n}个场景"
        answer = (
            f"完成！我{made}，包含{scenes}{'和' if extras else ''}{'、'.join(extras)}。在时间线中预览，打开音乐面板可以更换配乐，"
            "满意后点击导出按钮。"
        )
    else:
        extras = ["the title \u201c" + spec["title"] + "\u201d"] if spec["title"] else []
        if spec["music"]:
            extras.insert(0, "background music at 35%")
        source = "your uploaded media" if spec["use_media"] else "your script"
        verb = f"regenerated your video in {aspect}" if regenerate else f"made your {seconds:g}-second video"
        intro = (
            f"Regenerating your video in {aspect} from the same script, this takes a moment."
            if regenerate
            else f"Great, I'll generate a {seconds:g}-second {aspect} video from {source}. This takes a moment."
        )
        answer = (
            f"Done! I {verb} with {n if not spec['use_media'] else 'your uploaded'} "
            f"{('scenes' if n != 1 else 'scene') if not spec['use_media'] else 'media'}{' and ' if extras else ''}{' and '.join(extras)}. "
            "Preview it in the "
            "timeline, open the Music panel to change the soundtrack, and click the Export button when you "
            "are happy."
        )
    return Plan("generation", intro=intro, answer=answer, steps=_generation_steps(spec, aspect))


def _spec_of(session: Session, seed: int) -> dict[str, Any]:
    if session.spec is not None:
        return dict(session.spec)
    title = session.draft["m"].get("title") or "Video"
    music = drafts.music_segments(session.draft)
    return {
        "duration_ms": session.draft["d"],
        "sentences": [title],
        "title": title,
        "music": bool(music),
        "style": music[0].get("style", "lofi") if music else "lofi",
        "use_media": False,
        "seed": seed,
    }


@dataclass
class _Edit:
    tool: str
    args: dict[str, Any]
    apply: Callable[[Session], dict[str, Any]]
    intro: str
    answer: str


def _edits(intent: Intent, session: Session, seed: int, zh: bool) -> Plan:
    if not session.draft["t"] and [n for n, _ in intent.edits] != ["uploads"]:
        return Plan("text", answer=r.NEED_DRAFT[r.lang(zh)])
    music_now = bool(drafts.music_segments(session.draft))
    steps: list[Step] = []
    done: list[_Edit] = []
    notes: list[str] = []
    kind: Literal["generation", "edit", "text"] = "edit"
    for name, args in intent.edits:
        if name == "aspect":
            aspect = args["aspect"]
            if session.canvas_config.get("aspect") == aspect and session.draft["t"]:
                notes.append(pick(zh, f"Your video is already {aspect}.", f"你的视频已经是{aspect}了。"))
                continue
            spec = _spec_of(session, seed)
            plan = _generation_plan(spec, aspect, session, regenerate=True, zh=zh)
            steps += plan.steps
            done.append(_Edit("", {}, lambda s: {}, plan.intro, plan.answer))
            kind = "generation"
            continue
        made = _edit(name, args, session, seed, zh, music_now)
        if isinstance(made, str):
            notes += [made] if made else []
            continue
        music_now = {"music_off": False, "music": True}.get(name, music_now)
        done.append(made)
        steps.append(Step(made.tool, made.args, 1.0, made.apply))
    if not steps:
        return Plan("text", answer=" ".join(notes) or r.HELP[r.lang(zh)])
    if kind == "generation":
        gen = [st for st in steps if st.tool in ("generate_video", "compose_video")]
        rest = [st for st in steps if st not in gen]
        for st in rest:
            st.weight = 0.2 / len(rest)
        for st in gen:
            st.weight *= 0.8 if rest else 1.0
    else:
        for st in steps:
            st.weight = 1.0 / len(steps)
    answer = " ".join([e.answer for e in done] + notes)
    return Plan(kind, intro=done[0].intro, answer=answer, steps=steps)


def _edit(
    name: str, args: dict[str, Any], session: Session, seed: int, zh: bool, music_now: bool
) -> _Edit | str:
    if name == "uploads":
        return _use_uploads(session, seed, zh)
    if name == "length":
        return _length(args, session, zh)
    if name == "music_off":
        if not music_now:
            return pick(zh, "There is no background music to remove. Open the Music panel to add a track.",
                        "目前没有背景音乐可以去掉。打开音乐面板可以添加配乐。")  # fmt: skip
        return _remove_music(zh)
    if name == "music":
        return _music(args, session, seed, zh, music_now)
    if name == "volume":
        if not music_now:
            return pick(
                zh,
                'There is no background music yet. Say "add background music" first, or open the Music '
                "panel to pick a track.",
                "还没有背景音乐。先说“加上背景音乐”，或打开音乐面板选择一首配乐。",
            )
        return _volume(args, session, zh)
    if name == "title":
        return _title(args["title"], args["seconds"], zh)
    if name == "title_off":
        if drafts.title_track(session.draft) is None:
            return pick(zh, "There is no title to remove.", "目前没有标题可以去掉。")
        return _remove_title(zh)
    if args.get("tail") is not None:  # at the end: the last N seconds (or the default span)
        seconds = args["tail"] or args["seconds"] or TEXT_SECONDS
        return _text(args["text"], max(session.draft["d"] / 1000 - seconds, 0.0), seconds, zh)
    return _text(args["text"], args["at"], args["seconds"], zh)


def _length(args: dict[str, Any], session: Session, zh: bool) -> _Edit:
    now = session.draft["d"] / 1000
    if "seconds" in args:
        target = args["seconds"]
    elif "delta" in args:
        target = now + args["delta"]
    else:
        target = now * args["factor"]
    duration_ms = _clamp_ms(target)

    def apply(s: Session) -> dict[str, Any]:
        s.draft = drafts.with_duration(s.draft, duration_ms)
        if s.spec is not None:
            s.spec["duration_ms"] = duration_ms
        return {"ok": True, "duration_ms": duration_ms}

    secs = duration_ms / 1000
    return _Edit(
        "set_duration",
        {"duration": secs},
        apply,
        pick(zh, f"Changing the length to {secs:g} seconds.", f"正在把时长改为{secs:g}秒。"),
        pick(
            zh,
            f"Your video is now {secs:g} seconds long. Preview it in the timeline, then click the Export button.",
            f"你的视频现在是{secs:g}秒。在时间线中预览，然后点击导出按钮。",
        ),
    )


def _remove_music(zh: bool) -> _Edit:
    def apply(s: Session) -> dict[str, Any]:
        s.draft, removed = drafts.without_music(s.draft)
        if s.spec is not None:
            s.spec["music"] = False
        return {"ok": True, "removed_tracks": removed}

    return _Edit(
        "remove_background_music",
        {},
        apply,
        pick(zh, "Removing the background music.", "正在去掉背景音乐。"),
        pick(
            zh,
            "I removed the background music. Open the Music panel if you want to add a different track.",
            "我已去掉背景音乐。想换一首的话，打开音乐面板即可。",
        ),
    )


def _remove_title(zh: bool) -> _Edit:
    def apply(s: Session) -> dict[str, Any]:
        s.draft = drafts.without_title(s.draft)
        if s.spec is not None:
            s.spec["title"] = ""
        return {"ok": True, "title": None}

    return _Edit(
        "remove_title",
        {},
        apply,
        pick(zh, "Removing the title.", "正在去掉标题。"),
        pick(
            zh,
            "I removed the title. Open the Text panel if you want to add a different one.",
            "我已去掉标题。想加别的标题的话，打开文字面板即可。",
        ),
    )


def _music(args: dict[str, Any], session: Session, seed: int, zh: bool, music_now: bool) -> _Edit | str:
    current = drafts.music_segments(session.draft)
    style = args["style"]
    if current and args.get("quiet") and style is None:
        return pick(zh, "", "")
    if style is None and args["change"] and current:
        now = current[0].get("style", "lofi")
        style = STYLE_ORDER[(STYLE_ORDER.index(now) + 1) % 3] if now in STYLE_ORDER else "lofi"
    if style is None and music_now and not args.get("quiet"):
        return pick(zh, "Your video already has background music. Open the Music panel to change it.",
                    "你的视频已经有背景音乐了。打开音乐面板可以更换。")  # fmt: skip
    style = style or "lofi"
    volume = int(current[0].get("volume", 35)) if current else 35
    name = drafts.MUSIC_NAMES.get(style, style)
    zh_name = {"lofi": "低保真", "upbeat": "欢快", "ambient": "舒缓"}.get(style, style)

    def apply(s: Session) -> dict[str, Any]:
        s.draft = drafts.with_music(s.draft, style=style, seed=seed % 1000 + 7, volume=volume)
        if s.spec is not None:
            s.spec.update(music=True, style=style)
        return {"ok": True, "style": style, "volume": volume}

    verb = "Switching to" if current else "Adding"
    return _Edit(
        "set_background_music",
        {"style": style, "volume": volume},
        apply,
        pick(
            zh,
            f"{verb} {name} background music.",
            f"正在{'更换为' if current else '添加'}{zh_name}背景音乐。",
        ),
        pick(
            zh,
            f"I {'switched to' if current else 'added'} {name} background music at {volume}%. Open the Music "
            "panel to change the track or its volume.",
            f"我{'换成了' if current else '添加了'}{zh_name}背景音乐，音量{volume}%。打开音乐面板可以更换配乐或调整音量。",
        ),
    )


def _volume(args: dict[str, Any], session: Session, zh: bool) -> _Edit:
    current = drafts.music_segments(session.draft)
    now = int(current[0].get("volume", 35)) if current else 35
    if "volume" in args:
        wanted = args["volume"]
    else:
        wanted = now + args["delta"]
        if args["delta"] < 0 and now > 0:
            wanted = max(wanted, now // 2, 1)  # "quieter" never mutes: at most halve it
    level = int(min(max(wanted, 0), 100))

    def apply(s: Session) -> dict[str, Any]:
        s.draft = drafts.with_volume(s.draft, level)
        return {"ok": True, "volume": level}

    return _Edit(
        "set_music_volume",
        {"volume": level},
        apply,
        pick(zh, f"Setting the music volume to {level}%.", f"正在把音乐音量调到{level}%。"),
        pick(
            zh,
            f"The background music now plays at {level}%. Open the Music panel to fine-tune it.",
            f"背景音乐的音量现在是{level}%。打开音乐面板可以微调。",
        ),
    )


def _title(title: str, seconds: float | None, zh: bool) -> _Edit:
    secs = seconds if seconds is not None else drafts.TITLE_MS / 1000

    def apply(s: Session) -> dict[str, Any]:
        s.draft = drafts.with_title(s.draft, title, secs)
        if s.spec is not None:
            s.spec["title"] = title
        return {"ok": True, "title": title, "duration": secs}

    return _Edit(
        "add_title",
        {"text": title, "start": 0, "duration": secs},
        apply,
        pick(zh, f"Adding the title \u201c{title}\u201d.", f"正在添加标题「{title}」。"),
        pick(
            zh,
            f"Done! The title \u201c{title}\u201d now shows for the first {secs:g} seconds. Drag it on the "
            "timeline to move it, or open the Text panel to change its style.",
            f"完成！标题「{title}」会在开头显示{secs:g}秒。在时间线上拖动可以移动它，打开文字面板可以修改样式。",
        ),
    )


TEXT_SECONDS = 3.0
"""How long a text overlay shows when the message does not say."""


def _text(text: str, at: float, seconds: float | None, zh: bool) -> _Edit:
    secs = seconds if seconds is not None else TEXT_SECONDS

    def apply(s: Session) -> dict[str, Any]:
        s.draft = drafts.with_text(s.draft, text, at, secs)
        return {"ok": True, "text": text, "start": at, "duration": secs}

    return _Edit(
        "add_text",
        {"text": text, "start": at, "duration": secs},
        apply,
        pick(
            zh,
            f"Adding the text \u201c{text}\u201d at {at:g} seconds.",
            f"正在第{at:g}秒添加文字「{text}」。",
        ),
        pick(
            zh,
            f"Done! \u201c{text}\u201d now shows from {at:g} seconds. Drag it on the timeline to move it, or open "
            "the Text panel to change its style.",
            f"完成！文字「{text}」从第{at:g}秒开始显示。在时间线上拖动可以移动它，打开文字面板可以修改样式。",
        ),
    )


def _use_uploads(session: Session, seed: int, zh: bool) -> _Edit | str:
    media = visual_media(session)
    if not media:
        return pick(
            zh,
            "I don't see any uploaded clips or images yet. Click the Upload button to add one, then ask again.",
            "还没有看到你上传的视频或图片。点击上传按钮添加素材，然后再说一次。",
        )
    sentences = list(session.spec["sentences"]) if session.spec else []
    names = [m["filename"] for m in media]

    def apply(s: Session) -> dict[str, Any]:
        if not s.draft["t"]:
            title = media[0]["filename"].rsplit(".", 1)[0]
            for step in _generation_steps(
                {"duration_ms": 10000, "sentences": [title], "title": title, "music": False, "style": "lofi",
                 "use_media": True, "seed": seed},
                s.canvas_config.get("aspect", "16:9"),
            ):  # fmt: skip
                step.apply(s)
            s.messages -= 1  # the two stages above count as this one step
        else:
            s.draft = drafts.with_media(
                s.draft, visual_media(s), sentences or [s.draft["m"].get("title") or "Video"], seed
            )
        if s.spec is not None:
            s.spec["use_media"] = True
        return {"ok": True, "media": [m["filename"] for m in visual_media(s)]}

    return _Edit(
        "use_uploaded_media",
        {"files": names},
        apply,
        pick(zh, "Putting your uploaded media on the timeline.", "正在把你上传的素材放到时间线上。"),
        pick(
            zh,
            f"Your uploaded media ({', '.join(names)}) now fill the video track. Preview it in the timeline, then "
            "click the Export button.",
            f"你上传的素材（{'、'.join(names)}）已经铺满视频轨道。在时间线中预览，然后点击导出按钮。",
        ),
    )


def _answer(topic: str, session: Session, zh: bool) -> str:
    draft = session.draft
    if topic == "help":
        return r.HELP[r.lang(zh)]
    if not draft["t"]:
        return pick(zh, "Your timeline is empty: there is no video yet. " + r.HELP["en"],
                    "你的时间线还是空的，还没有视频。" + r.HELP["zh"])  # fmt: skip
    secs = draft["d"] / 1000
    aspect = session.canvas_config.get("aspect", "16:9")
    music = drafts.music_segments(draft)
    title = draft["m"].get("title") or ""
    if music:
        m = music[0]
        zh_name = {"lofi": "低保真", "upbeat": "欢快", "ambient": "舒缓"}.get(m.get("style", ""), m["name"])
        tune = pick(zh, f"{m['name']} background music at {m.get('volume', 100)}%",
                    f"{zh_name}背景音乐，音量{m.get('volume', 100)}%")  # fmt: skip
    else:
        tune = pick(zh, "no background music", "没有背景音乐")
    facts = {
        "length": pick(zh, f"Your video is {secs:g} seconds long.", f"你的视频时长{secs:g}秒。"),
        "music": pick(zh, f"It has {tune}.", f"它有{tune}。") if music else pick(zh, "It has no background music.", "它没有背景音乐。"),
        "aspect": pick(zh, f"It is {aspect}.", f"画面比例是{aspect}。"),
        "title": pick(zh, f"Its title is \u201c{title}\u201d.", f"标题是「{title}」。") if title else pick(zh, "It has no title yet.", "还没有标题。"),
    }  # fmt: skip
    if topic in facts:
        return facts[topic]
    return " ".join(facts.values())
