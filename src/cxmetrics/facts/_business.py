"""Business-time twins of the facts: every calendar duration of `ticket_facts` and of
`reply_intervals` again in business seconds, under the ticket's schedule.

A ticket's schedule is the first rule of `schedules.toml` its current dimensions match
(team, channel, region...), else the default (`cxmetrics.calendar.schedule_sql`).
Business time uses B(t), the business seconds from a fixed origin to t under that
schedule, looked up in the materialised calendar by one equi-join per timestamp
(`cxmetrics.calendar.with_business_times`). Then, with the calendar definitions of
`_sql.fact_select` unchanged:

- a span (frt, first touch, first and full resolution, FRT after a hand-off, a reply
  interval) is B(end) - B(start): the business seconds in [start, end);
- a time in status (requester wait = new + open + on-hold, agent wait = pending,
  on-hold, agent work = new + open, from creation to the latest solve, only while the
  ticket is solved) is the sum over its status intervals of B(end) - B(start): one B
  per status event, plus the initial interval from creation to the first status event.
  When every schedule rule tests only a ticket's own row (channel, region...), the facts'
  status pass looks each B up and sums them beside the calendar time (`BusinessPlan.folded`);
  else (a rule on team or priority, which the events change) a pass of its own does
  (`status_sums`), after the facts;
- NULL exactly where the calendar duration is NULL; negative only where it is (a span
  stamped backwards, e.g. a solve before creation: minus the business time between).

Sums are taken in whole microseconds, so the same data and schedules always give the
same bits. Without `schedules.toml` (or with only 24/7 schedules) business time is
calendar time: the twins are copies of the calendar durations, and nothing is looked up.

Written in the facts' own transaction, for the tickets the facts refresh rewrites (all
of them on a full refresh), from the temp tables of that refresh (`_fx_tk`, the events
in scope, `_fx_replies`). The schedules' fingerprint is stored (`business_facts_state`);
when it changes, the next refresh is a full one, and the state says how many tickets'
twins changed. A refresh on Spark runs the same statements (`calendar_copies`, else
`ticket_view`, `status_sums`, `ticket_twins`, `reply_twins`), rendered
(`cxmetrics.engines._spark_business`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from cxmetrics.calendar import SCHEDULES_FILE, ScheduleSet, ensure_calendar, schedule_sql, with_business_times
from cxmetrics.calendar._engine import calendar_slice_sql
from cxmetrics.facts._columns import BUSINESS_FACT_COLUMNS, BUSINESS_TWINS, REPLY_INTERVAL_BH_COLUMNS
from cxmetrics.facts._sql import FOLDED_BUSINESS, IN_STATUS, event_order, events, keys_match, scope
from cxmetrics.store._cluster import insertion_order

log = logging.getLogger("cxmetrics.facts")

TEMP_TABLES = ("_bh_st", "_bh_new", "_bh_replies", "_bh_diff", "_bh_cal")
# a ticket's timestamps whose B is looked up: one join each
_POINTS = ("created_at", "first_reply_at", "first_touch_at", "first_solved_at", "last_solved_at", "handoff_at",
           "reply_after_handoff_at")
# time in status: twin -> the statuses it sums (as _sql.fact_select's in_status)
_IN_STATUS = {f"{name}_bh_s": statuses for name, statuses in IN_STATUS.items()}


@dataclass(frozen=True)
class BusinessRefresh:
    """The last business-time pass (`business_facts_state`)."""

    fingerprint: str  # of the schedules the twins were computed under
    refreshed_at: datetime
    tickets: int  # tickets whose twins were recomputed
    changed: int  # of those, tickets whose twins (or their reply intervals') changed
    recomputed_all: bool  # every ticket: a full refresh, or the schedules changed


def workspace_schedules(con: duckdb.DuckDBPyConnection) -> ScheduleSet:
    """The schedules of the workspace whose database `con` has open: `schedules.toml`
    next to the database file; 24/7 UTC without one (or for an in-memory database)."""
    rows = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    path = rows[0][0] if rows else None
    if not path or path == ":memory:":
        return ScheduleSet.all_hours()
    return ScheduleSet.load(Path(path).parent / SCHEDULES_FILE)


def stale(con: duckdb.DuckDBPyConnection, schedules: ScheduleSet) -> bool:
    """Whether the twins were computed under other schedules (or never): then every
    ticket's twins must be recomputed."""
    rows = con.execute("SELECT fingerprint FROM business_facts_state").fetchall()
    return [r[0] for r in rows] != [schedules.fingerprint()]


def last_refresh(con: duckdb.DuckDBPyConnection) -> BusinessRefresh | None:
    """What the last business-time pass did, or None if there was none."""
    rows = con.execute("SELECT fingerprint, refreshed_at::VARCHAR, tickets, changed, recomputed_all "
                       "FROM business_facts_state").fetchall()
    if not rows:
        return None
    fp, at, tickets, changed, every = rows[0]
    return BusinessRefresh(fp, datetime.fromisoformat(at), tickets, changed, every)


# the dimensions a schedule rule may test that a ticket's facts take from its own row (or, for
# source, from its events' key) and never from its events: team and priority follow the
# assign and priority events, so a schedule chosen by them is known only after the status pass
ROW_DIMENSIONS = frozenset({"source", "channel", "customer_tier", "product", "region", "topic"})


@dataclass(frozen=True)
class BusinessPlan:
    """How a refresh computes the twins, decided (and the calendar made ready) before the
    facts are derived (`plan`).

    `folded`: the status pass of the facts (`_sql.stream_aggregates`, `s`) looks up B of each
    status event itself and sums the business time in each status beside the calendar time,
    so the twins need no pass of their own over the status events (`status_sums`): at 300k
    tickets the status pass took 0.4 s more and `status_sums`, 0.75 s, went. Possible when
    every schedule rule tests only the dimensions of a ticket's own row (`ROW_DIMENSIONS`);
    a rule on team or priority needs the events first, and keeps the separate pass."""

    schedules: ScheduleSet
    scoped: bool
    copies: bool  # every schedule is 24/7: the twins are copies of the calendar facts
    calendar: str = "business_calendar"  # the table of the calendar's rows looked up (a slice)
    folded: bool = False

    def status_b(self) -> Callable[[str], str] | None:
        """For `_sql.stream_aggregates`: the status events with B of each, when folded. Every
        status event's ts lies in the calendar's span (or slice), which `plan` took over the
        events in scope, so each finds its row: no status event is lost to the lookup's join."""
        if not self.folded:
            return None
        schedules, scoped, calendar = self.schedules, self.scoped, self.calendar
        dims = sorted({dim for rule in schedules.rules for dim, _ in rule.when} - {"source"})

        def with_b(status_events: str) -> str:
            relation = status_events
            if dims:  # the ticket's dimensions, from its row (none: NULL, which no rule matches)
                row = f"SELECT t.source, t.ticket_id, {', '.join('t.' + d for d in dims)} " \
                      f"FROM tickets t {scope('t', scoped)}"
                relation = f"SELECT x.*, {', '.join('d.' + d for d in dims)} FROM ({status_events}) x " \
                           f"LEFT JOIN ({row}) d ON {keys_match('x', 'd')}"
            relation = f"SELECT r.*, {schedule_sql(schedules, 'r')} AS schedule FROM ({relation}) r"
            looked_up = _with_b(relation, {"b_us": "ts"}, schedules, calendar)
            return f"SELECT * EXCLUDE ({', '.join(['source', 'ticket_id', 'schedule', *dims])}) FROM ({looked_up})"
        return with_b


def plan(con: duckdb.DuckDBPyConnection, schedules: ScheduleSet, *, scoped: bool) -> BusinessPlan:
    """Before the facts of the tickets in scope (all with `scoped=False`) are derived: whether
    the twins are copies, else the calendar materialised over every timestamp the pass looks
    up (a slice of it for an incremental pass) and whether the status pass computes the
    business time in status (`BusinessPlan.folded`)."""
    if all(s.is_always for s in schedules.schedules):
        return BusinessPlan(schedules, scoped, copies=True)
    span = _ensure_calendar(con, schedules, scoped)
    if span is None:  # nothing to look up
        return BusinessPlan(schedules, scoped, copies=False)
    calendar = _calendar_slice(con, *span) if scoped else "business_calendar"
    folded = all(dim in ROW_DIMENSIONS for rule in schedules.rules for dim, _ in rule.when)
    return BusinessPlan(schedules, scoped, copies=False, calendar=calendar, folded=folded)


def refresh_business(con: duckdb.DuckDBPyConnection, plan: BusinessPlan, *, key: str, stored: bool = True) -> int:
    """Recompute the twins of the tickets in `_fx_tk` (after the facts refresh wrote
    theirs; `key` is the key `_fx_tk._k` was derived with) as `plan` says (made by `plan`
    before they were derived) and record the pass. `stored=False`: none of them has stored
    twins (new tickets: nothing to compare or delete). Returns how many tickets' twins
    changed."""
    schedules, scoped = plan.schedules, plan.scoped
    if plan.copies:
        for statement in calendar_copies(schedules, scoped):
            con.execute(statement)
    else:
        calendar, folded = plan.calendar, plan.folded
        con.execute(ticket_view(schedules, folded=folded))
        if not folded:
            con.execute(status_sums(scoped, key, schedules, calendar))
        con.execute(ticket_twins(schedules, calendar, folded=folded))
        # (never expected: every point lies in the span; _bh_tk is a view of _fx_tk's rows)
        if calendar != "business_calendar" and con.execute(
                "SELECT (SELECT count(*) FROM _fx_tk) <> (SELECT count(*) FROM _bh_new)").fetchall()[0][0]:
            log.warning("a business-time lookup fell outside the span of its tickets' timestamps; "
                        "their twins were computed on the whole calendar")
            con.execute(ticket_view(schedules))
            con.execute(status_sums(scoped, key, schedules))
            con.execute(ticket_twins(schedules))
            calendar = "business_calendar"
        con.execute(reply_twins(schedules, calendar))
    tickets, stored_rows = con.execute("SELECT (SELECT count(*) FROM _bh_new), (SELECT count(*) FROM ticket_facts_bh)"
                                       ).fetchall()[0]
    fresh = scoped and not stored  # the tickets in scope have no twins stored
    if (stored_rows or scoped) and not fresh:
        con.execute(_differing(scoped))
    else:  # nothing stored yet (a first refresh, new tickets): every ticket's twins are new
        con.execute("CREATE OR REPLACE TEMP TABLE _bh_diff AS SELECT source, ticket_id FROM _bh_new")
    changed = con.execute("SELECT count(*) FROM _bh_diff").fetchall()[0][0]
    # only the tickets whose twins changed are rewritten; when most did, whole tables
    wholesale = not scoped and 2 * changed > stored_rows
    for table, new in (("ticket_facts_bh", "_bh_new"), ("reply_intervals_bh", "_bh_replies")):
        if wholesale:  # one row per ticket in ticket order, as _write.write_changed writes them
            con.execute(f"DELETE FROM {table}")
            one_row = table == "ticket_facts_bh"
            with insertion_order(con, one_row):
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {new}"
                            + (" ORDER BY source, ticket_id" if one_row else ""))
        elif fresh:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {new}")
        elif changed:
            con.execute(f"DELETE FROM {table} b USING _bh_diff d WHERE {keys_match('b', 'd')}")
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {new} n SEMI JOIN _bh_diff d "
                        f"ON {keys_match('n', 'd')}")
    con.execute("DELETE FROM business_facts_state")
    con.execute("INSERT INTO business_facts_state VALUES (?, now(), ?, ?, ?)",
                [schedules.fingerprint(), tickets, changed, not scoped])
    con.execute("DROP VIEW IF EXISTS _bh_tk")
    for name in TEMP_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {name}")
    return changed


def calendar_copies(schedules: ScheduleSet, scoped: bool) -> tuple[str, str]:
    """The statements of `_bh_new` and `_bh_replies` under schedules that are all 24/7:
    business time is calendar time, so the twins are copies of the facts just written."""
    facts = "ticket_facts f" + (f" SEMI JOIN _fx_targets k ON {keys_match('f', 'k')}" if scoped else "")
    twins = ", ".join(f"f.{name} AS {twin}" for name, twin in BUSINESS_TWINS.items())
    return (f"""
        CREATE OR REPLACE TEMP TABLE _bh_new AS
        SELECT f.source, f.ticket_id, {schedule_sql(schedules, 'f')} AS schedule, {twins} FROM {facts}
    """, "CREATE OR REPLACE TEMP TABLE _bh_replies AS "
         "SELECT source, ticket_id, seq, seconds AS seconds_bh FROM _fx_replies")


def ticket_view(schedules: ScheduleSet, *, folded: bool = False) -> str:
    """`_bh_tk`: the tickets of `_fx_tk` with their schedule and the timestamps whose B is looked
    up (and, `folded`, the business sums of their status events: `BusinessPlan.folded`)."""
    sums = "".join(f", t.{name}" for name in FOLDED_BUSINESS) if folded else ""
    return f"""
        CREATE OR REPLACE TEMP VIEW _bh_tk AS
        SELECT t.source, t.ticket_id, t._k, {schedule_sql(schedules, 't')} AS schedule,
               {', '.join('t.' + p for p in _POINTS)}, t.created_by, t.solved, t.initial_status{sums}
        FROM _fx_tk t
    """


def _ensure_calendar(con: duckdb.DuckDBPyConnection, schedules: ScheduleSet,
                     scoped: bool) -> tuple[int, int] | None:
    """Materialise the calendar over every timestamp the pass looks up, before the facts of
    the tickets in scope are derived: their rows' creation and their events (a ticket's
    created_at is its row's, else its first event's; status changes may precede a row's
    created_at). Returns their span (epoch microseconds), None when there is none."""
    tickets = f"tickets t {scope('t', True)}" if scoped else "tickets"
    lo, hi = con.execute(f"""
        SELECT least(min(epoch_us(lo)), (SELECT min(epoch_us(ts)) FROM {events(scoped)} WHERE ticket_id IS NOT NULL)),
               greatest(max(epoch_us(hi)), (SELECT max(epoch_us(ts)) FROM {events(scoped)} WHERE ticket_id IS NOT NULL))
        FROM (SELECT min(created_at) AS lo, max(created_at) AS hi FROM {tickets})
    """).fetchall()[0]
    if lo is None:
        return None
    ensure_calendar(con, schedules, _from_us(lo), _from_us(hi))
    return int(lo), int(hi)


def _calendar_slice(con: duckdb.DuckDBPyConnection, lo_us: int, hi_us: int) -> str:
    """`_bh_cal`: the calendar's rows for [lo_us, hi_us] (and key -1), for an incremental pass.
    Each timestamp is one join with the calendar, and on the whole calendar (210,000 rows
    at a million tickets) the engine may build its hash table on the calendar's side: 40 ms
    for the 7 joins of a live batch of one ticket or of 250, against 2 ms on the slice."""
    schedules = con.execute("SELECT key_base, range_start_us, range_end_us, bucket_us FROM business_schedules "
                            "WHERE key_base IS NOT NULL").fetchall()
    con.execute(f"CREATE OR REPLACE TEMP TABLE _bh_cal AS {calendar_slice_sql(lo_us, hi_us, schedules)}")
    return "_bh_cal"



def _from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us // 1_000_000, tz=UTC)


def _with_b(relation: str, points: dict[str, str], schedules: ScheduleSet, calendar: str = "business_calendar") -> str:
    """`relation` (with a `schedule` column) plus, per name, B(timestamp) in whole
    microseconds (BIGINT), looked up in `calendar` (the calendar or a slice of it)."""
    looked_up = with_business_times(relation, {f"_cx_{name}": ts for name, ts in points.items()}, "schedule",
                                    schedule_set=schedules, calendar=calendar)
    # B comes back in seconds (DOUBLE); back to exact microseconds: B < 2^53 us, so the
    # rounding recovers the integer the calendar holds
    exact = ", ".join(f"CAST(round(_cx_{name} * 1e6) AS BIGINT) AS {name}" for name in points)
    hidden = ", ".join(f"_cx_{name}" for name in points)
    return f"SELECT * EXCLUDE ({hidden}), {exact} FROM ({looked_up})"


def status_sums(scoped: bool, key: str, schedules: ScheduleSet, calendar: str = "business_calendar") -> str:
    """`_bh_st`: per (ticket, stream) of `_bh_tk` solved now, B of the first status event
    and the business microseconds spent in each status, as the `s` step of
    `_sql.stream_aggregates` sums calendar seconds (same events, same order, same rule)."""
    ev = events(scoped)
    status_events = f"""
        SELECT t._k, t.schedule, e.ts, e.event_id, e.status_to AS st
        FROM {ev} e JOIN _bh_tk t ON {key} = t._k
        -- Time in status counts only for tickets solved now. Their last status event is a
        -- solve or a close (the current status is the last event's), so every status
        -- interval ends by the last solved/closed event (as in `s`: none is cut off).
        WHERE e.ticket_id IS NOT NULL AND e.kind = 'status' AND e.status_to IS NOT NULL
          AND t.solved AND t.last_solved_at IS NOT NULL
    """
    tails = ",\n".join(f"sum(span_us) FILTER (prev_st IN {statuses}) AS {twin}_tail"
                       for twin, statuses in _IN_STATUS.items())
    return f"""
    CREATE OR REPLACE TEMP TABLE _bh_st AS
    WITH sb AS ({_with_b(status_events, {'b_us': 'ts'}, schedules, calendar)}),
    w AS (
        SELECT _k, ts, b_us,
            row_number() OVER w AS rn,
            lag(st) OVER w AS prev_st,
            b_us - lag(b_us) OVER w AS span_us
        FROM sb
        WINDOW w AS (PARTITION BY _k ORDER BY {event_order('sb')})
    )
    SELECT _k, arg_min(b_us, rn) AS first_status_b, {tails}
    FROM w GROUP BY _k
    """


def ticket_twins(schedules: ScheduleSet, calendar: str = "business_calendar", *, folded: bool = False) -> str:
    """`_bh_new`: the rows of ticket_facts_bh for the tickets of `_bh_tk`, whose status sums
    are `_bh_st`'s (`status_sums`), or their own when `folded` (`BusinessPlan.folded`)."""
    joined = "SELECT * FROM _bh_tk" if folded else \
        "SELECT t.*, s.* EXCLUDE (_k) FROM _bh_tk t LEFT JOIN _bh_st s ON s._k = t._k"

    def span(start: str, end: str) -> str:
        return f"((b_{end} - b_{start}) / 1e6)"

    def in_status(twin: str, statuses: str) -> str:
        initial = f"CASE WHEN initial_status IN {statuses} " \
                  "THEN coalesce(greatest(first_status_b - b_created_at, 0), 0) ELSE 0 END"
        return f"CASE WHEN solved AND last_solved_at IS NOT NULL THEN (coalesce({twin}_tail, 0) + {initial}) / 1e6 END"

    customer = "created_by = 'customer'"
    exprs = {
        "frt_bh_s": span("created_at", "first_reply_at"),  # every ticket's, as frt_s
        "frt_first_touch_bh_s": f"CASE WHEN {customer} THEN {span('created_at', 'first_touch_at')} END",
        "first_resolution_bh_s": span("created_at", "first_solved_at"),
        "full_resolution_bh_s": f"CASE WHEN solved THEN {span('created_at', 'last_solved_at')} END",
        **{twin: in_status(twin, statuses) for twin, statuses in _IN_STATUS.items()},
        "frt_after_handoff_bh_s": span("handoff_at", "reply_after_handoff_at"),
    }
    cols = [f"{exprs[c.name]} AS {c.name}" if c.name in exprs else c.name for c in BUSINESS_FACT_COLUMNS]
    return f"""
    CREATE OR REPLACE TEMP TABLE _bh_new AS
    SELECT {', '.join(cols)}
    FROM ({_with_b(joined, {f'b_{p}': p for p in _POINTS}, schedules, calendar)})
    """


def reply_twins(schedules: ScheduleSet, calendar: str = "business_calendar") -> str:
    """`_bh_replies`: the rows of reply_intervals_bh for the reply intervals of the
    tickets in scope (`_fx_replies`), under their tickets' schedules."""
    replies = f"""
        SELECT r.source, r.ticket_id, r.seq, r.started_at, r.replied_at, n.schedule
        FROM _fx_replies r JOIN _bh_new n ON {keys_match('r', 'n')}
    """
    b = _with_b(replies, {"b_start": "started_at", "b_end": "replied_at"}, schedules, calendar)
    cols = {"seconds_bh": "((b_end - b_start) / 1e6)"}
    select = ", ".join(f"{cols[c.name]} AS {c.name}" if c.name in cols else c.name for c in REPLY_INTERVAL_BH_COLUMNS)
    return f"CREATE OR REPLACE TEMP TABLE _bh_replies AS SELECT {select} FROM ({b})"


def _differing(scoped: bool) -> str:
    """`_bh_diff`: the tickets in scope whose twins differ from the stored ones: a row
    new, gone or with other values, or other reply-interval twins. Rows are compared by
    a hash of their values (a ticket's reply intervals by the xor of theirs): a change
    goes unseen with odds of 2^-64."""
    def stored(table: str) -> str:
        if not scoped:
            return table
        return f"(SELECT * FROM {table} b SEMI JOIN _fx_targets k ON {keys_match('b', 'k')})"

    values = ", ".join(c.name for c in BUSINESS_FACT_COLUMNS if c.name not in ("source", "ticket_id"))
    facts = "SELECT source, ticket_id, hash({v}) AS h FROM {t}"
    replies = "SELECT source, ticket_id, bit_xor(hash(seq, seconds_bh)) AS h FROM {t} GROUP BY source, ticket_id"

    def differing(query: str, old: str, new: str) -> str:
        return f"""
            SELECT coalesce(o.source, n.source) AS source, coalesce(o.ticket_id, n.ticket_id) AS ticket_id
            FROM ({query.format(v=values, t=stored(old))}) o FULL JOIN ({query.format(v=values, t=new)}) n
              ON {keys_match('o', 'n')}
            WHERE o.h IS DISTINCT FROM n.h"""

    return f"""
        CREATE OR REPLACE TEMP TABLE _bh_diff AS
        {differing(facts, 'ticket_facts_bh', '_bh_new')}
        UNION
        {differing(replies, 'reply_intervals_bh', '_bh_replies')}
    """
