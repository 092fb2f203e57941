"""The example notebook runs top to bottom in a real kernel (the ``python3`` kernel of this environment)
and shows what a notebook user sees: a drawn timeline, progress bars and a video player."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

NOTEBOOK = Path(__file__).parents[2] / "examples" / "notebook.ipynb"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_notebook_runs_top_to_bottom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEMO_EMULATOR_GENERATION_SECONDS", "0.5")
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    notebook: Any = nbformat.read(NOTEBOOK, as_version=4)
    # "python3" is the kernel ipykernel installs into this environment; jupyter_client starts it with
    # this interpreter, so the kernel sees the same packages as the tests.
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()

    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    mimes = [set(out.get("data", {})) for out in outputs]
    assert any("image/svg+xml" in m for m in mimes)  # the draft drew itself
    html = [str(out["data"]["text/html"]) for out in outputs if "text/html" in out.get("data", {})]
    assert any("<progress" in h for h in html)  # progress bars, updated in place
    players = [h for h in html if "<video controls" in h]
    assert len(players) == 1
    assert 'src="data:video/mp4;base64,' in players[0]
    texts = [str(out.get("data", {}).get("text/plain", "")) for out in outputs]
    assert any(t.startswith("Reply(text='Done!") for t in texts)
    assert any(t.startswith("Credits(available=1000") for t in texts)
    assert (tmp_path / "notebook.mp4").stat().st_size > 10_000
