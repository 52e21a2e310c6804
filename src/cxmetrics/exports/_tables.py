"""`cxmetrics export tables DIR`: the canonical tables and the facts the metrics read, as
Parquet, one folder per table (DIR/ticket_facts/part-0.parquet ...), with a manifest
(`_cxmetrics.json`: the workspace's time zone and the tables) that a run on another engine
reads (`cxmetrics --engine spark --tables DIR metrics ...`, docs/spark.md).

Which tables: every canonical table (cxmetrics.model) and every table the metric layer's SQL
reads (its sources and custom builders, found by parsing that SQL), so a new source's table
is exported without a list to keep in step. Facts are brought up to date first (and the SLA
clocks, when the workspace has policies), as a metric request would: a cursor opened with
`auto_refresh=False` is exported as it stands, as its metric requests read it.

The workspace's configuration files are copied into DIR/_config as they are: the business hours
and SLA policies (`schedules.toml`, `sla.toml`), from which a refresh on Spark derives the
business-time twins and the SLA clocks (cxmetrics.engines._spark_business: why the definitions
travel rather than the materialised calendar), and the dashboard's targets (`targets.toml`), which
`import tables` carries into the workspace that serves the export.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp

from cxmetrics.calendar import SCHEDULES_FILE
from cxmetrics.engines._spark import CONFIG, MANIFEST  # (what a Spark run reads first)
from cxmetrics.errors import UserError
from cxmetrics.sla._policy import POLICY_FILE

if TYPE_CHECKING:
    from cxmetrics._workspace import Workspace

#: the workspace's configuration files an export copies into its CONFIG folder: the definitions
#: the facts were computed under (business hours, SLA policies), which a refresh on Spark reads,
#: and the dashboard's targets, for `import tables`
CONFIG_FILES = (SCHEDULES_FILE, POLICY_FILE, "targets.toml")

# requests a custom builder is asked for, to see every table its SQL can read
_PROBES: tuple[tuple[tuple[str, ...], str | None], ...] = ((("channel",), "week"), ((), "week"), ((), "month"),
                                                          ((), None), (("segment",), "month"))


def _tables_in(sql: str) -> set[str]:
    """The tables a query reads (not its CTEs, not table functions)."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {c.alias for c in tree.find_all(exp.CTE)}
    return {t.name for t in tree.find_all(exp.Table) if isinstance(t.this, exp.Identifier) and t.name not in ctes}


@cache
def metric_tables() -> tuple[str, ...]:
    """Every table the metric layer reads, and every canonical table, sorted."""
    from cxmetrics.errors import CxError
    from cxmetrics.metrics._custom import _builder
    from cxmetrics.metrics._registry import registry
    from cxmetrics.metrics._sources import SOURCES
    from cxmetrics.metrics._spec import Kind
    from cxmetrics.model import TABLES

    names = set(TABLES)
    for source in SOURCES.values():
        for sql in (source.sql, source.lean_sql, source.bare_sql):
            if sql:
                names |= _tables_in(sql)
    reg = registry()
    for name in reg.names():
        ref = reg.resolve(name)
        if ref.spec.kind is not Kind.CUSTOM:
            continue
        for by, grain in _PROBES:
            try:
                names |= _tables_in(_builder(ref)(ref, list(by), grain, {}, None, None))
            except CxError:  # a request this builder refuses (a grain it has not, a dimension)
                continue
    return tuple(sorted(names))


def export_tables(ws: Workspace, folder: Path) -> dict[str, int]:
    """Write the tables the metrics read as Parquet under `folder` (created if missing; each
    table's folder replaced as a whole), then the manifest; returns rows per table."""
    from cxmetrics.sla import refresh_sla

    if folder.exists() and not folder.is_dir():
        raise UserError(f"'{folder}' is a file: give a folder to write the tables into.")
    if ws.auto_refresh:
        ws.refresh()
        if (ws.path / "sla.toml").exists():
            refresh_sla(ws)
    # (events and surveys are views: the rows given and those flat tickets imply, all exported)
    present = {r[0] for r in ws.con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_type IN ('BASE TABLE', 'VIEW')").fetchall()}
    folder.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name in metric_tables():
        if name not in present:
            continue
        tmp = folder / f".{name}.part"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        target = str(tmp / "part-0.parquet").replace("'", "''")
        ws.con.execute(f'COPY (SELECT * FROM "{name}") TO \'{target}\' (FORMAT parquet, COMPRESSION zstd)')
        counts[name] = int(ws.con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0])
        shutil.rmtree(folder / name, ignore_errors=True)
        os.replace(tmp, folder / name)
    # copied, or an older export's copies removed: the export is the workspace's now
    shutil.rmtree(folder / CONFIG, ignore_errors=True)
    config = []
    for name in CONFIG_FILES:
        if (ws.path / name).is_file():
            (folder / CONFIG).mkdir(exist_ok=True)
            shutil.copyfile(ws.path / name, folder / CONFIG / name)
            config.append(name)
    manifest = {"format": "parquet", "timezone": ws.settings.timezone, "tables": sorted(counts),
                "rows": counts, "config": config,
                "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return counts
