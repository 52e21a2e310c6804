"""Metric benchmark: the headline suite by channel x week over a year of demo data.

    .venv/bin/python bench/metrics_bench.py [--tickets 1000000] [--workspace DIR] [--runs a,b,...]

The suite is the ~25 headline metrics (CSAT, DSAT, CSAT mean, NPS, CES, FRT median/mean/
p90, first touch, unanswered, first and full resolution, reopens, one touch, FCR, agent
touches, ASA, AHT, service level, abandonment, bot resolution and hand-off, tickets,
requester wait, next reply time), asked for `by=["channel"], grain="week"`. Each
implementation runs in its own subprocess, which prints its wall time and its own peak
RSS (`ru_maxrss`):

  cx_events      cxmetrics end to end: `ws.refresh(full=True)` + `ws.metrics(suite, ...)`;
                 then, in the same process, the lower bound of any refresh (facts_bench.py's
                 `LOWER_BOUND_SQL`: one scan that sorts the events by ticket and time and
                 computes a window over them into a per-ticket table), so refresh / lower
                 bound says how far the facts refresh is from the engine's limit (the bound
                 runs after the refresh has read the events: warm, the strictest bound)
  cx_facts       cxmetrics with the facts fresh: `ws.metrics(suite, ...)` (also times each
                 compiled query alone, the SQL `--explain` shows)
  sql_facts      hand-written DuckDB SQL over ticket_facts / surveys / reply_intervals on the
                 workspace's connection and settings: the engine's ceiling
  polars_facts   Polars over ticket_facts / surveys / reply_intervals read from the store
  pandas_facts   pandas over the same (tests/metrics/reference_pandas.py, `Rowsets.from_facts`)
  pandas_events  pandas from the raw tables (tickets, events, surveys): the reference
                 implementation of tests/metrics/test_reference_pandas.py, end to end

The pandas and Polars runs include reading their columns out of the store (Arrow), as a
user of those libraries would; their load and compute times are reported apart too.
Every run's result (metric, channel, period, value, n) is written to Parquet and compared
with cx_facts; the runs other than cxmetrics follow the reference's definitions (see
reference_pandas.py), so they differ from the engine where the engine departs from
METRICS.md (the xfails of test_reference_pandas.py).

Ratios: pandas / cxmetrics (end to end from events, and from facts), Polars / cxmetrics
(from facts), cxmetrics / hand-written SQL (from facts). Aims: cxmetrics >= 5x faster than
pandas end to end, faster than Polars, within 1.5x of hand-written SQL.

Polars is not a dependency of cxmetrics (nor of its test extra): `pip install polars`
into the venv to run polars_facts (it is skipped otherwise). JSON goes to bench/out/.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "metrics"))
sys.path.insert(0, str(HERE))

from facts_bench import lower_bound_s  # noqa: E402

SUITE = [
    "csat", "dsat", "csat_mean", "nps", "ces", "frt", "frt_mean", "frt_p90", "frt_first_touch", "unanswered",
    "first_resolution_time", "full_resolution_time", "reopen_rate", "one_touch", "fcr", "agent_touches", "asa",
    "aht", "service_level", "abandonment_rate", "bot_resolution_rate", "bot_handoff_rate", "tickets",
    "requester_wait", "next_reply_time",
]
BY = ["channel"]
GRAIN = "week"
RUNS = ("cx_events", "cx_facts", "sql_facts", "polars_facts", "pandas_facts", "pandas_events")

FACT_COLUMNS = [
    "source", "ticket_id", "excluded", "channel", "created_by", "created_at", "last_solved_at",
    "solved", "frt_s", "frt_first_touch_s", "unanswered", "first_resolution_s", "full_resolution_s", "reopens",
    "public_agent_replies", "fcr", "bot_involved",
    "bot_contained", "handed_off", "requester_wait_s",
]
CONTACT_SELECT = ("source, ticket_id, kind, contact_at, offered_at, answered_at, abandoned, wait_s, short_abandon, "
                  "handle_s")
SURVEY_COLUMNS = ["source", "ticket_id", "kind", "scale", "scale_min", "scale_max", "score", "sent_at",
                  "responded_at"]
EVENT_COLUMNS = ["source", "ticket_id", "event_id", "ts", "kind", "actor_type", "actor_id", "public", "status_from", "status_to",
                 "duration_s", "origin"]
TICKET_COLUMNS = ["source", "ticket_id", "created_at", "channel", "requester_id", "topic", "created_by", "status",
                  "reopens_reported", "replies_reported", "handle_s_reported"]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _open(path: str):  # noqa: ANN202
    import cxmetrics

    return cxmetrics.open(path)


def _tidy_engine(table: Any) -> Any:
    """The engine's answer as (metric, channel, period, value, n), empty groups dropped."""
    import pyarrow.compute as pc

    t = table.select(["metric", "channel", "period", "value", "n"])
    return t.filter(pc.greater(t["n"], 0))


# -- children ---------------------------------------------------------------------------


def child_cx_events(path: str, repeat: int) -> dict[str, Any]:
    with _open(path) as ws:
        t0 = time.perf_counter()
        refreshed = ws.refresh(full=True)
        t1 = time.perf_counter()
        table = ws.metrics(SUITE, by=BY, grain=GRAIN)
        t2 = time.perf_counter()
        bound = lower_bound_s(ws.con)
    return {"seconds": t2 - t0, "refresh_s": t1 - t0, "metrics_s": t2 - t1, "tickets_refreshed": refreshed,
            "lower_bound_s": bound, "refresh_over_lower_bound": (t1 - t0) / bound,
            "result": _tidy_engine(table.table)}


def child_cx_facts(path: str, repeat: int) -> dict[str, Any]:
    with _open(path) as ws:
        times, table = [], None
        for _ in range(repeat):
            t0 = time.perf_counter()
            table = ws.metrics(SUITE, by=BY, grain=GRAIN)
            times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ws.refresh()
        noop = time.perf_counter() - t0
        # where the time goes: each compiled query alone (the SQL `--explain` shows)
        queries = []
        for sql in ws.metrics(SUITE, by=BY, grain=GRAIN, explain=True).sql:
            t0 = time.perf_counter()
            rows = ws.con.sql(sql).to_arrow_table().num_rows
            queries.append({"seconds": time.perf_counter() - t0, "rows": rows, "sql": sql})
    return {"seconds": min(times), "runs": times, "noop_refresh_s": noop, "queries": queries,
            "result": _tidy_engine(table.table)}


# the hand-written SQL: one query per (row set, timestamp), FILTER aggregates, one pass each
_PERIOD = "strftime(date_trunc('week', {t}), '%Y-%m-%d')"
_TOP = """CASE scale WHEN '1-5' THEN score >= 4 WHEN '1-10' THEN score >= 8 WHEN 'good/bad' THEN score = 1
          ELSE score >= scale_min + 0.75 * (scale_max - scale_min) END"""
_BOTTOM = """CASE scale WHEN '1-5' THEN score <= 2 WHEN '1-10' THEN score <= 5 WHEN 'good/bad' THEN score = 0
             ELSE score <= scale_min + 0.25 * (scale_max - scale_min) END"""
HAND_SQL = {
    "tickets_created": f"""
        SELECT channel, {_PERIOD.format(t='created_at')} AS period,
            count(*) AS tickets__n,
            count(*) FILTER (unanswered AND NOT solved) AS unanswered__n,
            count(frt_s) FILTER (created_by = 'customer') AS frt__n,
            median(frt_s) FILTER (created_by = 'customer') AS frt__value,
            count(frt_s) FILTER (created_by = 'customer') AS frt_mean__n,
            avg(frt_s) FILTER (created_by = 'customer') AS frt_mean__value,
            count(frt_s) FILTER (created_by = 'customer') AS frt_p90__n,
            quantile_cont(frt_s, 0.9) FILTER (created_by = 'customer') AS frt_p90__value,
            count(frt_first_touch_s) FILTER (created_by = 'customer') AS frt_first_touch__n,
            median(frt_first_touch_s) FILTER (created_by = 'customer') AS frt_first_touch__value,
            count(*) FILTER (bot_involved) AS bot_resolution_rate__n,
            count(*) FILTER (bot_involved AND bot_contained) AS bot_resolution_rate__k,
            count(*) FILTER (bot_involved) AS bot_handoff_rate__n,
            count(*) FILTER (bot_involved AND handed_off) AS bot_handoff_rate__k
        FROM ticket_facts WHERE NOT excluded AND created_at IS NOT NULL
        GROUP BY ALL""",
    "tickets_solved": f"""
        SELECT channel, {_PERIOD.format(t='last_solved_at')} AS period,
            count(first_resolution_s) AS first_resolution_time__n,
            median(first_resolution_s) AS first_resolution_time__value,
            count(*) FILTER (solved) AS full_resolution_time__n,
            median(full_resolution_s) FILTER (solved) AS full_resolution_time__value,
            count(*) FILTER (solved) AS reopen_rate__n,
            count(*) FILTER (solved AND reopens > 0) AS reopen_rate__k,
            count(*) FILTER (solved) AS one_touch__n,
            count(*) FILTER (solved AND public_agent_replies = 1) AS one_touch__k,
            count(*) FILTER (solved) AS fcr__n,
            count(*) FILTER (solved AND fcr) AS fcr__k,
            count(*) FILTER (solved) AS agent_touches__n,
            avg(public_agent_replies) FILTER (solved) AS agent_touches__value,
            count(*) FILTER (solved) AS requester_wait__n,
            median(requester_wait_s) FILTER (solved) AS requester_wait__value
        FROM ticket_facts WHERE NOT excluded AND last_solved_at IS NOT NULL
        GROUP BY ALL""",
    "contacts_handled": f"""
        SELECT f.channel, {_PERIOD.format(t='c.contact_at')} AS period,
            count(*) AS aht__n,
            avg(c.handle_s) AS aht__value
        FROM contacts c JOIN ticket_facts f ON f.source = c.source AND f.ticket_id = c.ticket_id
        WHERE NOT f.excluded AND c.contact_at IS NOT NULL AND c.handle_s > 0
        GROUP BY ALL""",
    "contacts_offered": f"""
        SELECT f.channel, {_PERIOD.format(t='c.offered_at')} AS period,
            count(*) FILTER (c.kind = 'call' AND c.answered_at IS NOT NULL) AS asa__n,
            avg(c.wait_s) FILTER (c.kind = 'call' AND c.answered_at IS NOT NULL) AS asa__value,
            count(*) FILTER (settled) AS service_level__n,
            count(*) FILTER (settled AND c.answered_at IS NOT NULL AND c.wait_s <= 20) AS service_level__k,
            count(*) FILTER (settled) AS abandonment_rate__n,
            count(*) FILTER (settled AND c.abandoned) AS abandonment_rate__k
        FROM (SELECT *, (answered_at IS NOT NULL OR abandoned) AND NOT short_abandon AS settled FROM contacts) c
        JOIN ticket_facts f ON f.source = c.source AND f.ticket_id = c.ticket_id
        WHERE NOT f.excluded AND c.offered_at IS NOT NULL
        GROUP BY ALL""",
    "surveys": f"""
        SELECT f.channel, {_PERIOD.format(t='coalesce(s.responded_at, s.sent_at)')} AS period,
            count(*) FILTER (kind = 'csat') AS csat__n,
            count(*) FILTER (kind = 'csat' AND {_TOP}) AS csat__k,
            count(*) FILTER (kind = 'csat') AS dsat__n,
            count(*) FILTER (kind = 'csat' AND {_BOTTOM}) AS dsat__k,
            count(*) FILTER (kind = 'csat') AS csat_mean__n,
            avg(1 + 4 * (score - scale_min) / (scale_max - scale_min)) FILTER (kind = 'csat') AS csat_mean__value,
            count(*) FILTER (kind = 'nps') AS nps__n,
            count(*) FILTER (kind = 'nps' AND score >= 9) AS nps__p,
            count(*) FILTER (kind = 'nps' AND score <= 6) AS nps__d,
            count(*) FILTER (kind = 'ces') AS ces__n,
            avg(1 + 6 * (score - scale_min) / (scale_max - scale_min)) FILTER (kind = 'ces') AS ces__value
        FROM surveys s LEFT JOIN ticket_facts f ON f.source = s.source AND f.ticket_id = s.ticket_id
        WHERE f.excluded IS NOT TRUE AND s.score IS NOT NULL
        GROUP BY ALL""",
    "replies": f"""
        SELECT f.channel, {_PERIOD.format(t='r.replied_at')} AS period,
            count(*) AS next_reply_time__n,
            median(r.seconds) AS next_reply_time__value
        FROM reply_intervals r JOIN ticket_facts f ON f.source = r.source AND f.ticket_id = r.ticket_id
        WHERE NOT f.excluded AND r.seq > 1 AND r.replied_at IS NOT NULL
        GROUP BY ALL""",
}


def _wide_to_tidy(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of `metric__n`, `metric__value` / `__k` / `__p` + `__d` columns -> tidy rows."""
    out = []
    for row in records:
        metrics = {c.split("__")[0] for c in row if "__" in c}
        for m in metrics:
            n = int(row[f"{m}__n"] or 0)
            if not n:
                continue
            if f"{m}__k" in row:
                value = 100.0 * row[f"{m}__k"] / n
            elif f"{m}__p" in row:
                value = 100.0 * (row[f"{m}__p"] - row[f"{m}__d"]) / n
            elif f"{m}__value" in row:
                value = row[f"{m}__value"]
            else:
                value = float(n)
            out.append({"metric": m, "channel": row["channel"], "period": row["period"], "value": value, "n": n})
    return out


def child_sql_facts(path: str, repeat: int) -> dict[str, Any]:
    import pyarrow as pa

    with _open(path) as ws:
        times, per_query = [], {}
        for _ in range(repeat):
            t0 = time.perf_counter()
            records = []
            for name, sql in HAND_SQL.items():
                q0 = time.perf_counter()
                records += ws.con.sql(sql).to_arrow_table().to_pylist()
                per_query[name] = min(per_query.get(name, math.inf), time.perf_counter() - q0)
            tidy = _wide_to_tidy(records)
            times.append(time.perf_counter() - t0)
    return {"seconds": min(times), "runs": times, "queries": per_query, "result": pa.Table.from_pylist(tidy)}


def _read(ws: Any, table: str, columns: list[str]) -> Any:
    """Columns of a stored table as Arrow (what pandas and Polars start from)."""
    return ws.sql(f"SELECT {', '.join(columns)} FROM {table}")


def child_pandas_facts(path: str, repeat: int) -> dict[str, Any]:
    import pyarrow as pa
    import reference_pandas as ref

    with _open(path) as ws:
        tz = ws.settings.timezone
        times, loads = [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            facts = _read(ws, "ticket_facts", FACT_COLUMNS).to_pandas()
            replies = ws.sql("SELECT source, ticket_id, seq, replied_at, seconds FROM reply_intervals").to_pandas()
            surveys = _read(ws, "surveys", SURVEY_COLUMNS).to_pandas()
            contacts = ws.sql(f"SELECT {CONTACT_SELECT} FROM contacts").to_pandas()
            t1 = time.perf_counter()
            rows = ref.Rowsets.from_facts(facts, replies, surveys, contacts)
            result = ref.compute(rows, SUITE, by=BY, grain=GRAIN, tz=tz)
            times.append(time.perf_counter() - t0)
            loads.append(t1 - t0)
            del facts, replies, surveys, contacts, rows
    result = result.loc[result["n"] > 0, ["metric", "channel", "period", "value", "n"]]
    return {"seconds": min(times), "runs": times, "load_s": min(loads),
            "result": pa.Table.from_pandas(result, preserve_index=False)}


def child_pandas_events(path: str, repeat: int) -> dict[str, Any]:
    import pyarrow as pa
    import reference_pandas as ref

    with _open(path) as ws:
        tz = ws.settings.timezone
        t0 = time.perf_counter()
        tickets = _read(ws, "tickets", TICKET_COLUMNS).to_pandas()
        events = _read(ws, "events", EVENT_COLUMNS).to_pandas()
        surveys = _read(ws, "surveys", SURVEY_COLUMNS).to_pandas()
        t1 = time.perf_counter()
        rows = ref.Rowsets.from_raw(tickets, events, surveys)
        t2 = time.perf_counter()
        result = ref.compute(rows, SUITE, by=BY, grain=GRAIN, tz=tz)
        t3 = time.perf_counter()
    result = result.loc[result["n"] > 0, ["metric", "channel", "period", "value", "n"]]
    return {"seconds": t3 - t0, "load_s": t1 - t0, "derive_s": t2 - t1, "metrics_s": t3 - t2,
            "events": len(events), "result": pa.Table.from_pandas(result, preserve_index=False)}


def polars_suite(facts: Any, replies: Any, surveys: Any, contacts: Any, tz: str) -> Any:
    """The suite in Polars from the facts (the reference's definitions)."""
    import polars as pl

    col, lit = pl.col, pl.lit

    def flag(name: str) -> pl.Expr:
        return col(name).fill_null(False)

    def period(t: str) -> pl.Expr:
        return col(t).dt.convert_time_zone(tz).dt.truncate("1w").dt.strftime("%Y-%m-%d").alias("period")

    links = facts.select("source", "ticket_id", "channel", "excluded")
    facts = facts.filter(~col("excluded"))
    customer = col("created_by") == "customer"
    solved = flag("solved")
    offered = (col("answered_at").is_not_null() | flag("abandoned")) & ~flag("short_abandon")
    scale, score, lo, hi = col("scale"), col("score"), col("scale_min"), col("scale_max")
    top = (pl.when(scale == "1-5").then(score >= 4).when(scale == "1-10").then(score >= 8)
           .when(scale == "good/bad").then(score == 1).otherwise(score >= lo + 0.75 * (hi - lo)))
    bottom = (pl.when(scale == "1-5").then(score <= 2).when(scale == "1-10").then(score <= 5)
              .when(scale == "good/bad").then(score == 0).otherwise(score <= lo + 0.25 * (hi - lo)))

    def count(name: str, where: pl.Expr) -> list[pl.Expr]:
        return [where.fill_null(False).sum().alias(f"{name}__n")]

    def prop(name: str, where: pl.Expr, num: pl.Expr) -> list[pl.Expr]:
        w = where.fill_null(False)
        return [w.sum().alias(f"{name}__n"), (w & num.fill_null(False)).sum().alias(f"{name}__k")]

    def mean(name: str, where: pl.Expr, x: pl.Expr) -> list[pl.Expr]:
        w = where.fill_null(False)
        return [w.sum().alias(f"{name}__n"), x.filter(w).mean().alias(f"{name}__value")]

    def dur(name: str, where: pl.Expr, x: str, stat: str = "median") -> list[pl.Expr]:
        w = where.fill_null(False) & col(x).is_not_null()
        v = col(x).filter(w)
        agg = {"median": v.median(), "mean": v.mean(), "p90": v.quantile(0.9, interpolation="linear")}[stat]
        return [w.sum().alias(f"{name}__n"), agg.alias(f"{name}__value")]

    groups = {
        ("tickets", "created_at"): [
            pl.len().alias("tickets__n"), *count("unanswered", flag("unanswered") & ~flag("solved")),
            *dur("frt", customer, "frt_s"), *dur("frt_mean", customer, "frt_s", "mean"),
            *dur("frt_p90", customer, "frt_s", "p90"), *dur("frt_first_touch", customer, "frt_first_touch_s"),
            *prop("bot_resolution_rate", flag("bot_involved"), flag("bot_contained")),
            *prop("bot_handoff_rate", flag("bot_involved"), flag("handed_off")),
        ],
        ("tickets", "last_solved_at"): [
            *dur("first_resolution_time", lit(True), "first_resolution_s"),
            *dur("full_resolution_time", solved, "full_resolution_s"),
            *prop("reopen_rate", solved, col("reopens") > 0), *prop("one_touch", solved, col("public_agent_replies") == 1),
            *prop("fcr", solved, flag("fcr")), *mean("agent_touches", solved, col("public_agent_replies")),
            *dur("requester_wait", solved, "requester_wait_s"),
        ],
        ("contacts", "contact_at"): [*dur("aht", col("handle_s") > 0, "handle_s", "mean")],
        ("contacts", "offered_at"): [
            *dur("asa", (col("kind") == "call") & col("answered_at").is_not_null(), "wait_s", "mean"),
            *prop("service_level", offered, col("answered_at").is_not_null() & (col("wait_s") <= 20)),
            *prop("abandonment_rate", offered, flag("abandoned")),
        ],
        ("surveys", "answered_at"): [
            *prop("csat", col("kind") == "csat", top), *prop("dsat", col("kind") == "csat", bottom),
            *mean("csat_mean", col("kind") == "csat", 1 + 4 * (score - lo) / (hi - lo)),
            (col("kind") == "nps").sum().alias("nps__n"), ((col("kind") == "nps") & (score >= 9)).sum().alias("nps__p"),
            ((col("kind") == "nps") & (score <= 6)).sum().alias("nps__d"),
            *mean("ces", col("kind") == "ces", 1 + 6 * (score - lo) / (hi - lo)),
        ],
        ("replies", "replied_at"): [*dur("next_reply_time", lit(True), "seconds")],
    }
    frames = {
        "tickets": facts,
        # survey answers with their ticket's channel; those about excluded tickets go
        "surveys": (surveys.filter(col("score").is_not_null())
                    .join(links, on=["source", "ticket_id"], how="left")
                    .filter(~flag("excluded"))
                    .with_columns(pl.coalesce("responded_at", "sent_at").alias("answered_at"))),
        "contacts": contacts.join(facts.select("source", "ticket_id", "channel"), on=["source", "ticket_id"],
                                  how="inner"),
        "replies": replies.filter(col("seq") > 1).join(facts.select("source", "ticket_id", "channel"),
                                                       on=["source", "ticket_id"], how="inner"),
    }
    out = []
    for (rows, t), aggs in groups.items():
        frame = frames[rows].filter(col(t).is_not_null()).with_columns(period(t))
        out.extend(frame.group_by("channel", "period").agg(aggs).to_dicts())
    return _wide_to_tidy(out)


def child_polars_facts(path: str, repeat: int) -> dict[str, Any]:
    import polars as pl
    import pyarrow as pa

    with _open(path) as ws:
        tz = ws.settings.timezone
        times, loads = [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            facts = pl.from_arrow(_read(ws, "ticket_facts", FACT_COLUMNS))
            replies = pl.from_arrow(ws.sql("SELECT source, ticket_id, seq, replied_at, seconds FROM reply_intervals"))
            surveys = pl.from_arrow(_read(ws, "surveys", SURVEY_COLUMNS))
            contacts = pl.from_arrow(ws.sql(f"SELECT {CONTACT_SELECT} FROM contacts"))
            t1 = time.perf_counter()
            tidy = polars_suite(facts, replies, surveys, contacts, tz)
            times.append(time.perf_counter() - t0)
            loads.append(t1 - t0)
            del facts, replies, surveys, contacts
    return {"seconds": min(times), "runs": times, "load_s": min(loads), "result": pa.Table.from_pylist(tidy)}


CHILDREN = {
    "cx_events": child_cx_events, "cx_facts": child_cx_facts, "sql_facts": child_sql_facts,
    "polars_facts": child_polars_facts, "pandas_facts": child_pandas_facts, "pandas_events": child_pandas_events,
}


def run_child_main(name: str, path: str, out: Path, repeat: int) -> None:
    import pyarrow.parquet as pq

    report = CHILDREN[name](path, repeat)
    pq.write_table(report.pop("result"), out)
    report["peak_rss_mb"] = peak_mb()
    print(json.dumps(report))


# -- parent ----------------------------------------------------------------------------


def run_child(name: str, path: str, out: Path, repeat: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", name, "--workspace", path, "--result", str(out), "--repeat",
           str(repeat)]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": f"exit {proc.returncode}: " + " | ".join(tail), "wall_s": time.perf_counter() - started}
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    report["process_wall_s"] = time.perf_counter() - started
    return report


def compare(a: Path, b: Path) -> dict[str, Any]:
    """Rows of b against a (cx_facts): which metrics differ in n or value (rel 1e-6)."""
    import pyarrow.parquet as pq

    def rows(p: Path) -> dict[tuple, tuple]:
        # (periods as text: a run may give dates, another their ISO text)
        return {(r["metric"], r["channel"], str(r["period"])[:10]): (r["value"], r["n"])
                for r in pq.read_table(p).to_pylist() if r["n"]}

    x, y = rows(a), rows(b)
    differ: dict[str, int] = {}
    for key in x.keys() | y.keys():
        u, v = x.get(key), y.get(key)
        same = (u is not None and v is not None and u[1] == v[1]
                and (u[0] == v[0] or (u[0] is not None and v[0] is not None
                                      and math.isclose(u[0], v[0], rel_tol=1e-6, abs_tol=1e-9))))
        if not same:
            differ[key[0]] = differ.get(key[0], 0) + 1
    return {"rows": len(y), "metrics_differing": dict(sorted(differ.items()))}


# peak RSS of pandas_events per ticket, measured at 1M tickets (8.2 GB); it is skipped when
# that would not fit in the memory available (at 10M tickets it needs ~80 GB)
PANDAS_EVENTS_BYTES_PER_TICKET = 8_600


def available_bytes() -> int:
    with open("/proc/meminfo") as f:
        info = dict(line.split(":", 1) for line in f)
    return int(info["MemAvailable"].split()[0]) * 1024


def make_workspace(tickets: int, seed: int) -> str:
    path = tempfile.mkdtemp(prefix=f"metrics-bench-{tickets}-")
    from _data import build_demo

    started = time.perf_counter()
    build_demo(Path(path), tickets, seed)
    print(f"generated {tickets:,} demo tickets into {path} in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def _fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workspace", help="reuse this workspace (a demo of --tickets tickets) instead of generating")
    parser.add_argument("--runs", default=",".join(RUNS), help=f"which runs, in order (default: all of {RUNS})")
    parser.add_argument("--repeat", type=int, default=2, help="repetitions inside each facts-level child (best kept)")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--force", action="store_true", help="run pandas_events even if it looks too big")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child_main(args.child, args.workspace, args.result, args.repeat)
        return

    if args.workspace and not (Path(args.workspace) / "cxmetrics.duckdb").exists():
        parser.error(f"{args.workspace} holds no workspace; leave out --workspace to generate one")
    path = args.workspace or make_workspace(args.tickets, args.seed)
    import cxmetrics

    with cxmetrics.open(path) as ws:
        ws.refresh()  # the facts-level runs start from fresh facts
        counts = ws.counts()
        settings = {"memory_limit": ws.settings.memory_limit, "threads": ws.settings.threads,
                    "timezone": ws.settings.timezone}
    print(f"workspace {path}: {counts['tickets']:,} tickets, {counts['events']:,} events, "
          f"{counts['surveys']:,} survey answers; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus",
          flush=True)
    load_before = os.getloadavg()
    runs = [r for r in args.runs.split(",") if r]
    reports: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in runs:
            if name == "polars_facts":
                try:
                    import polars  # noqa: F401
                except ImportError:
                    reports[name] = {"error": "skipped: polars is not installed (pip install polars)"}
                    continue
            need = counts["tickets"] * PANDAS_EVENTS_BYTES_PER_TICKET
            if name == "pandas_events" and need > 0.9 * available_bytes() and not args.force:
                reports[name] = {"error": f"skipped: needs ~{need / 2**30:.0f} GB, "
                                          f"{available_bytes() / 2**30:.0f} GB available (--force runs it)"}
                print(f"  {name:<14} {reports[name]['error']}", flush=True)
                continue
            result = Path(tmp) / f"{name}.parquet"
            reports[name] = run_child(name, path, result, 1 if name in ("cx_events", "pandas_events") else args.repeat)
            if "error" not in reports[name]:
                reports[name]["result_file"] = str(result)
            r = reports[name]
            print(f"  {name:<14} {_fmt(r.get('seconds')):>8} s  peak {_fmt(r.get('peak_rss_mb'), 0):>6} MB"
                  + (f"  ERROR {r['error']}" if "error" in r else ""), flush=True)
        base = reports.get("cx_facts", {}).get("result_file")
        for name, r in reports.items():
            if base and "result_file" in r and name != "cx_facts":
                r["agreement_with_cx_facts"] = compare(Path(base), Path(r.pop("result_file")))
            r.pop("result_file", None)

    def secs(name: str) -> float | None:
        return reports.get(name, {}).get("seconds")

    def ratio(a: str, b: str) -> float | None:
        x, y = secs(a), secs(b)
        return None if x is None or y is None else x / y

    ratios = {
        "pandas_events / cx_events": ratio("pandas_events", "cx_events"),
        "pandas_facts / cx_facts": ratio("pandas_facts", "cx_facts"),
        "polars_facts / cx_facts": ratio("polars_facts", "cx_facts"),
        "cx_facts / sql_facts": ratio("cx_facts", "sql_facts"),
        "cx_events / sql_facts (refresh + metrics vs metrics alone)": ratio("cx_events", "sql_facts"),
    }
    aims = {
        "cxmetrics >= 5x faster than pandas end to end": (ratios["pandas_events / cx_events"] or 0) >= 5,
        "cxmetrics faster than Polars (from facts)": (ratios["polars_facts / cx_facts"] or 0) > 1,
        "cxmetrics within 1.5x of hand-written SQL": (ratios["cx_facts / sql_facts"] or math.inf) <= 1.5,
    }
    print()
    print(f"{'run':<14} {'seconds':>9} {'load s':>8} {'peak MB':>8}  agreement with cx_facts")
    for name, r in reports.items():
        agree = r.get("agreement_with_cx_facts")
        note = r.get("error") or ("" if agree is None else
                                  "identical" if not agree["metrics_differing"] else
                                  "differs in " + ", ".join(f"{k} ({v})" for k, v in agree["metrics_differing"].items()))
        print(f"{name:<14} {_fmt(r.get('seconds')):>9} {_fmt(r.get('load_s', r.get('refresh_s'))):>8} "
              f"{_fmt(r.get('peak_rss_mb'), 0):>8}  {note}")
    print()
    cx = reports.get("cx_events", {})
    if "lower_bound_s" in cx:
        print(f"cx_events: refresh {_fmt(cx['refresh_s'])} s + metrics {_fmt(cx['metrics_s'])} s; lower bound "
              f"{_fmt(cx['lower_bound_s'])} s (one sorted window pass over the events): refresh / lower bound "
              f"{_fmt(cx['refresh_over_lower_bound'], 1)}x")
    for k, v in ratios.items():
        print(f"{k:<60} {_fmt(v)}")
    for k, v in aims.items():
        print(f"{'met' if v else 'MISSED':<7} {k}")
    out = {
        "tickets": counts["tickets"], "events": counts["events"], "surveys": counts["surveys"],
        "suite": SUITE, "by": BY, "grain": GRAIN, "workspace_settings": settings,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
        "runs": reports, "ratios": ratios, "aims": aims,
    }
    args.out.mkdir(exist_ok=True)
    target = args.out / f"metrics_{counts['tickets']}.json"
    target.write_text(json.dumps(out, indent=2, default=str))
    print(f"\nwritten {target}")


if __name__ == "__main__":
    main()
