from __future__ import annotations

from pathlib import Path

import pytest

import cxmetrics
from _engines import engine, on_engine, pytest_generate_tests, spark_session

# the engine dimension (issue 18): a test marked `engines` runs on DuckDB and on Spark
__all__ = ["engine", "pytest_generate_tests", "spark_session"]


@pytest.fixture
def ws(tmp_path: Path, engine: str, request: pytest.FixtureRequest):
    """A new workspace; in a test marked `engines`, its metric reads on that engine (tests/_engines.py)."""
    with cxmetrics.open(tmp_path / "ws", create=True) as workspace:
        yield on_engine(workspace, engine, request, tmp_path / "tables")


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Write exactly these characters (no newline translation)."""
    path.write_bytes(text.encode(encoding))
    return path


def rows(ws: cxmetrics.Workspace, query: str) -> list[tuple]:
    """Result rows as tuples (through Arrow, so time zones need no pytz)."""
    return [tuple(r.values()) for r in ws.sql(query).to_pylist()]
