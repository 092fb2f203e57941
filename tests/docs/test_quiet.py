"""Tests print nothing unless they fail: no print calls in the suite, and the fault matrix only on request."""

from __future__ import annotations

import ast
import subprocess
import sys

from ._blocks import ROOT

ONE_CELL = "tests/proof/test_fault_matrix.py::test_fault_on_operation[token-status]"


def test_no_test_prints() -> None:
    found: list[str] = []
    for path in sorted((ROOT / "tests").glob("**/*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if (isinstance(func, ast.Name) and func.id == "print") or (
                isinstance(func, ast.Attribute) and func.attr == "disabled"
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def run_one(*options: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", ONE_CELL, *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_fault_matrix_shows_only_when_asked() -> None:
    assert "fault matrix" not in run_one()
    shown = run_one("--fault-matrix")
    assert "fault matrix: operation x fault -> outcome" in shown
    assert "| token " in shown
