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
