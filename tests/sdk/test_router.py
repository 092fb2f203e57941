"""The vendor's router and the GUI translation."""

from __future__ import annotations

import pytest

from nemovideo import Route, route, translate_gui


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("export", Route.EXPORT),
        ("Please send me the video", Route.EXPORT),
        ("导出视频", Route.EXPORT),
        ("download it", Route.EXPORT),
        ("how many credits do I have?", Route.CREDITS),
        ("余额", Route.CREDITS),
        ("积分还有多少", Route.CREDITS),
        ("status", Route.STATE),
        ("show tracks", Route.STATE),
        ("状态", Route.STATE),
        ("upload clip.mp4", Route.UPLOAD),
        ("上传文件", Route.UPLOAD),
        ("Add a title 'Urban Dreams' for 3 seconds", Route.CHAT),
        ("generate a promo with background music", Route.CHAT),
    ],
)
def test_route(text: str, expected: Route) -> None:
    assert route(text) is expected


@pytest.mark.parametrize(
    ("raw", "text", "actions"),
    [
        (
            "Done! Open the Music panel to change the soundtrack, and click the Export button when ready.",
            "Done! Ask me to change the soundtrack, and export the video when ready.",
            [Route.EXPORT],
        ),
        (
            "Your video is ready. Preview it in the timeline, then click the Export button.",
            "Your video is ready. Look at the track summary, then export the video.",
            [Route.EXPORT, Route.STATE],
        ),
        (
            "The title shows now. Drag it on the timeline to move it.",
            "The title shows now. Ask me to move it.",
            [],
        ),
        ("Open the Effects panel.", "Look at the timeline.", [Route.STATE]),
        ("打开特效面板。", "查看时间线。", [Route.STATE]),
        (
            "标题「Sale」会在开头显示3秒。在时间线上拖动可以移动它，打开文字面板可以修改样式。",
            "标题「Sale」会在开头显示3秒。告诉我就能移动它或修改样式。",
            [],
        ),
        ("Check your billing page for details.", "Check your credits for details.", [Route.CREDITS]),
        (
            "完成！点击「导出」按钮即可下载。打开音乐面板可以调整音量。",
            "完成！导出视频即可下载。告诉我就能调整音量。",
            [Route.EXPORT],
        ),
        ("拖拽片段到时间线上", "用文字告诉我要怎么改片段到时间线上", []),
        (
            "你的视频现在是8秒。在时间线中预览，然后导出视频。",
            "你的视频现在是8秒。查看轨道摘要，然后导出视频。",
            [Route.STATE],
        ),
        ("A calm 10-second video about tea.", "A calm 10-second video about tea.", []),
    ],
)
def test_gui_translation(raw: str, text: str, actions: list[Route]) -> None:
    assert translate_gui(raw) == (text, actions)
