"""Real-data tests say so when they are skipped: besides each test's skip reason, one line
at the end of the session names the missing data sets and how to get them."""

from __future__ import annotations

from typing import Any

from realdata._data import HOW, MISSING


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if MISSING:
        terminalreporter.write_sep("-", "real data missing", yellow=True)
        for dataset, folder in sorted(MISSING.items()):
            terminalreporter.write_line(f"real-data tests skipped: {dataset} is not at {folder}")
        terminalreporter.write_line(f"to run them, {HOW}.")
