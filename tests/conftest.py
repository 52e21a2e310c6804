from __future__ import annotations

from pathlib import Path

import pytest

import cxmetrics


@pytest.fixture
def ws(tmp_path: Path):
    with cxmetrics.open(tmp_path / "ws", create=True) as workspace:
        yield workspace


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Write exactly these characters (no newline translation)."""
    path.write_bytes(text.encode(encoding))
    return path


def rows(ws: cxmetrics.Workspace, query: str) -> list[tuple]:
    """Result rows as tuples (through Arrow, so time zones need no pytz)."""
    return [tuple(r.values()) for r in ws.sql(query).to_pylist()]
