from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

import cxmetrics
from _engines import engine, on_engine, pytest_generate_tests, spark_session

# the engine dimension (issue 18): a test marked `engines` runs on DuckDB and on Spark
__all__ = ["engine", "pytest_generate_tests", "spark_session"]

# a test on Spark: in tests/spark, or the [spark] variant of a scenario marked `engines`
ON_SPARK = re.compile(r"^tests/spark/|\[(?:[^\]]*-)?spark(?:-[^\]]*)?\]$")


def worker_group(nodeid: str) -> str:
    """Which tests share a worker when the suite runs on several (./scripts/test runs
    pytest-xdist's `-n 2`): a module's tests stay together (its module fixtures are built
    once), and everything on Spark shares one worker, so one JVM and one build of
    tests/spark's session fixtures (the 20,000-ticket demo and its refresh on Spark, minutes).

    >>> worker_group("tests/sla/test_clocks.py::test_breach[spark]")
    'spark'
    >>> worker_group("tests/sla/test_clocks.py::test_breach[duckdb]")
    'tests/sla/test_clocks.py'
    >>> worker_group("tests/sla/test_ref.py::test_minutes[spark-0]"), worker_group("tests/spark/test_x.py::test[a]")
    ('spark', 'spark')
    """
    return "spark" if ON_SPARK.search(nodeid) else nodeid.split("::")[0]


if importlib.util.find_spec("xdist") is not None:
    def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
        """Each worker takes whole groups (`worker_group`), as `--dist loadfile` takes files.
        (`--dist loadgroup` with `xdist_group` marks would say the same, but pytest-xdist 3.8
        renames node ids for it in a way pytest 9.2 ignores: every test became its own group.)"""
        from xdist.scheduler import LoadScopeScheduling

        class ByGroup(LoadScopeScheduling):
            def _split_scope(self, nodeid: str) -> str:
                return worker_group(nodeid)

        return ByGroup(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On workers, the Spark group goes first: it is the longest, and must not start last."""
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: worker_group(item.nodeid) != "spark")  # stable


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
