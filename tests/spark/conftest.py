"""Fixtures for the Spark parity tests (issue 18, docs/spark.md).

- `spark_demo`: a 20,000-ticket demo workspace (`cxmetrics demo`'s generator, with its two
  business-hours schedules, SLA policies, surveys, shifts, reviews and text layer) in
  Europe/London (clock changes inside the year), and its tables exported as Parquet.
- `spark`: one SparkClient per test session over that export: local[2], 4 shuffle
  partitions, no UI.

The tests skip, saying why, only when PySpark or Java is missing; ./scripts/test installs
both (Java 17 from Debian's packages), so in CI they run.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import cxmetrics

DEMO_TICKETS = 20_000
TIMEZONE = "Europe/London"
# one local SparkSession for every test: small, quiet, and nothing downloaded
SPARK_CONF = {"spark.master": "local[2]", "spark.sql.shuffle.partitions": "4", "spark.ui.enabled": "false",
              "spark.log.level": "OFF", "spark.driver.memory": "1g"}


def spark_missing() -> str | None:
    """Why the Spark tests cannot run here, or None."""
    if importlib.util.find_spec("pyspark") is None:
        return "PySpark is not installed: pip install -e '.[test]' (./scripts/test does)"
    if shutil.which("java") is None:
        return "Java is not installed: apt-get install openjdk-17-jre-headless (./scripts/test does)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = spark_missing()
    if reason is None:
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.skip(reason=reason))


@dataclass(frozen=True)
class Demo:
    path: Path  # the workspace
    tables: Path  # its `cxmetrics export tables` folder


@pytest.fixture(scope="session")
def spark_demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    from cxmetrics._demo_run import run_demo
    from cxmetrics.demo import DemoConfig
    from cxmetrics.exports._tables import export_tables

    root = tmp_path_factory.mktemp("spark-demo")
    end = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
    with cxmetrics.open(root / "ws", create=True) as ws:
        ws.configure(timezone=TIMEZONE)
        run_demo(ws, DemoConfig(tickets=DEMO_TICKETS, seed=18, end=end, timezone=TIMEZONE), echo=lambda _: None)
        export_tables(ws, root / "tables")
    return Demo(root / "ws", root / "tables")


@pytest.fixture(scope="session")
def demo_ws(spark_demo: Demo) -> Iterator[cxmetrics.Workspace]:
    """The demo workspace, without refreshing anything (the export is its state)."""
    with cxmetrics.open(spark_demo.path, read_only=True) as ws:
        yield ws


@pytest.fixture(scope="session")
def spark(spark_demo: Demo) -> Iterator[object]:
    from cxmetrics.engines import SparkClient

    client = SparkClient.over_tables(spark_demo.tables, SPARK_CONF)
    try:
        yield client
    finally:
        client.close()
