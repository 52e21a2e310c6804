"""Generated flat-ticket files for benchmarks and the kill test, written by the engine, and the
demo workspaces the benchmarks build."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

# The demo's text layer needs more than the engine's default memory_limit (1.5 GB) at a million
# tickets (it stops with "Out of Memory"); a benchmark workspace of that size gets this much.
LARGE_DEMO_TICKETS = 500_000
LARGE_DEMO_MEMORY = "6GB"

FLAT_SQL = """
SELECT 'T' || lpad(CAST(i AS VARCHAR), 9, '0') AS ticket_id,
       strftime(TIMESTAMP '2025-01-01' + to_seconds(i * 3 % 31536000), '%Y-%m-%dT%H:%M:%SZ') AS created_at,
       ['email', 'chat', 'phone', 'messaging', 'social', 'web'][1 + i % 6] AS channel,
       ['low', 'normal', 'high', 'urgent'][1 + (i // 7) % 4] AS priority,
       CASE WHEN i % 10 < 8 THEN 'solved' ELSE 'open' END AS status,
       'C' || (i % 250000) AS requester_id,
       'A' || (i % 200) AS assignee_id,
       CASE WHEN i % 9 = 0 THEN 'bot' ELSE 'human' END AS agent_type,
       ['Tier 1', 'Tier 2', 'Billing'][1 + i % 3] AS team,
       ['billing', 'login', 'shipping', 'bug', 'how-to'][1 + (i // 3) % 5] AS topic,
       'customer' AS created_by,
       strftime(TIMESTAMP '2025-01-01' + to_seconds(i * 3 % 31536000 + 60 + i % 7200), '%Y-%m-%dT%H:%M:%SZ') AS first_reply_at,
       CASE WHEN i % 10 < 8 THEN strftime(TIMESTAMP '2025-01-01' + to_seconds(i * 3 % 31536000 + 3600 + i % 86400), '%Y-%m-%dT%H:%M:%SZ') END AS solved_at,
       i % 3 AS reopens, 1 + i % 4 AS replies, 120 + i % 900 AS handle_seconds,
       CASE WHEN i % 5 = 0 THEN 1 + i % 5 END AS csat, NULL AS csat_scale,
       CASE WHEN i % 11 = 0 THEN 1 + i % 7 END AS ces, NULL AS ces_scale,
       CASE WHEN i % 13 = 0 THEN i % 11 END AS nps,
       'Subject of ticket ' || i || ', about ' || ['a refund', 'a login problem', 'a late parcel'][1 + i % 3] AS subject
FROM range({n}) t(i)
"""


def write_flat(path: Path, n: int) -> Path:
    """n flat tickets as CSV or Parquet (by the file's extension)."""
    con = duckdb.connect()
    fmt = "PARQUET" if path.suffix == ".parquet" else "CSV, HEADER"
    con.execute(f"COPY ({FLAT_SQL.format(n=n)}) TO '{path}' (FORMAT {fmt})")
    con.close()
    return path


def build_demo(path: Path, tickets: int, seed: int | None = None) -> None:
    """`cxmetrics demo --tickets N --no-serve` into `path` (a large one with LARGE_DEMO_MEMORY)."""
    if tickets >= LARGE_DEMO_TICKETS:
        import cxmetrics

        with cxmetrics.open(path, create=True) as ws:
            ws.configure(memory_limit=LARGE_DEMO_MEMORY)
    cli = Path(sys.executable).with_name("cxmetrics")
    cmd = [str(cli), "--workspace", str(path), "demo", "--tickets", str(tickets), "--no-serve"]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


# -- a larger workspace from a smaller one ------------------------------------------------------

#: id columns made distinct in each copy (replicate); a row's other values are copied as they are
COPY_IDS = ("ticket_id", "event_id", "response_id", "send_id", "customer_id", "requester_id", "usual_event_id")
#: tables the refresh derives (left empty: the benchmark's refresh writes them) and bookkeeping
#: that must not claim those tables are fresh
NOT_COPIED = ("ticket_facts", "ticket_facts_bh", "reply_intervals", "reply_intervals_bh", "contacts",
              "survey_fatigue", "sla_targets", "sla_tickets", "sla_imports", "sla_meta", "facts_state",
              "business_calendar", "business_calendar_due", "business_calendar_state", "business_schedules",
              "business_facts_state", "schema_migrations", "api_keys", "api_sessions")
CONFIG_FILES = ("settings.toml", "schedules.toml", "sla.toml", "surveys.toml", "targets.toml")


def replicate(source: Path, target: Path, copies: int) -> dict[str, int]:
    """A workspace at `target` holding `copies` copies of `source`'s data: copy k's ids (COPY_IDS)
    end in `~k` (copy 0 keeps them), so each copy's tickets, customers and surveys are their own
    and every window over a ticket or a customer sees one copy; agents, teams, schedules, costs
    and the time range are shared. The derived tables are left empty for a full refresh.

    This is how the benchmarks get 10M tickets: the demo generator takes about 40 minutes per
    million tickets on two cores, this about half a minute per copy of a million. The data's
    shape per ticket is the demo's; volume per period is `copies` times the demo's."""
    import shutil

    import cxmetrics

    target.mkdir(parents=True, exist_ok=False)
    for name in CONFIG_FILES:
        if (source / name).exists():
            shutil.copy(source / name, target / name)
    with cxmetrics.open(target, create=True):
        pass  # the schema, as this version of cxmetrics declares it
    con = duckdb.connect(str(target / "cxmetrics.duckdb"))
    con.execute(f"ATTACH '{source / 'cxmetrics.duckdb'}' AS src (READ_ONLY)")
    con.execute(f"SET memory_limit = '{LARGE_DEMO_MEMORY}'")
    rows: dict[str, int] = {}
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src' AND schema_name = 'main' "
        "ORDER BY table_name").fetchall()]
    for table in tables:
        if table in NOT_COPIED:
            continue
        columns = [r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = 'src' AND table_name = ? "
            "ORDER BY column_index", [table]).fetchall()]
        ids = [c for c in columns if c in COPY_IDS]
        times = copies if ids else 1
        for k in range(times):
            select = ", ".join(f'"{c}" || \'~{k}\' AS "{c}"' if c in ids and k else f'"{c}"' for c in columns)
            con.execute(f'INSERT INTO main."{table}" BY NAME SELECT {select} FROM src.main."{table}"')
        rows[table] = con.execute(f'SELECT count(*) FROM main."{table}"').fetchall()[0][0]
    con.execute("DETACH src")
    con.execute("CHECKPOINT")
    con.close()
    return rows


if __name__ == "__main__":
    import argparse
    import time

    parser = argparse.ArgumentParser(description="Benchmark data: a larger workspace from a smaller one.")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("replicate", help=replicate.__doc__.split("\n")[0])
    rep.add_argument("source", type=Path)
    rep.add_argument("target", type=Path)
    rep.add_argument("--copies", type=int, default=10)
    args = parser.parse_args()
    started = time.perf_counter()
    counts = replicate(args.source, args.target, args.copies)
    print(f"{args.target}: {counts.get('tickets', 0):,} tickets, {counts.get('events', 0):,} events "
          f"({args.copies} copies of {args.source}) in {time.perf_counter() - started:.0f} s")
