"""What the agent says, in English and Chinese. Replies speak as if the user had the web app's GUI ("click
the Export button", "open the Music panel"), as the real service does."""

# ruff: noqa: E501  (Chinese text counts double in the line width)

from __future__ import annotations

HELP = {
    "en": (
        'I can generate a video from a script (try: "generate a 30-second promotional video from this script '
        'with background music: ..."), add a title ("add a title \'Summer Sale\' for 3 seconds"), add or remove '
        'background music, set the music volume ("set the music volume to 20%"), change the length ("make it 15 '
        'seconds") or the aspect ratio ("change the aspect ratio to 9:16"). Click the Upload button to add '
        'your own clips, then say "use my uploaded clip".'
    ),
    "zh": (
        "我可以根据脚本生成视频（试试：“帮我生成一个30秒的宣传视频，配背景音乐：……”），添加标题（“添加标题「夏日特惠」，"
        "显示3秒”），添加或去掉背景音乐，调整音乐音量（“把背景音乐音量调到20%”），修改时长（“改成15秒”）或画面比例"
        "（“改成竖屏”）。点击上传按钮添加你自己的素材，然后说“用我上传的视频”。"
    ),
}
NEED_DRAFT = {
    "en": (
        "Your timeline is empty, so there is nothing to edit yet. Describe the video you want (for example "
        '"generate a 15-second promotional video from this script: ...") and I will build it.'
    ),
    "zh": "你的时间线还是空的，暂时没有可以编辑的内容。描述一下你想要的视频（例如“帮我生成一个15秒的宣传视频：……”），我来帮你制作。",
}
THANKS = {
    "en": "You're welcome! Tell me if you want another change, or click the Export button when you are happy.",
    "zh": "不客气！还想改什么随时告诉我，满意的话点击导出按钮即可。",
}
EXPORT = {
    "en": (
        "Your video is ready to export. Click the Export button to render it as a 1080p MP4 and download "
        "it; exporting costs no credits."
    ),
    "zh": "你的视频可以导出了。点击导出按钮即可渲染成1080p的MP4并下载，导出不消耗积分。",
}
SUGGEST = {
    "generate": ('"generate a 15-second promo for a bakery"', "“帮我生成一个15秒的面包店宣传视频”"),
    "music": ('"add upbeat background music"', "“加上欢快的背景音乐”"),
    "volume": ('"make the music quieter"', "“把音乐调小一点”"),
    "length": ('"make it 15 seconds"', "“改成15秒”"),
    "aspect": ('"make it vertical"', "“改成竖屏”"),
    "title": ("\"add a title 'Summer Sale'\"", "“添加标题「夏日特惠」”"),
    "text": ("\"add the text 'Open 24/7' at 5 seconds\"", "“在第5秒加上文字「全天营业」”"),
    "uploads": ('"use my uploaded clips"', "“用我上传的视频”"),
}


def lang(zh: bool) -> str:
    return "zh" if zh else "en"


def pick(zh: bool, en: str, cn: str) -> str:
    return cn if zh else en


def not_understood(zh: bool, phrase: str, closest: list[str]) -> str:
    shown = phrase if len(phrase) <= 60 else phrase[:57] + "..."
    tips = [SUGGEST[c][1 if zh else 0] for c in closest]
    if zh:
        return f"抱歉，我没能把“{shown}”对应到我能做的操作。你可以试试：{'、'.join(tips)}。"
    return f"Sorry, I couldn't map \u201c{shown}\u201d to anything I can do. Closest things I can do: {', '.join(tips)}."
