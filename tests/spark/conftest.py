"""Fixtures for the Spark parity tests (issue 18, docs/spark.md).

- `spark_demo`: a 20,000-ticket demo workspace (`cxmetrics demo`'s generator, with its two
  business-hours schedules, SLA policies, surveys, shifts, reviews and text layer) in
  Europe/London (clock changes inside the year), and its tables exported as Parquet.
- `spark`: one SparkClient per test session over that export: local[2], 4 shuffle
  partitions, no UI.
- `spark_built`: a copy of the export without anything DuckDB derived (facts, business-time
  twins, SLA clocks), and what `cxmetrics --engine spark --tables DIR refresh --now T` printed
  deriving them there on Spark, T being the time the workspace last evaluated its SLA clocks
  (the one refresh on Spark of the session: about a minute).

The tests skip, saying why, only when PySpark or Java is missing; ./scripts/test installs
both (Java 17 from Debian's packages), so in CI they run.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

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


#: what the workspace derives and a refresh on Spark derives again (keys of each table's rows)
DERIVED = {"ticket_facts": ("source", "ticket_id"), "reply_intervals": ("source", "ticket_id", "seq"),
           "contacts": ("source", "ticket_id", "contact_no"), "survey_fatigue": ("source", "send_id"),
           "ticket_facts_bh": ("source", "ticket_id"), "reply_intervals_bh": ("source", "ticket_id", "seq"),
           "sla_targets": ("source", "ticket_id", "metric", "cycle")}


def spark_cli(spark: Any, spark_demo: Demo, tables: Path, *args: str, workspace: Path | None = None) -> Result:
    """`cxmetrics --engine spark --tables DIR ARGS` in this process: in the test session's
    SparkSession, whose views go back to the demo's export afterwards."""
    from cxmetrics.cli import main
    from cxmetrics.engines._spark import read_manifest

    argv = ["-w", str(workspace or tables.parent / "no-workspace"), "--engine", "spark", "--tables", str(tables),
            "--spark-conf", "spark.sql.shuffle.partitions=4", *args]
    try:
        return CliRunner().invoke(main, argv)
    finally:
        spark.register_parquet(spark_demo.tables, list(read_manifest(spark_demo.tables)["tables"]))


@pytest.fixture(scope="session")
def sla_now(demo_ws: cxmetrics.Workspace) -> str:
    """When the workspace last evaluated its open SLA clocks (at its export), ISO 8601."""
    (now,) = demo_ws.con.execute("SELECT max(evaluated_at) FROM sla_targets WHERE completed_at IS NULL").fetchall()[0]
    return str(now.isoformat())


@pytest.fixture(scope="session")
def spark_built(spark_demo: Demo, spark: Any, sla_now: str,
                tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A copy of the demo's export without what DuckDB derived (an export of the canonical tables
    and the workspace's schedules.toml and sla.toml, as a lakehouse would hold them), and what
    `cxmetrics --engine spark --tables DIR refresh --now T` printed deriving it all there."""
    from cxmetrics.engines._spark import MANIFEST

    tables = tmp_path_factory.mktemp("spark-facts") / "tables"
    shutil.copytree(spark_demo.tables, tables)
    manifest = json.loads((tables / MANIFEST).read_text())
    for name in DERIVED:  # nothing of DuckDB's derivations may survive into the comparison
        shutil.rmtree(tables / name)
        manifest["tables"].remove(name)
    (tables / MANIFEST).write_text(json.dumps(manifest))
    result = spark_cli(spark, spark_demo, tables, "refresh", "--now", sla_now)
    assert result.exit_code == 0, (result.output, str(result.exception)[:1500])
    return tables, result.output
