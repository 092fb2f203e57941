"""The fault matrix's outcomes, collected over the session and printed as a table in the test report."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ..sdk.conftest import nemo, waits

__all__ = ["FaultMatrix", "fault_matrix", "nemo", "waits"]
"""``nemo`` (a client of the emulator) and ``waits`` (instant retry sleeps) are the SDK suite's fixtures."""

NOT_RUN = "-"


@dataclass
class FaultMatrix:
    """Operations (rows) x faults (columns) -> what happened."""

    rows: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    cells: dict[tuple[str, str], str] = field(default_factory=dict)

    def shape(self, rows: list[str], columns: list[str]) -> None:
        for row in rows:
            if row not in self.rows:
                self.rows.append(row)
        for column in columns:
            if column not in self.columns:
                self.columns.append(column)

    def record(self, row: str, column: str, outcome: str) -> None:
        self.shape([row], [column])
        self.cells[(row, column)] = outcome

    def table(self) -> list[str]:
        head = ["operation \\ fault", *self.columns]
        body = [[row, *(self.cells.get((row, c), NOT_RUN) for c in self.columns)] for row in self.rows]
        widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]

        def line(cells: list[str]) -> str:
            return (
                "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"
            )

        rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
        return [line(head), rule, *(line(cells) for cells in body)]


MATRIX_KEY = pytest.StashKey[FaultMatrix]()


@pytest.fixture(scope="session")
def fault_matrix(pytestconfig: pytest.Config) -> FaultMatrix:
    matrix = pytestconfig.stash.get(MATRIX_KEY, None)
    if matrix is None:
        matrix = pytestconfig.stash[MATRIX_KEY] = FaultMatrix()
    return matrix


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    matrix = config.stash.get(MATRIX_KEY, None)
    if matrix is None or not matrix.cells:
        return
    if not (config.getoption("fault_matrix") or terminalreporter.stats.get("failed")):
        return  # tests print nothing unless asked, or unless something failed
    terminalreporter.section("fault matrix: operation x fault -> outcome")
    for text in matrix.table():
        terminalreporter.write_line(text)
    terminalreporter.write_line(
        "ok = completed; (N retries) = repeated by the retry policy; (new token) = the expired token was "
        "replaced and the request repeated once; (new client id) = the token's answer was lost, so the "
        "client id (one token per 7 days) was replaced; (API route) = the CDN failed and the download came "
        "from the API's route; (recovered) = the stream broke and the outcome was read from state without "
        "re-sending; a class name = the documented error raised; n/a = the fault does not apply"
    )
