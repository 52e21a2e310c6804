"""The refresh on Spark: `cxmetrics --engine spark --tables DIR refresh` derives
`ticket_facts`, `reply_intervals`, `contacts`, `survey_fatigue`, the business-time twins
(`ticket_facts_bh`, `reply_intervals_bh`: `_spark_business`) and, when the export ships SLA
policies, `sla_targets` (`_spark_sla`) from the exported canonical tables (events, tickets,
ticket_text, survey_sends) and writes them back to DIR as Parquet.

No fact rule is written here. Each step is the statement the workspace's full refresh runs
(`cxmetrics.facts._refresh._refresh_all`, `scoped=False`), parsed and rendered for Spark
(`to_spark`): a `CREATE TEMP TABLE x AS q` becomes a temp view of `q` (cached where later
steps read it again), an `INSERT ... BY NAME` the table's columns by name (the others NULL),
and an `UPDATE t SET c = e FROM s WHERE k` a left join of `t` to `s` on `k` that replaces `c`
where a row of `s` matched (`_update_as_select`). Only the order of the steps and the
bookkeeping are this module's.

The work partitions by ticket: every window pass is over one (ticket, stream) (`_k`, a
64-bit hash of its texts, or a struct of them should two share a hash), and every join is on
the ticket's keys, so Spark shuffles the events by ticket once per pass and each executor
derives its tickets on its own. Only fcr's repeat-contact window partitions by
(source, requester, topic), and the survey ordinals by (source, customer).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

from cxmetrics.calendar import ScheduleSet
from cxmetrics.engines._spark import MANIFEST, SparkClient, read_manifest
from cxmetrics.errors import UserError
from cxmetrics.facts import _fatigue, _sql

#: the exported tables the facts are derived from
INPUTS = ("events", "tickets", "ticket_text", "survey_sends")
#: the tables a Spark refresh writes back (docs/spark.md, "Facts on Spark"); sla_targets only
#: when the export ships SLA policies
OUTPUTS = ("ticket_facts", "reply_intervals", "contacts", "survey_fatigue", "ticket_facts_bh", "reply_intervals_bh",
           "sla_targets")
_SET = "_cx_set"  # marks the rows of an UPDATE's source that matched


def spark_refresh(tables: Path, conf: Mapping[str, str] | None = None, now: datetime | str | None = None,
                  *, sla: bool = True) -> dict[str, int]:
    """Derive the facts (and SLA clocks, evaluated at `now`: default the current time; not with
    `sla=False`, which leaves the export's `sla_targets` as they are) on Spark from the tables of
    `cxmetrics export tables` in `tables` and write them back there; returns rows per table
    written."""
    manifest = read_manifest(tables)
    missing = [t for t in INPUTS if t not in manifest["tables"]]
    if missing:
        raise UserError(f"--tables {tables} lacks {', '.join(missing)}, which the facts are derived from: "
                        f"export them again with `cxmetrics export tables {tables}`.")
    client = SparkClient.over_tables(tables, conf)
    try:
        return refresh_tables(client, tables, now, sla=sla)
    finally:
        client.close()


def refresh_tables(client: SparkClient, tables: Path, now: datetime | str | None = None, *,
                   sla: bool = True) -> dict[str, int]:
    """The full refresh on `client`'s session, over the export in `tables` (its input tables
    registered as views of their names), under the schedules and SLA policies shipped with
    it (the policies ignored with `sla=False`), written back there."""
    from cxmetrics.engines import _spark_business, _spark_sla
    from cxmetrics.sla._refresh import now_literal

    manifest = read_manifest(tables)
    client.spark.conf.set("spark.sql.session.timeZone", str(manifest["timezone"]))
    client.register_parquet(tables, list(INPUTS))
    schedules = _spark_business.export_schedules(tables)
    policies = _spark_sla.export_policies(tables) if sla else None
    stamp = now_literal(now)
    if _spark_business.needs_calendar(schedules):
        _spark_business.register_calendar(client, schedules, until=stamp if policies is not None else None)
    schemas = _declared_schemas()
    frames = derive(client, schedules)
    if policies is not None:
        frames["sla_targets"] = _spark_sla.derive_sla(client, policies, schedules, stamp, schemas["sla_targets"])
    return write_tables(client, tables, {name: _as_declared(df, schemas[name]) for name, df in frames.items()},
                        manifest)


def derive(client: SparkClient, schedules: ScheduleSet) -> dict[str, Any]:
    """The fact tables and their business-time twins under `schedules` as Spark DataFrames
    (lazy; the steps read again kept), from the input views of `client`'s session:
    `_refresh._refresh_all`'s steps in its order (the calendar registered first, unless
    every schedule is 24/7)."""
    from cxmetrics.engines._spark_business import derive_twins

    schemas = _declared_schemas()
    key = _sql.HASH_KEY
    agg = _view(client, "_fx_agg", _sql.stream_aggregates(False, key), keep=True)
    if agg.count() != agg.select("_k").distinct().count():
        # two (ticket, stream)s share a hash: their events would mix (_refresh._derive)
        key = _sql.STRUCT_KEY
        _view(client, "_fx_agg", _sql.stream_aggregates(False, key), keep=True)
    _view(client, "_fx_tk", _sql.ticket_rows(False), keep=True)  # (the fix-up reads it twice)
    # step 2b: a no-op where no reply precedes creation (the workspace's refresh skips it then)
    _view(client, "_fx_tk", _sql.early_reply_fixup(False), keep=True)
    _view(client, "_fx_new", _sql.fact_view())
    _view(client, "_fx_repeat", _sql.repeat_flags(False))
    _view(client, "_fx_open", _sql.open_tickets(False))
    facts = _view(client, "ticket_facts", _sql.insert_facts(), schema=schemas["ticket_facts"], keep=True)
    replies = _view(client, "_fx_replies", _sql.reply_intervals(False, key), keep=True)  # (the twins read it)
    contacts = _view(client, "_fx_contacts", _sql.contacts(False, key))
    fatigue = client.spark.sql(client.render(_fatigue._ordinals()))
    return {"ticket_facts": facts, "reply_intervals": replies, "contacts": contacts, "survey_fatigue": fatigue,
            **derive_twins(client, schedules, key)}


def write_tables(client: SparkClient, tables: Path, frames: Mapping[str, Any],
                 manifest: dict[str, Any]) -> dict[str, int]:
    """Each frame as Parquet in its table's folder under `tables` (written aside, then swapped
    in, so a failure leaves the export as it was), and the manifest's row counts."""
    # instants as Parquet's TIMESTAMP(MICROS, UTC), as DuckDB writes and reads them (Spark's
    # default, INT96, reads back in DuckDB as a timestamp without zone)
    client.spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    staged: dict[str, Path] = {}
    try:
        for name, df in frames.items():
            staged[name] = tables / f".{name}.spark"
            df.write.mode("overwrite").parquet(str(staged[name]))
        counts = {name: client.spark.read.parquet(str(path)).count() for name, path in staged.items()}
    except BaseException:
        for path in staged.values():
            shutil.rmtree(path, ignore_errors=True)
        raise
    for name, path in staged.items():
        old = tables / f".{name}.old"
        shutil.rmtree(old, ignore_errors=True)
        if (tables / name).exists():
            os.replace(tables / name, old)
        os.replace(path, tables / name)
        shutil.rmtree(old, ignore_errors=True)
    manifest = {**manifest, "tables": sorted({*manifest["tables"], *counts}),
                "rows": {**manifest.get("rows", {}), **counts},
                "facts": {"engine": "spark", "tables": sorted(counts),
                          "refreshed_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}}
    (tables / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    client.register_parquet(tables, sorted(counts))  # the views read the new files
    return counts


def _view(client: SparkClient, name: str, statement: str, *, keep: bool = False,
          schema: list[tuple[str, str]] | None = None) -> Any:
    """The statement's result as temp view `name`; `keep`: computed now and kept (a local
    checkpoint), for a step that later ones read more than once: its plan is then a scan of
    the kept rows, not the steps before (an UPDATE reads its table twice, so plans of
    updates on updates would double each time)."""
    tree = sqlglot.parse_one(statement, read="duckdb")
    if isinstance(tree, exp.Update):
        query = _update_as_select(tree)
    elif isinstance(tree, (exp.Create, exp.Insert)):
        query = tree.expression.sql(dialect="duckdb")
    else:
        raise TypeError(f"cannot run a {type(tree).__name__} on Spark: {statement[:80]}")
    df = client.spark.sql(client.render(query))
    if schema is not None:  # INSERT BY NAME: the table's columns, those not selected NULL
        df = _by_name(client, df, schema)
    if keep:
        df = df.localCheckpoint(eager=True)
    df.createOrReplaceTempView(name)
    return df


def _update_as_select(update: exp.Update) -> str:
    """`UPDATE t AS a SET c = e, ... FROM s AS b[, u AS d ...] WHERE k` as a query (DuckDB
    dialect): every row of t, its c replaced by e where a row of the FROM matched k."""
    target = update.this
    alias = target.alias_or_name
    source = update.args["from_"].this
    inner = source.this.copy() if isinstance(source, exp.Subquery) else exp.select("*").from_(exp.table_(source.name))
    marked = exp.select("*", exp.alias_(exp.true(), _SET)).from_(inner.subquery("_s")).subquery(source.alias)
    others = [j.copy() for j in source.args.get("joins") or []]
    for join in others:
        join.set("kind", "CROSS")
    if others:  # FROM s AS b, u AS d: the left join is to (b CROSS JOIN d ...)
        marked.set("joins", others)
        marked = exp.Subquery(this=marked)
    sets = [(eq.this.name, eq.expression) for eq in update.expressions]
    replaced = [exp.alias_(exp.Case(ifs=[exp.If(this=exp.column(_SET, table=source.alias), true=value.copy())],
                                    default=exp.column(col, table=alias)), col) for col, value in sets]
    star = exp.Star(except_=[exp.column(col) for col, _ in sets])
    query = (exp.select(exp.Column(this=star, table=exp.to_identifier(alias)), *replaced)
             .from_(exp.table_(target.name, alias=alias))
             .join(marked, on=update.args["where"].this.copy(), join_type="left"))
    return query.sql(dialect="duckdb")


def _declared_schemas() -> dict[str, list[tuple[str, str]]]:
    """Each output table's columns and DuckDB types, as the workspace's schema declares them
    (an in-memory database migrated: the one source of the DDL)."""
    from cxmetrics.store._migrations import migrate

    con = duckdb.connect()
    try:
        migrate(con)
        return {t: [(r[0], r[1]) for r in con.execute(f"DESCRIBE {t}").fetchall()] for t in OUTPUTS}
    finally:
        con.close()


def _spark_type(duckdb_type: str) -> str:
    return exp.DataType.build(duckdb_type, dialect="duckdb").sql(dialect="spark")


def _by_name(client: SparkClient, df: Any, schema: list[tuple[str, str]]) -> Any:
    """`df`'s columns in the table's order by name, a column it lacks NULL (INSERT BY NAME)."""
    have = set(df.columns)
    cols = [f"`{c}`" if c in have else f"CAST(NULL AS {_spark_type(t)}) AS `{c}`" for c, t in schema]
    return df.selectExpr(*cols)


def _as_declared(df: Any, schema: list[tuple[str, str]]) -> Any:
    """`df` as the table's declared columns and types (Spark's counts are BIGINT where a column
    is INTEGER...), so the Parquet files read back as the DuckDB-built ones do."""
    missing = [c for c, _ in schema if c not in df.columns]
    if missing:
        raise RuntimeError(f"the Spark derivation lacks the columns {missing}")  # a bug, not the user's
    return df.selectExpr(*(f"CAST(`{c}` AS {_spark_type(t)}) AS `{c}`" for c, t in schema))
