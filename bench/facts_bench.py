"""Time refresh_facts on synthetic tickets generated in the engine.

    .venv/bin/python bench/facts_bench.py --tickets 200000 [--workspace DIR] [--memory-limit 2GB]

Generates N tickets (about 9 events each: chats with bots and hand-offs, emails with
pending periods and reopens, phone calls with queue, hold, talk and wrap-up) straight
into the store with SQL, then times a full refresh, an incremental refresh after new
events for 1% of the tickets, and one after nothing changed; prints peak memory.

The full refresh is compared with a lower bound timed in the same run (`lower_bound`):
one hand-written scan that sorts all the events by ticket and time and computes a
window over them (the previous ts and status per ticket), then a count and a sum per
ticket into a table. Every facts pass needs at least that (the facts depend on the
order of each ticket's events), so no refresh can beat it; refresh / lower bound says
how far the refresh is from the engine's limit.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time

import duckdb

import cxmetrics
from cxmetrics.facts import refresh_facts

# the lower bound: one ordered window pass over every event, grouped per ticket into a
# table (the order is the facts' own: ts, then event id in natural order)
LOWER_BOUND_SQL = """
CREATE OR REPLACE TEMP TABLE _bench_lower_bound AS
SELECT source, ticket_id, count(*) AS n_events, sum(epoch_us(ts) - epoch_us(prev_ts)) AS gaps_us,
       count(*) FILTER (status_to IS DISTINCT FROM prev_status) AS status_changes
FROM (
    SELECT e.source, e.ticket_id, e.ts, e.status_to, lag(e.ts) OVER w AS prev_ts, lag(e.status_to) OVER w AS prev_status
    FROM events e WHERE e.ticket_id IS NOT NULL
    WINDOW w AS (PARTITION BY e.source, e.ticket_id ORDER BY e.ts, length(e.event_id), e.event_id)
)
GROUP BY source, ticket_id
"""


def lower_bound_s(con: duckdb.DuckDBPyConnection) -> float:
    """Seconds of the lower-bound scan (`LOWER_BOUND_SQL`), under the refresh's settings."""
    old = con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]
    con.execute("SET preserve_insertion_order = false")  # as refresh_facts runs
    try:
        started = time.perf_counter()
        con.execute(LOWER_BOUND_SQL)
        return time.perf_counter() - started
    finally:
        con.execute("DROP TABLE IF EXISTS _bench_lower_bound")
        con.execute(f"SET preserve_insertion_order = {str(old).lower()}")

TICKETS = """
INSERT INTO tickets (source, ticket_id, created_at, channel, priority, status, requester_id, assignee_id,
                     agent_type, team, topic, tags, product, customer_tier, region, created_by, subject,
                     reopens_reported, replies_reported, handle_s_reported, _hash, _import_id)
SELECT 'bench', 'T' || i,
       TIMESTAMPTZ '2025-01-01' + to_seconds((hash(i, 1) % 31536000)::BIGINT),
       ['chat', 'email', 'phone', 'messaging'][1 + (hash(i, 2) % 4)::BIGINT],
       ['low', 'normal', 'high', 'urgent'][1 + (hash(i, 3) % 4)::BIGINT],
       NULL, 'C' || (hash(i, 4) % ({n} // 3 + 1))::BIGINT, NULL, NULL,
       ['Tier 1', 'Tier 2', 'Billing'][1 + (hash(i, 5) % 3)::BIGINT],
       ['billing', 'login', 'shipping', 'refund', 'bug', 'account', 'other'][1 + (hash(i, 6) % 7)::BIGINT],
       NULL, NULL, ['free', 'pro', 'enterprise'][1 + (hash(i, 7) % 3)::BIGINT], 'EMEA',
       CASE WHEN hash(i, 8) % 20 = 0 THEN 'agent' ELSE 'customer' END, NULL, NULL, NULL, NULL,
       hash(i), '{imp}'
FROM range({n}) r(i)
"""

# one row per (ticket, slot); a slot becomes an event when its condition holds
EVENTS = """
INSERT INTO events_stored
WITH t AS (
    SELECT hash(ticket_id) AS i, ticket_id, created_at, channel, 'A' || (hash(i, 9) % 300) AS agent,
           (hash(i, 10) % 1000) / 1000.0 AS u1, (hash(i, 11) % 1000) / 1000.0 AS u2,
           (hash(i, 12) % 1000) / 1000.0 AS u3, 60 + hash(i, 13) % 86400 AS frt
    FROM tickets WHERE source = 'bench' AND _import_id = '{imp}'
), s AS (
    SELECT t.*, slot FROM t, range(20) r(slot)
), e AS (
    SELECT ticket_id, slot, agent, created_at + to_seconds(CAST(off AS BIGINT)) AS ts, kind, actor_type, actor_id,
           public, status_to, duration_s, team
    FROM (
        SELECT *,
          CASE slot WHEN 0 THEN 0 WHEN 1 THEN 5 WHEN 2 THEN 60 WHEN 3 THEN 90 WHEN 4 THEN 100 WHEN 5 THEN frt
                    WHEN 6 THEN frt + 1 WHEN 7 THEN frt + 3600 * u1 + 2 WHEN 8 THEN frt + 3600 * u1 + 3
                    WHEN 9 THEN frt + 7200 * u1 + 600 WHEN 10 THEN frt + 7200 * u1 + 700
                    WHEN 11 THEN frt + 7200 * u1 + 172800 WHEN 12 THEN frt + 7200 * u1 + 259200
                    WHEN 13 THEN 0 WHEN 14 THEN 20 * u2 WHEN 15 THEN 30 WHEN 16 THEN 30 + 90 * u3
                    WHEN 17 THEN 400 WHEN 18 THEN 500 ELSE 0 END AS off,
          CASE WHEN slot IN (0) THEN 'created'
               WHEN slot IN (1, 4, 5, 7, 9) THEN 'message'
               WHEN slot = 2 THEN 'handoff' WHEN slot = 3 THEN 'assign'
               WHEN slot IN (6, 8, 10, 11, 12) THEN 'status'
               WHEN slot = 13 THEN 'call_queued'
               WHEN slot = 14 THEN CASE WHEN u2 < 0.1 THEN 'call_abandoned' ELSE 'call_answered' END
               WHEN slot = 15 THEN 'hold_start' WHEN slot = 16 THEN 'hold_end'
               WHEN slot = 17 THEN 'call_ended' WHEN slot = 18 THEN 'wrap_up_end' END AS kind,
          CASE WHEN slot = 0 THEN 'customer' WHEN slot IN (1, 2) THEN 'bot' WHEN slot = 7 THEN 'customer'
               WHEN slot = 3 THEN 'system' ELSE 'agent' END AS actor_type,
          CASE WHEN slot IN (0, 7) THEN 'C' || i WHEN slot IN (1, 2) THEN 'B1' WHEN slot = 3 THEN NULL ELSE agent END
              AS actor_id,
          CASE WHEN slot = 4 THEN false WHEN slot IN (1, 5, 7, 9) THEN true END AS public,
          CASE slot WHEN 0 THEN 'new' WHEN 6 THEN 'pending' WHEN 8 THEN 'open' WHEN 10 THEN 'solved'
                    WHEN 11 THEN 'open' WHEN 12 THEN 'solved' END AS status_to,
          CASE slot WHEN 17 THEN 60 + 900 * u3 WHEN 18 THEN 30 + 120 * u1 END AS duration_s,
          CASE WHEN slot = 3 THEN ['Tier 1', 'Tier 2'][1 + (u3 < 0.2)::INT] END AS team
        FROM s
        WHERE slot IN (0, 3, 5)
           OR (slot IN (1, 2) AND channel IN ('chat', 'messaging') AND u1 < 0.6)
           OR (slot = 4 AND u2 < 0.2)
           OR (slot IN (6, 7, 8, 9) AND channel <> 'phone' AND u1 < 0.5)
           OR (slot = 10 AND u3 < 0.85)
           OR (slot IN (11, 12) AND u3 < 0.08)
           OR (slot IN (13, 14) AND channel = 'phone')
           OR (slot IN (15, 16, 17, 18) AND channel = 'phone' AND u2 >= 0.1)
    )
)
SELECT 'bench', ticket_id || ':' || slot, ticket_id, ts, kind, actor_type, actor_id, public, NULL, status_to,
       NULL, NULL, duration_s, CASE WHEN slot = 3 THEN agent END, team, NULL, 'events', hash(ticket_id, slot), '{imp}'
FROM e
"""

MORE = """
INSERT INTO events_stored
SELECT source, ticket_id || ':more', ticket_id, ts + INTERVAL 30 DAY, 'message', 'customer', NULL, true, NULL, NULL,
       'one more thing', NULL, NULL, NULL, NULL, NULL, 'events', hash(ticket_id, 'more'), '{imp}'
FROM events WHERE source = 'bench' AND kind = 'created' AND hash(ticket_id) % 100 = 0
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--workspace", default=None)
    parser.add_argument("--memory-limit", default=None, help="engine memory limit (default: the workspace's)")
    args = parser.parse_args()
    path = args.workspace or tempfile.mkdtemp(prefix="facts-bench-")
    with cxmetrics.open(path, create=True) as ws:
        if args.memory_limit:
            ws.configure(memory_limit=args.memory_limit)
        con = ws.con
        started = time.perf_counter()
        con.execute(TICKETS.format(n=args.tickets, imp="bench_1"))
        con.execute(EVENTS.format(imp="bench_1"))
        n_events = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
        threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
        print(f"generated {args.tickets:,} tickets, {n_events:,} events in {time.perf_counter() - started:.1f} s "
              f"(memory_limit {ws.settings.memory_limit}, threads {threads})")
        con.execute("CHECKPOINT")

        bound = lower_bound_s(con)
        started = time.perf_counter()
        n = refresh_facts(con, full=True)
        full = time.perf_counter() - started
        print(f"full refresh:        {n:>10,} tickets in {full:7.2f} s")
        print(f"lower bound:         {n_events:>10,} events  in {bound:7.2f} s "
              f"(one sorted window pass; full refresh / lower bound {full / bound:.1f}x)")

        con.execute(MORE.format(imp="bench_2"))
        started = time.perf_counter()
        n = refresh_facts(con)
        print(f"incremental refresh: {n:>10,} tickets in {time.perf_counter() - started:7.2f} s")

        started = time.perf_counter()
        n = refresh_facts(con)
        print(f"nothing changed:     {n:>10,} tickets in {time.perf_counter() - started:7.2f} s")

        facts, intervals = con.execute(
            "SELECT (SELECT count(*) FROM ticket_facts), (SELECT count(*) FROM reply_intervals)"
        ).fetchall()[0]
        print(f"ticket_facts {facts:,} rows, reply_intervals {intervals:,} rows")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MB; workspace {path}")


if __name__ == "__main__":
    main()
