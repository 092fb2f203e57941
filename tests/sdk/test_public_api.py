"""The public face: a sorted ``__all__``, a light import, typed package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nemovideo


def test_all_is_sorted_and_importable() -> None:
    assert list(nemovideo.__all__) == sorted(nemovideo.__all__)
    for name in nemovideo.__all__:
        assert hasattr(nemovideo, name), name


def test_py_typed_is_shipped() -> None:
    assert (Path(nemovideo.__file__).parent / "py.typed").is_file()


def test_import_stays_light() -> None:
    """Extras load only when used: importing the SDK pulls in no server, CLI or renderer code.

    Measured against its own dependencies already imported: httpx imports its CLI (and so ``rich``)
    whenever that is installed, which is httpx's choice, not ours.
    """
    code = (
        "import sys, httpx, httpx_sse, pydantic, anyio, tenacity\n"
        "before = set(sys.modules)\n"
        "import nemovideo\n"
        "heavy = [m for m in set(sys.modules) - before if m.split('.')[0] in "
        "{'starlette', 'uvicorn', 'multipart', 'python_multipart', 'typer', 'rich', 'av', 'imageio_ffmpeg'}"
        " or m.startswith(('nemovideo.emulator', 'nemovideo._cli.')) or m == 'nemovideo._cli']\n"
        "print(','.join(sorted(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
