"""The words the agent knows, as data: one table per language.

Each entry of `CUES` is a cue category (what a word signals) with its phrases in English and in Chinese. English
phrases match whole words (spaces match any run of spaces); Chinese ones match as substrings. `STYLES` and
`ASPECTS` map words to the renderer's music styles and to the canvas shapes.
"""

# ruff: noqa: E501  (Chinese text counts double in the line width)

from __future__ import annotations

import re
from functools import cache
from itertools import islice

EN_NUMBERS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}  # fmt: skip
ZH_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}

CUES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # category: (English phrases, Chinese phrases)
    "generate": (
        ("generate", "create", "produce", "build", "put together", "turn this into", "turn it into",
         "turn these into", "make me", "make a", "make an", "make another", "make a new", "make us",
         "i need", "i want", "i'd like", "we need", "we want", "give me", "render me", "cut a", "edit a",
         "can you make a", "could you make a", "whip up", "design", "draft", "come up with", "start over",
         "start again", "from scratch", "begin again"),
        ("生成", "制作", "做一个", "做个", "做一段", "做一支", "帮我做", "给我做", "来一个", "来个", "来一段",
         "剪一个", "剪个", "创建", "我想要", "我需要", "想要一个", "弄一个", "拍一个", "出一个", "重新做", "重做"),
    ),
    "noun": (
        ("video", "videos", "promo", "promos", "ad", "advert", "advertisement", "commercial", "teaser", "reel",
         "reels", "explainer", "trailer", "clip", "spot", "short", "story", "montage", "intro", "slideshow",
         "tiktok", "recap", "highlight", "highlights", "announcement", "tutorial", "invitation", "greeting",
         "presentation", "showcase", "film", "movie"),
        ("视频", "宣传片", "短视频", "广告", "短片", "预告片", "片子", "影片", "宣传视频", "短视", "介绍片",
         "vlog", "混剪", "快闪"),
    ),
    "edit": (
        ("make it", "make the video", "change", "set", "switch", "swap", "replace", "turn", "adjust", "update",
         "edit", "put", "add", "remove", "delete", "drop", "trim", "shorten", "extend", "lengthen", "cut",
         "use", "lower", "raise", "reduce", "increase", "bring", "rename", "mute", "boost", "keep it", "overlay",
         "call it", "name it", "give it", "show", "write", "display", "place",
         "instead"),
        ("改成", "改为", "换成", "换", "调", "设置", "设为", "加", "添加", "去掉", "删除", "删掉", "缩短",
         "延长", "加长", "剪短", "用", "把", "变成", "改", "关掉", "降低", "提高", "静音", "显示", "写上", "打上", "放上"),
    ),
    "music": (
        ("music", "background music", "soundtrack", "bgm", "song", "tune", "backing track", "audio track",
         "track", "beat", "beats", "melody", "score", "jingle", "tunes", "songs"),
        ("音乐", "背景音乐", "配乐", "bgm", "曲子", "歌", "背景乐", "音轨", "旋律"),
    ),
    "volume": (("volume", "loudness", "level"), ("音量", "声音")),
    "music_off": (
        ("no music", "without music", "without background music", "no background music", "no soundtrack",
         "without a soundtrack", "without any music", "no bgm", "silent", "music-free", "no audio", "mute it",
         "mute the video", "mute the audio", "mute everything", "silence it"),
        ("不要音乐", "不要背景音乐", "无音乐", "没有音乐", "不加音乐", "不需要音乐", "不要配乐", "无配乐",
         "不要bgm", "静音"),
    ),
    "remove": (
        ("remove", "delete", "drop", "get rid of", "turn off", "take out", "take off", "kill", "mute", "lose",
         "strip", "cut the", "ditch", "no more", "without"),
        ("去掉", "删除", "删掉", "关掉", "移除", "不要", "拿掉", "去除", "取消", "关闭", "静音"),
    ),
    "add": (
        ("add", "put", "include", "with", "give it", "throw in", "play", "insert", "need"),
        ("加", "添加", "加上", "配上", "配", "放", "带", "需要"),
    ),
    "change": (
        ("change", "swap", "switch", "replace", "different", "another", "new", "instead", "something",
         "try", "other", "don't like", "do not like", "dislike", "hate", "not a fan of"),
        ("换", "改", "替换", "换成", "换一个", "别的", "其他", "另一", "不喜欢", "不好听", "难听"),
    ),
    "louder": (
        ("louder", "up", "raise", "increase", "boost", "higher", "turn up", "pump up", "more volume"),
        ("大声", "大一点", "大点", "调高", "提高", "调大", "增大", "加大", "响一点", "响点", "高一点"),
    ),
    "quieter": (
        ("quieter", "softer", "lower", "down", "reduce", "decrease", "turn down", "less loud", "quiet",
         "softly", "too loud", "tone it down", "tone down"),
        ("小一点", "小点", "小声", "调低", "降低", "调小", "减小", "轻一点", "轻点", "低一点", "太吵",
         "太大声", "小些"),
    ),
    "title": (("title", "titled", "headline", "heading", "call it", "name it", "rename"), ("标题", "题目", "片名", "名字")),
    "text": (
        ("text", "caption", "overlay", "words", "subtitle", "label", "tagline", "slogan", "message"),
        ("文字", "字幕", "文本", "标语", "口号"),
    ),
    "length": (
        ("make it", "long", "length", "duration", "shorten", "shorter", "extend", "longer", "lengthen", "trim",
         "cut it", "cut the video", "seconds long", "set it to", "change it to", "keep it", "under", "runtime"),
        ("改成", "改为", "变成", "缩短", "延长", "加长", "剪短", "剪到", "时长", "长度", "秒钟", "调到", "控制在"),
    ),
    "shorter": (("shorter", "shorten", "trim", "cut it down", "tighten"), ("缩短", "短一点", "剪短", "短点", "短些")),
    "longer": (("longer", "extend", "lengthen", "stretch"), ("延长", "加长", "长一点", "长点", "长些")),
    "bit": (("a bit", "a little", "slightly", "a touch", "a tad", "somewhat"), ("一点", "一些", "稍微", "一下", "点")),
    "lot": (("a lot", "much", "way", "far", "really", "a lot more"), ("很多", "大幅", "多一些", "非常")),
    "uploads": (
        ("my footage", "my clips", "my clip", "my videos", "my video", "my photos", "my photo", "my images",
         "my image", "my pictures", "my files", "my media", "uploaded", "uploads", "i uploaded", "the clips",
         "the footage", "the photos", "my own"),
        ("上传的", "我的素材", "我的视频", "我的照片", "我的图片", "上传", "素材"),
    ),
    "question": (
        ("what", "how long", "how many", "which", "is there", "is it", "does it", "do you", "what's", "whats",
         "tell me", "show me the", "current", "right now", "how is", "how does"),
        ("什么", "多长", "多久", "几秒", "吗", "哪", "是否", "有没有", "现在", "目前", "怎么样", "多少"),
    ),
    "capabilities": (
        ("what can you do", "help", "what do you do", "how does this work", "what are you", "options",
         "commands", "how do i", "what else", "capabilities", "who are you"),
        ("你能做什么", "你会什么", "帮助", "怎么用", "能做什么", "可以做什么", "功能", "你是谁", "有什么功能"),
    ),
    "greeting": (
        ("hi", "hello", "hey", "how are you", "good morning", "good afternoon", "good evening", "hiya"),
        ("你好", "您好", "嗨", "在吗", "哈喽"),
    ),
    "thanks": (
        ("thanks", "thank you", "thx", "cheers", "great", "perfect", "awesome", "nice", "cool", "ok", "okay",
         "looks good", "love it", "good job", "well done", "that's it", "that's all", "all good"),
        ("谢谢", "多谢", "感谢", "好的", "可以了", "不错", "完美", "太棒了", "很好", "就这样", "好嘞"),
    ),
    "request": (
        ("can you", "could you", "would you", "will you", "please", "can i", "i want", "i'd like", "let's"),
        ("能不能", "可以", "能否", "请", "帮我", "麻烦", "能把", "能"),
    ),
    "export": (
        ("export", "render it", "render the video", "render this", "render my video", "download", "save it",
         "save the video", "save my video", "the mp4", "an mp4", "the final file", "send me the video"),
        ("导出", "渲染", "下载", "保存视频", "输出视频", "发给我"),
    ),
    "short": (("short", "quick", "brief", "tiny", "snappy"), ("短", "简短")),
}  # fmt: skip

STYLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "upbeat": (
        ("upbeat", "energetic", "more energetic", "happy", "fun", "lively", "cheerful", "pop", "dance", "exciting",
         "uplifting", "bright", "rock", "driving", "party", "punchy", "peppy", "bouncy", "high-energy",
         "high energy", "hype", "fast", "summery", "festive", "sporty", "electronic", "edm", "groovy"),
        ("欢快", "活力", "动感", "轻快", "激昂", "热闹", "快节奏", "劲爆", "激情", "节奏感", "开心", "喜庆", "有趣"),
    ),
    "ambient": (
        ("ambient", "calm", "calmer", "relaxing", "relaxed", "chill", "chilled", "soft", "peaceful", "gentle",
         "cinematic", "dreamy", "meditative", "atmospheric", "serene", "soothing", "tranquil", "slow",
         "emotional", "piano", "spa", "mellow", "elegant"),
        ("舒缓", "安静", "轻柔", "放松", "平静", "氛围", "柔和", "温柔", "优雅", "抒情", "悠扬", "温馨", "治愈"),
    ),
    "lofi": (
        ("lo-fi", "lofi", "lo fi", "jazzy", "jazz", "hip hop", "hip-hop", "cozy", "cosy", "study", "retro",
         "vintage", "laid-back", "laid back", "coffee-shop"),
        ("低保真", "爵士", "复古", "慵懒"),
    ),
}  # fmt: skip

ASPECTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "9:16": (
        ("vertical", "portrait", "stories", "story format", "reel", "reels", "tiktok", "tik tok", "shorts",
         "youtube shorts", "phone", "mobile", "upright", "instagram story", "snapchat"),
        ("竖屏", "竖版", "竖的", "竖向", "抖音", "快手", "手机", "竖着"),
    ),
    "1:1": (
        ("square", "instagram post", "instagram feed", "feed post", "1x1"),
        ("方形", "正方形", "方屏", "朋友圈"),
    ),
    "16:9": (
        ("landscape", "horizontal", "widescreen", "wide screen", "youtube", "wide", "tv", "desktop", "cinema"),
        ("横屏", "横版", "横的", "横向", "宽屏", "横着"),
    ),
}  # fmt: skip


@cache
def pattern(words: tuple[str, ...], latin: bool) -> re.Pattern[str]:
    """One alternation of literal phrases (longest first): linear-time, no backtracking between phrases."""
    parts = [re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True)]
    body = "|".join(parts)
    return re.compile(rf"(?<![\w'])(?:{body})(?![\w'])" if latin else f"(?:{body})")


def find(category: str, low: str) -> list[re.Match[str]]:
    """Every cue of `category` in the lower-cased text, both languages, in order."""
    en, zh = CUES[category]
    found = [*islice(pattern(en, True).finditer(low), 64), *islice(pattern(zh, False).finditer(low), 64)]
    return sorted(found, key=lambda m: m.start())


def has(category: str, low: str) -> bool:
    en, zh = CUES[category]
    return bool(pattern(en, True).search(low) or pattern(zh, False).search(low))


def first_key(table: dict[str, tuple[tuple[str, ...], tuple[str, ...]]], low: str) -> tuple[str, int] | None:
    """The key of `table` whose word comes first in the text, and where."""
    best: tuple[str, int] | None = None
    for key, (en, zh) in table.items():
        for pat in (pattern(en, True), pattern(zh, False)):
            if (m := pat.search(low)) and (best is None or m.start() < best[1]):
                best = (key, m.start())
    return best
