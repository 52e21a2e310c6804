"""The set-based SQL of the SLA clocks: every ticket's targets, cycles and running spans
in a few statements over whole tables (or over the tickets in scope), nothing looping
over tickets.

The steps, each a temp table the next reads:

1. `_sla_tk`: the tickets in `_sla_scope` (from `ticket_facts`) with the index of the
   policy that applies (the first whose conditions hold: one CASE) and their own schedule.
2. `_sla_tt`: one row per ticket and SLA metric the policy gives a target for at the
   ticket's priority (its own, else `default`); `_sla_fp` the ticket's fingerprint.
3. `_sla_ev`: the events of those tickets that the clocks read (created, public
   messages, status changes), from the stream the facts use (imported events, else the
   ones a flat row implies).
4. `_sla_iv`: status intervals [from, to) from creation on; the last one is open (to NULL).
5. `_sla_cyc`: one row per target and cycle: start and completion. Reply and update
   cycles repeat; the others have one cycle. A solve completes an open cycle.
6. `_sla_spans`: the spans in which a cycle's clock runs: [start, completion) for the
   metrics that never pause, else its intersections with the running statuses.
7. `_sla_new`: per cycle, the running seconds banked in closed spans, the start of the
   open running span (NULL when paused or completed) and the due time: the earliest
   instant at which the running time reaches the target (NULL while paused short of it).

Business-hours targets measure spans in their schedule's business seconds: the engine's
B(t), cumulative business seconds, looked up through `cxmetrics.calendar` (see
`_business.py`); calendar targets in plain seconds.
"""

from __future__ import annotations

from collections.abc import Sequence

from cxmetrics.sla._policy import DEFAULT_PRIORITY, SlaMetric, SlaPolicies

DONE = "('solved', 'closed')"
# metrics whose clock runs in every status (from the cycle's start to its completion)
ALWAYS_RUNNING = (SlaMetric.FIRST_REPLY, SlaMetric.NEXT_REPLY, SlaMetric.PERIODIC_UPDATE, SlaMetric.TOTAL_RESOLUTION)
# the statuses in which the other clocks run (they pause in the rest)
RUNNING_STATUSES: dict[SlaMetric, tuple[str, ...]] = {
    SlaMetric.PAUSABLE_UPDATE: ("new", "open", "on-hold"),
    SlaMetric.REQUESTER_WAIT: ("new", "open", "on-hold"),
    SlaMetric.AGENT_WORK_TIME: ("new", "open"),
}
TICKET_METRICS = (SlaMetric.TOTAL_RESOLUTION, SlaMetric.REQUESTER_WAIT, SlaMetric.AGENT_WORK_TIME)
UPDATE_METRICS = (SlaMetric.PERIODIC_UPDATE, SlaMetric.PAUSABLE_UPDATE)

TEMP_TABLES = (
    "_sla_scope", "_sla_scope_all", "_sla_out", "_sla_fp_out", "_sla_tk", "_sla_cfg", "_sla_tt", "_sla_fp",
    "_sla_sched", "_sla_ev", "_sla_iv", "_sla_cyc",
    "_sla_spans_raw", "_sla_spans", "_sla_new_raw", "_sla_new", "_sla_now", "_sla_open_raw", "_sla_open",
    "_sla_fresh", "_sla_changed", "_sla_imported",
)


def lit(value: str | None) -> str:
    return "NULL" if value is None else "'" + str(value).replace("'", "''") + "'"


def keys_match(a: str, b: str) -> str:
    return f"{a}.source = {b}.source AND {a}.ticket_id = {b}.ticket_id"


def secs(start: str, end: str) -> str:
    """Calendar seconds from `start` to `end` (exact: an integer difference of microseconds)."""
    return f"((epoch_us({end}) - epoch_us({start})) / 1e6)"


def plus_secs(ts: str, seconds: str) -> str:
    """`ts` plus `seconds` (rounded to the microsecond)."""
    return f"({ts} + to_microseconds(CAST(round(({seconds}) * 1e6) AS BIGINT)))"


def event_order(alias: str) -> str:
    """The facts' order of a ticket's events: ts, then event id in natural order."""
    return f"{alias}.ts, length({alias}.event_id), {alias}.event_id"


# -- 1 and 2: which policy and targets apply --------------------------------------------


def condition_sql(policies: SlaPolicies, alias: str = "f") -> list[str]:
    """One SQL condition per policy: all its given conditions hold (case-blind)."""
    out = []
    for p in policies.policies:
        parts = []
        for field, values in p.conditions.given().items():
            listed = ", ".join(lit(v.lower()) for v in values)
            if field == "tags":
                parts.append(f"coalesce(list_has_any(list_transform({alias}.tags, lambda x: lower(x)), [{listed}]), false)")
            else:
                parts.append(f"coalesce(lower({alias}.{field}) IN ({listed}), false)")
        out.append(" AND ".join(parts) if parts else "true")
    return out


def ticket_rows(policies: SlaPolicies, schedule_expr: str) -> str:
    """Step 1: `_sla_tk`. `schedule_expr` picks a ticket's own schedule from `f.*`."""
    whens = " ".join(f"WHEN {c} THEN {i}" for i, c in enumerate(condition_sql(policies)))
    policy_idx = f"CASE WHEN f.excluded OR f.created_at IS NULL THEN NULL {whens} END" if whens else "NULL::INTEGER"
    return f"""
    CREATE OR REPLACE TEMP TABLE _sla_tk AS
    SELECT f.source, f.ticket_id, f.created_at, f.created_by, f.priority, f.channel, f.team, f.assignee_id,
           f.customer_tier, f.solved, f.last_solved_at, f.first_reply_at, f._event_rows, f._ticket_row,
           CAST({policy_idx} AS INTEGER) AS policy_idx,
           {schedule_expr} AS ticket_schedule
    FROM ticket_facts f SEMI JOIN _sla_scope k ON {keys_match('f', 'k')}
    """


def config_rows(policies: SlaPolicies) -> tuple[str, list[tuple[object, ...]]]:
    """`_sla_cfg`: one row per (policy, metric, priority key) with its target: the DDL
    and the rows to insert."""
    rows: list[tuple[object, ...]] = []
    for i, p in enumerate(policies.policies):
        for t in p.targets:
            for key, seconds in t.seconds.items():
                rows.append((i, p.name, t.metric.value, key, seconds, t.business, p.schedule_of(t)))
    ddl = """
    CREATE OR REPLACE TEMP TABLE _sla_cfg (
        policy_idx INTEGER, policy VARCHAR, metric VARCHAR, pkey VARCHAR, target_s DOUBLE, business BOOLEAN,
        schedule VARCHAR
    )"""
    return ddl, rows


def policy_names(policies: SlaPolicies) -> str:
    """A CASE giving the name of policy `t.policy_idx`."""
    whens = " ".join(f"WHEN {i} THEN {lit(p.name)}" for i, p in enumerate(policies.policies))
    return f"CASE t.policy_idx {whens} END" if whens else "NULL"


def ticket_targets() -> str:
    """Step 2: `_sla_tt`: the targets that apply, one per ticket and metric (the ticket's
    priority's own time, else the policy's `default`)."""
    return f"""
    CREATE OR REPLACE TEMP TABLE _sla_tt AS
    SELECT t.source, t.ticket_id, c.policy, c.metric, c.target_s, c.business,
           CASE WHEN c.business THEN coalesce(c.schedule, t.ticket_schedule) END AS schedule
    FROM _sla_tk t
    JOIN _sla_cfg c ON c.policy_idx = t.policy_idx AND c.pkey IN (coalesce(lower(t.priority), ''), '{DEFAULT_PRIORITY}')
    QUALIFY row_number() OVER (PARTITION BY t.source, t.ticket_id, c.metric ORDER BY c.pkey = '{DEFAULT_PRIORITY}') = 1
    """


def fingerprints(policies: SlaPolicies) -> str:
    """`_sla_fp`: per ticket in `_sla_tk`, its policy and a hash of every target that
    applies with its schedule's digest (`_sla_sched`): a change of any of them, and
    only that, changes the hash."""
    return f"""
    CREATE OR REPLACE TEMP TABLE _sla_fp AS
    SELECT t.source, t.ticket_id, {policy_names(policies)} AS policy, t._event_rows, t._ticket_row,
           hash({policy_names(policies)}, g.targets) AS fingerprint
    FROM _sla_tk t
    LEFT JOIN (
        SELECT tt.source, tt.ticket_id,
               string_agg(tt.metric || '=' || tt.target_s || ':' || tt.business || ':' || coalesce(tt.schedule, '')
                          || ':' || coalesce(s.digest, ''), ',' ORDER BY tt.metric) AS targets
        FROM _sla_tt tt LEFT JOIN _sla_sched s ON s.schedule = tt.schedule
        GROUP BY tt.source, tt.ticket_id
    ) g ON {keys_match('g', 't')}
    """


# -- 3 to 6: events, statuses, cycles, spans --------------------------------------------


def clock_events() -> str:
    """Step 3: `_sla_ev`, the events of tickets with targets, from the facts' stream."""
    stream = "CASE WHEN e.origin = 'tickets' THEN 'tickets' ELSE 'events' END"
    return f"""
    CREATE OR REPLACE TEMP TABLE _sla_ev AS
    SELECT source, ticket_id, ts, event_id, kind, actor_type, public, status_to,
           row_number() OVER (PARTITION BY source, ticket_id ORDER BY {event_order('x')}) AS rn
    FROM (
        SELECT e.source, e.ticket_id, e.ts, e.event_id, e.kind, e.actor_type, e.public, e.status_to,
               {stream} AS stream
        FROM events e
        SEMI JOIN (SELECT DISTINCT source, ticket_id FROM _sla_tt) k ON {keys_match('e', 'k')}
        WHERE e.ticket_id IS NOT NULL AND e.ts IS NOT NULL
          AND (e.kind IN ('created', 'status') OR (e.kind = 'message' AND coalesce(e.public, true)))
        QUALIFY stream = min(stream) OVER (PARTITION BY e.source, e.ticket_id)
    ) x
    """


def status_intervals() -> str:
    """Step 4: `_sla_iv`: from creation, the status the created event gives (else new),
    then each status change; intervals end at the next change, the last one is open.
    Changes at one instant apply in event order (the last one holds); changes before
    creation count from creation."""
    return f"""
    CREATE OR REPLACE TEMP TABLE _sla_iv AS
    WITH c AS (
        SELECT t.source, t.ticket_id, t.created_at, coalesce(i.status, 'new') AS status
        FROM (SELECT DISTINCT tk.source, tk.ticket_id, tk.created_at FROM _sla_tk tk
              SEMI JOIN _sla_tt tt ON {keys_match('tk', 'tt')}) t
        LEFT JOIN (SELECT source, ticket_id, arg_min(status_to, rn) AS status FROM _sla_ev
                   WHERE kind = 'created' AND status_to IS NOT NULL GROUP BY ALL) i ON {keys_match('i', 't')}
    ), changes AS (
        SELECT source, ticket_id, created_at AS ts, 0 AS rn, status FROM c
        UNION ALL
        SELECT e.source, e.ticket_id, greatest(e.ts, c.created_at), e.rn, e.status_to
        FROM _sla_ev e JOIN c ON {keys_match('e', 'c')}
        WHERE e.kind = 'status' AND e.status_to IS NOT NULL
    ), last_at_instant AS (
        SELECT source, ticket_id, ts, arg_max(status, rn) AS status FROM changes GROUP BY ALL
    )
    SELECT source, ticket_id, status, ts AS iv_from,
           lead(ts) OVER (PARTITION BY source, ticket_id ORDER BY ts) AS iv_to
    FROM last_at_instant
    """


def cycles(metrics: Sequence[SlaMetric]) -> str:
    """Step 5: `_sla_cyc`: one row per applicable target and cycle.

    - first reply: creation -> the first public human agent reply (tickets the customer
      created);
    - next reply: a public customer message right after a public agent message (the
      oldest one not answered) -> the next public agent message;
    - periodic and pausable update: a public agent message -> the next one; none starts
      while the ticket is solved, nor at the instant it is solved;
    - total resolution, requester wait, agent work time: creation -> the latest solve,
      while the ticket is solved now (one with a solved status but no solve time has
      no such targets: there is nothing to measure).

    An open reply or update cycle is completed by the first solve at or after its start."""
    wanted = {m.value for m in metrics}
    parts = []
    if "first_reply" in wanted:
        parts.append("""
        SELECT source, ticket_id, 'first_reply' AS metric, 'reply' AS kind, created_at AS started_at,
               first_reply_at AS done_by
        FROM _sla_tk WHERE created_by = 'customer'""")
    if "next_reply" in wanted:
        parts.append("""
        SELECT source, ticket_id, 'next_reply', 'reply', ts, next_agent_at FROM m WHERE NOT agent AND prev_agent""")
    updates = sorted(wanted & {m.value for m in UPDATE_METRICS})
    if updates:
        parts.append(f"""
        SELECT m.source, m.ticket_id, u.metric, 'update', m.ts, m.next_agent_at
        FROM m, (SELECT unnest([{", ".join(lit(m) for m in updates)}]) AS metric) u WHERE m.agent""")
    ticket_level = sorted(wanted & {m.value for m in TICKET_METRICS})
    if ticket_level:
        parts.append(f"""
        SELECT t.source, t.ticket_id, u.metric, 'ticket', t.created_at, CASE WHEN t.solved THEN t.last_solved_at END
        FROM _sla_tk t, (SELECT unnest([{", ".join(lit(m) for m in ticket_level)}]) AS metric) u
        WHERE NOT (t.solved AND t.last_solved_at IS NULL)""")
    if not parts:
        parts.append("""
        SELECT NULL AS source, NULL AS ticket_id, NULL AS metric, NULL AS kind, NULL::TIMESTAMPTZ AS started_at,
               NULL::TIMESTAMPTZ AS done_by WHERE false""")
    union = "\n        UNION ALL".join(parts)
    return f"""
    CREATE OR REPLACE TEMP TABLE _sla_cyc AS
    WITH m AS (  -- public customer and human agent messages, in order
        SELECT source, ticket_id, ts, agent,
               lag(agent) OVER w AS prev_agent,
               lead(CASE WHEN agent THEN ts END IGNORE NULLS) OVER w AS next_agent_at
        FROM (SELECT source, ticket_id, ts, rn, actor_type = 'agent' AS agent FROM _sla_ev
              WHERE kind = 'message' AND actor_type IN ('customer', 'agent'))
        WINDOW w AS (PARTITION BY source, ticket_id ORDER BY rn)
    ), c AS (
        SELECT * FROM ({union}
        ) AS x(source, ticket_id, metric, kind, started_at, done_by)
    ), j AS (  -- the cycles of the targets that apply
        SELECT c.*, tt.policy, tt.target_s, tt.business, tt.schedule
        FROM c JOIN _sla_tt tt ON {keys_match('c', 'tt')} AND tt.metric = c.metric
        WHERE c.started_at IS NOT NULL
    ), solves AS (
        SELECT source, ticket_id, ts FROM _sla_ev WHERE kind = 'status' AND status_to IN {DONE}
    ), r AS (  -- reply and update cycles: the first solve at or after the start completes them too
        SELECT j.*, least(j.done_by, s.ts) AS completed_at
        FROM (SELECT * FROM j WHERE kind <> 'ticket') j
        ASOF LEFT JOIN solves s ON {keys_match('s', 'j')} AND s.ts >= j.started_at
    ), u AS (  -- update cycles: none starts while solved, nor ends at its start
        SELECT r.* FROM (SELECT * FROM r WHERE kind = 'update') r
        ASOF LEFT JOIN _sla_iv i ON {keys_match('i', 'r')} AND i.iv_from <= r.started_at
        WHERE NOT coalesce(i.status IN {DONE} OR r.completed_at <= r.started_at, false)
    ), k AS (
        SELECT * FROM r WHERE kind = 'reply'
        UNION ALL SELECT * FROM u
        UNION ALL SELECT *, done_by AS completed_at FROM j WHERE kind = 'ticket'
    )
    SELECT row_number() OVER () AS tkey, source, ticket_id, policy, metric,
           row_number() OVER (PARTITION BY source, ticket_id, metric ORDER BY started_at, completed_at) AS cycle,
           target_s, business, schedule, started_at, completed_at
    FROM k
    """


def spans() -> str:
    """Step 6: `_sla_spans_raw`: where each cycle's clock runs; an open span (to NULL)
    runs on. Empty spans are left out. `measured_spans` adds their running seconds."""
    running = " UNION ALL ".join(
        f"SELECT {lit(m.value)} AS metric, {lit(s)} AS status" for m, sts in RUNNING_STATUSES.items() for s in sts
    )
    always = ", ".join(lit(m.value) for m in ALWAYS_RUNNING)
    return f"""
    CREATE OR REPLACE TEMP TABLE _sla_spans_raw AS
    SELECT tkey, business, schedule, span_from, span_to FROM (
        SELECT c.tkey, c.business, c.schedule, c.started_at AS span_from, c.completed_at AS span_to
        FROM _sla_cyc c WHERE c.metric IN ({always})
        UNION ALL
        SELECT c.tkey, c.business, c.schedule, greatest(c.started_at, i.iv_from),
               CASE WHEN i.iv_to IS NULL AND c.completed_at IS NULL THEN NULL
                    ELSE least(i.iv_to, c.completed_at) END
        FROM _sla_cyc c
        JOIN ({running}) r ON r.metric = c.metric
        JOIN _sla_iv i ON {keys_match('i', 'c')} AND i.status = r.status
         AND (i.iv_to IS NULL OR i.iv_to > c.started_at)
         AND (c.completed_at IS NULL OR i.iv_from < c.completed_at)
    )
    WHERE span_to IS NULL OR span_to > span_from
    """


# -- 7: banked time and due times ----------------------------------------------------------


def measured_spans(business_sql: str) -> str:
    """`_sla_spans`: the spans with `dur`, the running seconds of a closed span (NULL
    for the open one): calendar seconds, or for business spans those of `business_sql`
    (a SELECT of the business rows of `_sla_spans_raw` with `dur`, see `_business`)."""
    return f"""
    CREATE OR REPLACE TEMP TABLE _sla_spans AS
    SELECT *, CASE WHEN span_to IS NOT NULL THEN {secs('span_from', 'span_to')} END AS dur
    FROM _sla_spans_raw WHERE NOT business
    UNION ALL BY NAME
    {business_sql}
    """


def new_targets() -> str:
    """`_sla_new_raw`: per cycle, the banked running seconds, the open span's start, and the
    span where the running time reaches the target with the seconds still to run in it
    (`due_from`, `due_rest_s`; the due time is `due_from` plus them, in calendar or
    business time). Without such a span the target is either completed before its due
    (the due is projected from the completion: what it would have been had the clock
    run on) or paused short of it (no due time)."""
    reach = "s.span_to IS NULL OR s.cum_before + s.dur >= c.target_s"
    return f"""
    CREATE OR REPLACE TEMP TABLE _sla_new_raw AS
    WITH s AS (
        SELECT tkey, span_from, span_to, dur,
               coalesce(sum(dur) OVER (PARTITION BY tkey ORDER BY span_from
                                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS cum_before
        FROM _sla_spans
    ), a AS (
        SELECT c.tkey,
               coalesce(sum(s.dur), 0) AS banked_s,
               max(s.span_from) FILTER (s.span_to IS NULL) AS running_since,
               min(s.span_from) FILTER ({reach}) AS due_span
        FROM _sla_cyc c LEFT JOIN s ON s.tkey = c.tkey
        GROUP BY c.tkey
    )
    SELECT c.*, a.banked_s, a.running_since,
           coalesce(s.span_from, c.completed_at) AS due_from,
           CASE WHEN s.span_from IS NOT NULL THEN c.target_s - s.cum_before
                WHEN c.completed_at IS NOT NULL THEN c.target_s - a.banked_s END AS due_rest_s
    FROM _sla_cyc c
    JOIN a ON a.tkey = c.tkey
    LEFT JOIN s ON s.tkey = c.tkey AND s.span_from = a.due_span
    """


def due_times(business_sql: str) -> str:
    """`_sla_new`: `_sla_new_raw` with `due_at`: `due_rest_s` after `due_from`, in
    calendar seconds, or for business targets as `business_sql` computes it (a SELECT
    of the business rows of `_sla_new_raw` with `due_at`, see `_business`)."""
    return f"""
    CREATE OR REPLACE TEMP TABLE _sla_new AS
    SELECT *, {plus_secs('due_from', 'due_rest_s')} AS due_at FROM _sla_new_raw WHERE NOT business
    UNION ALL BY NAME
    {business_sql}
    """


# -- states ------------------------------------------------------------------------------

STATE_COMPLETED = "CASE WHEN completed_at <= due_at THEN 'achieved' ELSE 'breached' END"


def insert_targets(into: str = "sla_targets") -> str:
    """Write the new cycles to `into` (sla_targets, or a table of its columns) with the
    dimensions of their ticket; the states of completed targets are final here, open ones
    are set by `evaluate`."""
    return f"""
    INSERT INTO {into} BY NAME
    SELECT n.source, n.ticket_id, n.policy, n.metric, n.cycle, t.priority, t.channel, t.team, t.assignee_id,
           t.customer_tier, n.business, n.schedule, n.target_s, n.started_at, n.due_at, n.completed_at,
           CASE WHEN n.completed_at IS NOT NULL THEN n.banked_s END AS elapsed_s,
           CASE WHEN n.completed_at IS NOT NULL THEN n.target_s - n.banked_s END AS seconds_left,
           CASE WHEN n.completed_at IS NOT NULL THEN {STATE_COMPLETED} ELSE 'active' END AS state,
           CASE WHEN n.completed_at IS NOT NULL AND NOT (n.completed_at <= n.due_at) THEN n.due_at END AS breached_at,
           CASE WHEN n.completed_at IS NOT NULL
                THEN CASE WHEN n.completed_at <= n.due_at THEN n.completed_at ELSE n.due_at END END AS settled_at,
           (SELECT now FROM _sla_now) AS evaluated_at,
           n.banked_s AS _banked_s, n.running_since AS _running_since
    FROM _sla_new n JOIN _sla_tk t ON {keys_match('n', 't')}
    """


def open_raw() -> str:
    """`_sla_open_raw`: the targets not completed, with now."""
    return """
    CREATE OR REPLACE TEMP TABLE _sla_open_raw AS
    SELECT s.source, s.ticket_id, s.metric, s.cycle, s.business, s.schedule, s._running_since, n.now
    FROM sla_targets s, _sla_now n
    WHERE s.completed_at IS NULL
    """


def open_targets(business_sql: str) -> str:
    """`_sla_open`: `_sla_open_raw` with `run_s`, the running time of the open span up to
    now: calendar seconds, or for business targets as `business_sql` computes it (a
    SELECT of the running business rows with `run_s`, see `_business`); 0 when paused."""
    return f"""
    CREATE OR REPLACE TEMP TABLE _sla_open AS
    SELECT *, CASE WHEN _running_since IS NULL THEN 0.0
                   ELSE greatest({secs('_running_since', 'now')}, 0) END AS run_s
    FROM _sla_open_raw WHERE NOT business OR _running_since IS NULL
    UNION ALL BY NAME
    {business_sql}
    """


def evaluate() -> str:
    """The states of the targets not completed, at `now`: breached once past due (the
    breach time is the due time), else paused when the clock is not running, else
    active; elapsed and remaining running time as of now."""
    return f"""
    UPDATE sla_targets AS s SET
        elapsed_s = s._banked_s + o.run_s,
        seconds_left = s.target_s - s._banked_s - o.run_s,
        state = CASE WHEN s.due_at < n.now THEN 'breached'
                     WHEN s._running_since IS NULL THEN 'paused' ELSE 'active' END,
        breached_at = CASE WHEN s.due_at < n.now THEN s.due_at END,
        settled_at = CASE WHEN s.due_at < n.now THEN s.due_at END,
        evaluated_at = n.now
    FROM _sla_open o, _sla_now n
    WHERE s.completed_at IS NULL AND {keys_match('s', 'o')} AND s.metric = o.metric AND s.cycle = o.cycle
    """
