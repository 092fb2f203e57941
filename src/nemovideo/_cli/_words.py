"""What the command line says in its own words, in English and Chinese: a person who writes Chinese is
answered in Chinese, by the agent and by the command around it."""

from __future__ import annotations

from typing import Literal

from .._router import language_of

Lang = Literal["en", "zh"]

WORDS: dict[Lang, dict[str, str]] = {
    "en": {
        "timeline": "Timeline",
        "timeline_of": "Timeline: {title}",
        "columns": "#|track|segment|start|end|volume",
        "empty": "(empty)",
        "uploading": "Uploading {count} file{plural}",
        "sent": "sent {size}",
        "generating": "Generating",
        "rendering": "Rendering",
        "downloading": "Downloading",
        "working": "still working · {seconds:.0f} s",
        "still": "Still working... ({seconds:.0f} s)",
        "agent": "agent",
        "emulator": "[dim]Using a local emulator: its agent is a rule-based stand-in, not an AI.[/]",
        "session": "Session {id}",
        "uploaded": "Uploaded {names}",
        "generated": "Generated",
        "generated_cost": "Generated ({n} credits)",
        "rendered": "Rendered {id}",
        "downloaded": "Downloaded",
        "saved": "[green]Saved[/] {path} · {seconds:g} s · {size} · {credits} credits left",
    },
    "zh": {
        "timeline": "时间线",
        "timeline_of": "时间线：{title}",
        "columns": "#|轨道|片段|开始|结束|音量",
        "empty": "（空）",
        "uploading": "正在上传 {count} 个文件",
        "sent": "已发送 {size}",
        "generating": "正在生成",
        "rendering": "正在渲染",
        "downloading": "正在下载",
        "working": "仍在处理 · {seconds:.0f} 秒",
        "still": "仍在处理…（{seconds:.0f} 秒）",
        "agent": "智能体",
        "emulator": "[dim]正在使用本地模拟器：其中的智能体是按规则应答的替身，不是 AI。[/]",
        "session": "会话 {id}",
        "uploaded": "已上传 {names}",
        "generated": "已生成",
        "generated_cost": "已生成（花费 {n} 积分）",
        "rendered": "已渲染 {id}",
        "downloaded": "已下载",
        "saved": "[green]已保存[/] {path} · {seconds:g} 秒 · {size} · 剩余 {credits} 积分",
    },
}


def lang_of(text: str, language: str | None = None) -> Lang:
    """Chinese if the text is written in Chinese or the agent's language is Chinese, else English."""
    if language_of(text) == "zh" or (language or "").lower().startswith("zh"):
        return "zh"
    return "en"
