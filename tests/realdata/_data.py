"""Where the real data sets are, and what to say when they are not there.

They are not in the repository (their licences differ from ours; some are large): the
folder is `../shared/data` beside the repository, or wherever CXMETRICS_DATA points.
docs/data.md says what each set is and where to download it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA_DIR = Path(os.environ.get("CXMETRICS_DATA") or REPO.parent / "shared" / "data").resolve()
HOW = ("download it as docs/data.md says, into shared/data next to the repository's folder or a "
       "folder named by CXMETRICS_DATA")
#: the data sets a test asked for and did not find (for the session's summary line)
MISSING: dict[str, Path] = {}


def data_file(dataset: str, name: str) -> Path:
    """The path of a real data file (noted as missing, for the summary, when it is absent)."""
    path = DATA_DIR / dataset / name
    if not path.exists():
        MISSING[dataset] = path.parent
    return path


def needs(path: Path) -> pytest.MarkDecorator:
    """A skip mark for tests of `path` when it is absent, whose reason names the folder looked
    in and how to get the data (the tests are still collected, and reported as skipped)."""
    return pytest.mark.skipif(not path.exists(), reason=f"real data not found at {path.parent}: {HOW}")
