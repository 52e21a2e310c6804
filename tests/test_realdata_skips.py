"""Without the real data, its tests are skipped out loud: each skip names the folder looked
in and how to get the data, and the session ends with a line saying so (issue 10, item 10)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_real_data_tests_say_where_the_data_was_looked_for(tmp_path: Path) -> None:
    missing = tmp_path / "no-data-here"
    env = {**os.environ, "CXMETRICS_DATA": str(missing)}
    done = subprocess.run([sys.executable, "-m", "pytest", "tests/realdata", "-q", "-rs", "-p", "no:cacheprovider"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out  # skipped, not failed
    folder = missing / "anonymous_bank_callcenter_feb1999"
    assert f"real-data tests skipped: anonymous_bank_callcenter_feb1999 is not at {folder}" in out, out
    assert "docs/data.md" in out
    assert (REPO / "docs" / "data.md").exists()
