"""The engine dimension of the hand-worked scenarios (issue 18, docs/spark.md): a test marked
`engines` runs twice, `[duckdb]` and `[spark]`, and its `ws.metrics(...)` reads and SLA clocks
answer from that engine, so the same hand-computed asserts hold on both without writing a test
twice.

On Spark, `ws` is the same workspace behind `OnSpark`: everything but `metrics` goes to the
workspace; `metrics` exports its tables (`cxmetrics export tables`, the code a user runs)
and answers the request with `run_metrics` over a `SparkClient` on those Parquet files
(`cxmetrics --engine spark --tables DIR metrics`' path, through its check and NOTIMPL guard).
The export is written again after anything else touched the workspace (an import, a
settings change), so a test that adds data between two reads gets both answers fresh.

The SLA clocks: tests/sla's `refresh(ws, now)` calls `OnSpark.refresh_sla` on Spark, which
exports the workspace as it stands (its facts brought up to date) and derives `sla_targets`
from the export on Spark, as `cxmetrics --engine spark --tables DIR refresh --now` does (the
calendar from the exported schedules.toml, the clocks under its sla.toml: `_spark_sla`), and
writes it back; `targets(ws, ...)` then reads those Parquet files (`OnSpark.built`),
`compliance` and `breaches` a client over that export (`OnSpark.built_client`), and metric
reads answer over it. The facts under the clocks are the workspace's (the clocks do not read
the business-time twins). What stays DuckDB's (the incremental refresh and its bookkeeping,
which a refresh on Spark does not keep) is tested on DuckDB only, saying so.

With `CXMETRICS_TEST_SPARK_FACTS=1` the facts are derived again on Spark too (`--engine spark
refresh`'s derivation, over the export, written back) before the metrics or the clocks read
them: the hand-worked values then check Spark's facts and twins as well. It costs a
derivation (a few dozen Spark steps) per scenario, so the default run leaves it out; the
20,000-ticket parity of tests/spark/test_facts_parity.py covers the facts every run.

A refresh on Spark costs a few seconds (about 15 Spark steps), so the default run covers the
SLA scenarios of a representative set, one or two per rule family (breach, policy matching,
pause and resume, open clocks, reopen, a priority change, business hours across a clock
change, schedule rules, the minute reference's first seed, compliance and breaches); the
others are marked `@pytest.mark.engines(opt_in=True)` and their Spark variant runs with
`CXMETRICS_TEST_SPARK_SLA=1` (skipped otherwise, saying so).

One SparkSession serves the whole run (local, from tests/spark's SPARK_CONF; the first test
that needs it starts it, about 10 s). Each export gets a session of its own on it
(`newSession()`: its own temporary views and time zone, the same JVM), so scenarios and the
parity tests' demo never see each other's tables; with one shuffle partition and without
adaptive execution (a scenario has a few rows).

The Spark variant skips, saying why, only when PySpark or Java is missing (tests/spark's
rule). A metric listed in `cxmetrics.engines.NOTIMPL` is expected to fail on Spark: the
test runs it, requires the failure and reports it as xfail with the listed reason (ibis's
`notimpl` markers are the model), so the list cannot go stale.

tests/conftest.py imports `engine`, `spark_session` and `pytest_generate_tests`, and its `ws`
fixture wraps each new workspace with `on_engine`: any test folder can mark a scenario.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

import cxmetrics
from cxmetrics.engines import NOTIMPL, SparkClient
from cxmetrics.engines._spark import read_manifest
from cxmetrics.exports._tables import export_tables
from cxmetrics.metrics._compile import check_request
from cxmetrics.metrics._query import MetricTable, run_metrics
from cxmetrics.metrics._registry import registry
from spark.conftest import SPARK_CONF, spark_missing

ENGINES = ("duckdb", "spark")
SPARK_FACTS = os.environ.get("CXMETRICS_TEST_SPARK_FACTS") == "1"
SPARK_OPT_IN = os.environ.get("CXMETRICS_TEST_SPARK_SLA") == "1"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test marked `engines` that uses `ws` runs once per engine."""
    if metafunc.definition.get_closest_marker("engines") and "ws" in metafunc.fixturenames:
        reason = spark_missing()
        spark = pytest.param("spark", marks=pytest.mark.skip(reason=reason)) if reason else "spark"
        metafunc.parametrize("engine", ["duckdb", spark])


@pytest.fixture
def engine() -> str:
    """The engine a test's metric reads and SLA clocks run on (parametrized for tests marked `engines`)."""
    return "duckdb"


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """The run's one SparkSession: one running already (tests/spark's) as it is, else one
    started here, with tests/spark's conf, and stopped at the end."""
    from pyspark.sql import SparkSession

    from cxmetrics.engines._spark import session

    running = SparkSession.getActiveSession()
    if running is not None:
        yield running
        return
    spark = session(SPARK_CONF, None)
    yield spark
    spark.stop()


def on_engine(ws: cxmetrics.Workspace, engine: str, request: pytest.FixtureRequest, folder: Path) -> Any:
    """`ws` as `engine` reads it: itself on DuckDB, `OnSpark` on Spark (the Spark session is
    started only for a Spark variant)."""
    if engine == "duckdb":
        return ws
    if not SPARK_OPT_IN and any(m.kwargs.get("opt_in") for m in request.node.iter_markers("engines")):
        pytest.skip("the Spark variant of a scenario beyond the representative set: CXMETRICS_TEST_SPARK_SLA=1 runs it")
    on = OnSpark(ws, request.getfixturevalue("spark_session"), folder)
    # a test marked `engines` that reads nothing on Spark would only run its DuckDB asserts twice
    request.addfinalizer(lambda: _read_some(on, request.node.nodeid))
    return on


def _read_some(on: OnSpark, nodeid: str) -> None:
    if not on.requests[0]:
        pytest.fail(f"{nodeid} is marked `engines` but read nothing on Spark (a metric through ws.metrics, "
                    "SLA clocks through OnSpark.refresh_sla): remove the marker.")


_NAMED = re.compile(r'\b(?:FROM|JOIN)\s+"?(\w+)', re.IGNORECASE)


class _ViewsOnDemand(SparkClient):
    """A SparkClient that registers an exported table as a view when a query first names it.
    The CLI's `over_tables` registers every exported table up front (27 tables, each a small
    Spark job reading its Parquet schema: about 3 s); a scenario reads 2 to 5 of them, and runs
    on a new export a few hundred times a run. The queries and their answers are the same.

    `derived`: the tables a refresh on this client derives. They are never registered from the
    export's files: a step that reads one (`reopened_at` reads `ticket_facts`, the clocks'
    evaluation `sla_targets`) reads the view the steps before it made, and registering the
    exported table there would replace Spark's rows with the workspace's."""

    def __init__(self, spark: Any, tables: Path, derived: tuple[str, ...] = ()) -> None:
        super().__init__(spark)
        self._tables, self._left = tables, set(read_manifest(tables)["tables"]) - set(derived)

    def render(self, sql: str, *, pretty: bool = False) -> str:
        # (a table follows FROM or JOIN; a CTE of an exported table's name only registers it early)
        named = {m.lower() for m in _NAMED.findall(sql)} & self._left
        self.register_parquet(self._tables, sorted(named))
        self._left -= named
        return super().render(sql, pretty=pretty)


class OnSpark:
    """A workspace whose metric reads and SLA clocks run on Spark over its exported tables
    (module doc)."""

    def __init__(self, ws: cxmetrics.Workspace, spark: Any, folder: Path,
                 requests: list[int] | None = None) -> None:
        self._ws, self._spark, self._folder = ws, spark, folder
        self._exports = itertools.count(1)
        self._client: _ViewsOnDemand | None = None
        self._built: Path | None = None  # the export the last refresh on Spark wrote its clocks to
        self._built_client: _ViewsOnDemand | None = None  # a client over it
        self.requests = requests if requests is not None else [0]  # reads on Spark; shared with cursors

    def __getattr__(self, name: str) -> Any:
        self._client = None  # anything but a read on Spark may change the workspace: export again
        return getattr(self._ws, name)

    def __enter__(self) -> OnSpark:
        return self

    def __exit__(self, *exc: object) -> None:
        self._ws.__exit__(*exc)

    def cursor(self, *, auto_refresh: bool = True) -> OnSpark:
        """The workspace's cursor, its reads on Spark too (`auto_refresh=False`: as it stands,
        which after a refresh on Spark is that refresh's export, its clocks included)."""
        cursor = OnSpark(self._ws.cursor(auto_refresh=auto_refresh), self._spark,
                         self._folder.with_name(self._folder.name + "-cursor"), self.requests)
        if not auto_refresh:
            cursor._client, cursor._built, cursor._built_client = self._client, self._built, self._built_client
        self._client = None
        return cursor

    def metrics(self, metrics: list[str] | str, *, by: list[str] | str | None = None, grain: str | None = None,
                where: dict[str, object] | None = None, start: date | datetime | str | None = None,
                end: date | datetime | str | None = None) -> MetricTable:
        """`ws.metrics(...)`, answered by Spark from the workspace's export."""
        self.requests[0] += 1
        names = [metrics] if isinstance(metrics, str) else list(metrics)
        dims = [by] if isinstance(by, str) else list(by or [])
        check_request([registry().resolve(n) for n in names], by=dims, grain=grain, where=dict(where or {}),
                      start=start, end=end)
        missing = [n for n in names if registry().resolve(n).name in NOTIMPL]
        if missing:
            self._expect_notimpl(missing[0], dims, grain)
        with_client = self._client or self._export()
        return run_metrics(with_client, names, by=dims, grain=grain, where=where, start=start, end=end)

    def refresh_sla(self, now: str) -> int:
        """`cxmetrics.sla.refresh_sla(ws, now=now)` on Spark: the workspace's facts brought up to
        date and its tables exported as they stand, then `sla_targets` derived from the export
        on Spark, every open clock evaluated at `now` (ISO text), and written back to it
        (`_spark_clocks`; with SPARK_FACTS the whole refresh on Spark, facts and twins too).
        Returns how many tickets it recomputed: every ticket, a refresh on Spark being full.
        What it derived is read with `built`, and metric reads answer over its export."""
        from cxmetrics.engines._spark_facts import OUTPUTS, refresh_tables

        self.requests[0] += 1
        self._ws.refresh()
        # (exported as it stands: `export tables` would evaluate the workspace's clocks at the current time)
        with self._ws.cursor(auto_refresh=False) as standing:
            folder = self._export_folder(standing)
        spark = self._session(folder)
        if SPARK_FACTS:
            refresh_tables(_ViewsOnDemand(spark, folder, OUTPUTS), folder, now)
        else:
            _spark_clocks(_ViewsOnDemand(spark, folder, ("sla_targets",)), folder, now)
        self._built, self._built_client = folder, _ViewsOnDemand(spark, folder)
        self._client = self._built_client
        return int(read_manifest(folder)["rows"]["ticket_facts"])

    def built_client(self) -> SparkClient:
        """A client over the export the last refresh on Spark wrote, for the library's functions
        that take one (`cxmetrics.sla.compliance`, `breaches`: `--engine spark sla status`)."""
        if self._built_client is None:
            pytest.fail("SLA clocks are read on Spark before any refresh on Spark (OnSpark.refresh_sla)")
        self.requests[0] += 1
        return self._built_client

    def built(self, table: str) -> str:
        """`table` as the last refresh on Spark wrote it: a `read_parquet` of its files, for the
        workspace's `sql` (DuckDB only reads them: the values are Spark's)."""
        if self._built is None:
            pytest.fail(f"{table} is read on Spark before any refresh on Spark (OnSpark.refresh_sla)")
        self.requests[0] += 1
        return "read_parquet('{}')".format(str(self._built / table / "*.parquet").replace("'", "''"))

    def _export_folder(self, ws: cxmetrics.Workspace) -> Path:
        folder = self._folder.with_name(f"{self._folder.name}-{next(self._exports)}")
        export_tables(ws, folder)
        return folder

    def _session(self, folder: Path) -> Any:
        spark = self._spark.newSession()
        spark.conf.set("spark.sql.session.timeZone", read_manifest(folder)["timezone"])
        # a scenario has a few rows: one shuffle partition, and no adaptive execution, which
        # re-plans each query stage by stage (a refresh of the SLA clocks took three times as
        # long); the demo's parity tests (tests/spark) keep Spark's defaults, as a user's runs do
        spark.conf.set("spark.sql.shuffle.partitions", "1")
        spark.conf.set("spark.sql.adaptive.enabled", "false")
        return spark

    def _export(self) -> _ViewsOnDemand:
        folder = self._export_folder(self._ws)
        spark = self._session(folder)
        if SPARK_FACTS:
            from cxmetrics.engines._spark_facts import OUTPUTS, refresh_tables

            refresh_tables(_ViewsOnDemand(spark, folder, OUTPUTS), folder)
        self._client = _ViewsOnDemand(spark, folder)
        return self._client

    def _expect_notimpl(self, name: str, by: list[str], grain: str | None) -> None:
        try:
            run_metrics(self._client or self._export(), [name], by=by, grain=grain)
        except Exception:  # noqa: BLE001 - whatever Spark says, the listed reason is the point
            pytest.xfail(f"{name} does not run on Spark: it {NOTIMPL[name]} (cxmetrics.engines.NOTIMPL)")
        pytest.fail(f"{name} runs on Spark now: remove it from cxmetrics.engines.NOTIMPL")


def _spark_clocks(client: SparkClient, tables: Path, now: str) -> dict[str, int]:
    """The SLA clocks of a refresh on Spark (`_spark_facts.refresh_tables`' last step, its
    calendar and its write-back), over the facts the export holds: the workspace's. The facts
    derivation before it is a few dozen Spark steps, which a scenario that checks clocks does
    not need (SPARK_FACTS adds it)."""
    from cxmetrics.engines import _spark_business, _spark_sla
    from cxmetrics.engines._spark_facts import _as_declared, _declared_schemas, write_tables
    from cxmetrics.sla._refresh import now_literal

    schedules, policies = _spark_business.export_schedules(tables), _spark_sla.export_policies(tables)
    assert policies is not None, f"{tables} has no sla.toml: the scenario wrote no policies"
    stamp = now_literal(now)
    if _spark_business.needs_calendar(schedules):
        _spark_business.register_calendar(client, schedules, until=stamp)
    schema = _declared_schemas()["sla_targets"]
    clocks = _spark_sla.derive_sla(client, policies, schedules, stamp, schema)
    return write_tables(client, tables, {"sla_targets": _as_declared(clocks, schema)}, read_manifest(tables))
