"""The ffmpeg job for a plan: input arguments, a filter graph script, and the small files the graph reads.

Video layers are opaque and cover the whole canvas, so the visible picture at any moment is the
top-most segment. The timeline is flattened into consecutive pieces (one per visible segment span,
black for gaps), each rendered to exactly its frame count and joined with `concat`: no full-frame
overlays. Static scene cards are drawn once and repeated with `loop`. Titles are `drawtext` filters
enabled by frame number on the joined stream.

Every file the graph names (text, fonts) lives in the job's working directory under a plain name, and ffmpeg
runs there, so no path ever needs filter-graph escaping.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

from ._fonts import Fonts, fit_text, load_metrics
from ._plan import RenderPlan, Visual

AUDIO_RATE = 48000

QUALITY: dict[str, dict[str, str]] = {
    "high": {"preset": "veryfast", "crf": "20", "audio_bitrate": "192k"},
    "medium": {"preset": "superfast", "crf": "23", "audio_bitrate": "160k"},
    "draft": {"preset": "ultrafast", "crf": "28", "audio_bitrate": "128k"},
}

ZOOM = 0.08
MUSIC_FILTERS = {"lofi": "lowpass=f=3200,", "upbeat": "", "ambient": "lowpass=f=5000,"}


@dataclass(frozen=True)
class Music:
    style: str
    seed: int
    seconds: float


@dataclass
class Job:
    """What `render_draft` needs to run ffmpeg: `files`, `links` and `music` go into its working directory."""

    inputs: list[str] = field(default_factory=list)
    chains: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    links: dict[str, Path] = field(default_factory=dict)
    music: dict[str, Music] = field(default_factory=dict)
    count: int = 0

    def add_input(self, *args: str) -> int:
        self.inputs.extend(args)
        self.count += 1
        return self.count - 1

    @property
    def graph(self) -> str:
        return ";\n".join(self.chains) + "\n"


def _seconds(ms: float) -> str:
    return f"{ms / 1000:.6f}"


def _luma(colour: str) -> float:
    value = int(colour[2:], 16)
    r, g, b = value >> 16, (value >> 8) & 0xFF, value & 0xFF
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def _drawtext(font: str, textfile: str, size: int, colour: str, x: str, y: str, extra: str = "") -> str:
    """Light text gets a dark outline and shadow to read on any picture; dark text gets none."""
    text = (
        f"drawtext=fontfile={font}:textfile={textfile}:expansion=none:fontsize={size}:fontcolor={colour}"
        f":line_spacing={size // 4}:text_align=C:x='{x}':y='{y}'"
    )
    if _luma(colour) >= 0.4:
        outline = max(2, size // 22)
        text += (
            f":borderw={outline}:bordercolor=0x000000@0.55"
            f":shadowx={outline}:shadowy={outline}:shadowcolor=0x000000@0.35"
        )
    return text + extra


def _pieces(plan: RenderPlan) -> list[tuple[Visual | None, int, int, int]]:
    """(visual or None for a gap, first frame, frame count, offset in frames into the visual)."""
    c = plan.canvas
    spans = [(v, c.frame(v.start_ms), c.frame(v.end_ms)) for v in plan.visuals]
    spans = [s for s in spans if s[2] > s[1]]
    cuts = sorted({0, c.frames, *(f for _, a, b in spans for f in (a, b))})
    pieces: list[tuple[Visual | None, int, int, int]] = []
    for a, b in itertools.pairwise(cuts):
        top: tuple[Visual, int] | None = None
        for visual, start, end in spans:
            if start <= a and end >= b:
                top = (visual, start)
        shown = top[0] if top else None
        if pieces and pieces[-1][0] is shown and pieces[-1][1] + pieces[-1][2] == a:
            prev = pieces[-1]
            pieces[-1] = (prev[0], prev[1], prev[2] + b - a, prev[3])
        else:
            pieces.append((shown, a, b - a, a - top[1] if top else 0))
    return pieces


def build_job(plan: RenderPlan, fonts: Fonts) -> Job:
    c = plan.canvas
    w, h, fps = c.width, c.height, c.fps
    job = Job()
    job.links["title.ttf"] = fonts.title
    job.links["body.ttf"] = fonts.body
    hold = f"settb=1/{fps},setpts=N"
    labels: list[str] = []
    side = min(w, h)
    for index, (visual, _first, frames, offset) in enumerate(_pieces(plan)):
        label = f"[p{index}]"
        labels.append(label)
        repeat = f"format=yuv420p,trim=end_frame=1,loop=loop={frames - 1}:size=1,{hold}{label}"
        if visual is None:
            job.chains.append(f"color=c=black:s={w}x{h}:r={fps},{repeat}")
        elif visual.kind == "scene":
            if visual.bg2 is None:
                chain = f"color=c={visual.bg}:s={w}x{h}:r={fps}"
                luma = _luma(visual.bg)
            else:
                chain = (
                    f"gradients=s={w}x{h}:r={fps}:c0={visual.bg}:c1={visual.bg2}:x0=0:y0=0:x1=0:y1={h - 1}"
                    ":nb_colors=2:speed=0"
                )
                luma = (_luma(visual.bg) + _luma(visual.bg2)) / 2
            if visual.text.strip():
                lines, size = fit_text(
                    visual.text, load_metrics(fonts.body), round(side * 0.065), w * 0.84, h * 0.8
                )
                name = f"scene{index}.txt"
                job.files[name] = "\n".join(lines)
                colour = "0xffffff" if luma < 0.6 else "0x111111"
                chain += "," + _drawtext("body.ttf", name, size, colour, "(w-tw)/2", "(h-th)/2")
            job.chains.append(f"{chain},{repeat}")
        elif visual.kind == "image":
            assert visual.src is not None
            k = job.add_input("-i", str(visual.src))
            total = c.frame(visual.end_ms) - c.frame(visual.start_ms)
            zoom = f"1+{ZOOM}*(on+{offset})/{max(1, total - 1)}"
            job.chains.append(
                f"[{k}:v]trim=end_frame=1,scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},"
                f"setsar=1,format=yuv420p,zoompan=z='{zoom}':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2'"
                f":d={frames}:s={w}x{h}:fps={fps},{hold}{label}"
            )
        else:
            assert visual.src is not None
            start = visual.in_ms + offset * 1000 / fps
            k = job.add_input("-ss", _seconds(start), "-t", f"{frames / fps + 1:.6f}", "-i", str(visual.src))
            # Laid over black of the exact length: a clip with no frames left after `in` shows black
            # instead of shortening the piece and pulling every later piece early.
            job.chains.append(
                f"color=c=black:s={w}x{h}:r={fps}:d={frames / fps:.6f},format=yuv420p[b{index}]"
            )
            job.chains.append(
                f"[{k}:v]setpts=PTS-STARTPTS,fps={fps},"
                f"scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2,"
                f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,format=yuv420p,"
                f"tpad=stop=-1:stop_mode=clone[c{index}]"
            )
            job.chains.append(
                f"[b{index}][c{index}]overlay=eof_action=pass,trim=end_frame={frames},{hold}{label}"
            )
    video = "".join(labels) + (f"concat=n={len(labels)}:v=1:a=0" if len(labels) > 1 else "null")
    for index, text in enumerate(plan.texts):
        first, last = c.frame(text.start_ms), c.frame(text.end_ms) - 1
        if last < first or not text.text.strip():
            continue
        lines, size = fit_text(
            text.text, load_metrics(fonts.title), text.size or round(side * 0.08), w * 0.86, h * 0.5
        )
        name = f"text{index}.txt"
        job.files[name] = "\n".join(lines)
        y = {"top": "h*0.08", "center": "(h-th)/2", "bottom": "h*0.90-th"}[text.position]
        video += "," + _drawtext(
            "title.ttf", name, size, text.color, "(w-tw)/2", y, f":enable='between(n,{first},{last})'"
        )
    job.chains.append(f"{video},tpad=stop=-1:stop_mode=clone,trim=end_frame={c.frames},format=yuv420p[vout]")

    sounds: list[str] = []
    for index, sound in enumerate(plan.sounds):
        seconds = sound.duration_ms / 1000
        if sound.kind == "music":
            name = f"music{index}.wav"
            job.music[name] = Music(sound.style, sound.seed, seconds)
            k = job.add_input("-i", name)
            chain = f"[{k}:a]{MUSIC_FILTERS[sound.style]}"
        else:
            assert sound.src is not None
            k = job.add_input("-ss", _seconds(sound.in_ms), "-t", f"{seconds:.6f}", "-i", str(sound.src))
            chain = f"[{k}:a]"
        chain += (
            f"asetpts=PTS-STARTPTS,atrim=duration={seconds:.6f},aresample={AUDIO_RATE},"
            f"aformat=sample_fmts=fltp:channel_layouts=stereo,volume={sound.volume / 100:.4f}"
        )
        fade_in = min(sound.fade_in_ms, sound.duration_ms) / 1000
        fade_out = min(sound.fade_out_ms, sound.duration_ms) / 1000
        if fade_in > 0:
            chain += f",afade=t=in:st=0:d={fade_in:.6f}"
        if fade_out > 0:
            chain += f",afade=t=out:st={seconds - fade_out:.6f}:d={fade_out:.6f}"
        delay = round(sound.start_ms * AUDIO_RATE / 1000)
        if delay:
            chain += f",adelay=delays={delay}S:all=1"
        sounds.append(f"[a{index}]")
        job.chains.append(f"{chain}[a{index}]")
    end = f"apad=whole_dur={c.seconds:.6f},atrim=end={c.seconds:.6f}[aout]"
    if not sounds:
        job.chains.append(f"anullsrc=r={AUDIO_RATE}:cl=stereo,atrim=end={c.seconds:.6f}[aout]")
    elif len(sounds) == 1:
        job.chains.append(f"{sounds[0]}{end}")
    else:
        job.chains.append(
            f"{''.join(sounds)}amix=inputs={len(sounds)}:normalize=0:duration=longest:dropout_transition=0,{end}"
        )
    return job


def output_args(quality: str, fps: int) -> list[str]:
    q = QUALITY[quality]
    return [
        "-map", "[vout]", "-map", "[aout]",
        "-c:v", "libx264", "-preset", q["preset"], "-crf", q["crf"], "-pix_fmt", "yuv420p", "-r", str(fps),
        "-c:a", "aac", "-b:a", q["audio_bitrate"], "-ar", str(AUDIO_RATE), "-ac", "2",
        "-movflags", "+faststart",
    ]  # fmt: skip
