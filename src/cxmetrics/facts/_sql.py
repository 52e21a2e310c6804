"""The set-based SQL that derives ticket facts from events.

Every step is one statement over whole tables (or over the tickets in scope): GROUP
BYs, window passes over the few events that need an order, and joins; nothing loops
over tickets. The steps, each a temp table or view that the next one reads:

1. `_fx_agg`: one row per (ticket, stream): a ticket's events imported as events are
   one stream, those implied by its flat row (`origin = 'tickets'`) the other. What
   needs no order (counts, first and last times, calls) is one GROUP BY over all the
   events; what needs the events before (the previous status, assignee, team, hold)
   comes from window passes over only the status changes, the routing events and the
   holds, each carrying the few columns it reads (see `stream_aggregates`).
2. `_fx_tk`: one row per ticket: the stream to use (events if any, else the implied
   ones) joined to the ticket's row in `tickets`.
3. the fact columns, computed from `_fx_tk` as they are written (`fact_select`).
4. `_fx_repeat`: whether another ticket of the same requester on the same topic was
   created within 7 days after (for FCR), by a RANGE window.
5. reply intervals, from a window pass over public customer and agent messages.
6. contacts: calls (a window pass numbering the call events by the call_queued events
   before them), and chats offered to agents, from the ticket rows.

The order of a ticket's events is by ts, then, for events at the same instant, by
event id in natural order: the shorter id first, then as text (`event_order`), so
that ids numbered by a counter keep their order (`T1-9` before `T1-10`, which as text
would come first). Ids of the same length compare as text.

The window passes partition by one integer per (ticket, stream), a hash of its three
texts (`HASH_KEY`), which sorts and joins much faster than the texts. Should two
(ticket, stream)s share a hash, `_refresh._derive` sees it and derives again keyed
by a struct of the texts (`STRUCT_KEY`).

`scoped` statements read only the tickets in temp table `_fx_targets`, and their events
from `_fx_ev` (copied from `events` once: a scan of the whole table costs more than
all the rest of an incremental refresh).
"""

from __future__ import annotations

from collections.abc import Callable

from cxmetrics.facts._columns import FACT_COLUMNS, FCR_REPEAT_DAYS, SHORT_ABANDON_S

STREAM = "CASE WHEN e.origin = 'tickets' THEN 'tickets' ELSE 'events' END"
CALL_KINDS = ("call_queued", "call_answered", "call_abandoned", "call_ended", "hold_start", "hold_end", "wrap_up_end")
OPEN_STATUSES = "('new', 'open', 'pending', 'on-hold')"
# time in status: a fact's name without `_s` -> the statuses it sums
IN_STATUS = {"requester_wait": "('new', 'open', 'on-hold')", "agent_wait": "('pending')", "on_hold": "('on-hold')",
             "agent_work": "('new', 'open')"}
DONE_STATUSES = "('solved', 'closed')"
PUBLIC_MESSAGE = "e.kind = 'message' AND coalesce(e.public, true)"
# the key of a (ticket, stream) that the window passes partition by and step 1 joins on
# (see the module docstring)
HASH_KEY = f"hash(e.source, e.ticket_id, {STREAM})"
STRUCT_KEY = f"struct_pack(s := e.source, t := e.ticket_id, m := {STREAM})"
TEMP_TABLES = (
    "_fx_fresh", "_fx_targets", "_fx_ev", "_fx_agg", "_fx_tk", "_fx_groups", "_fx_repeat", "_fx_open", "_fx_replies",
    "_fx_contacts", "_fx_changed",
)
# the columns of `events` the facts read (not body: texts are long)
EVENT_COLUMNS = (
    "source", "event_id", "ticket_id", "ts", "kind", "actor_type", "actor_id", "public", "status_from", "status_to",
    "duration_s", "assignee_id", "team", "priority", "origin",
)


def event_order(alias: str) -> str:
    """The order of a ticket's events: by ts, then (ties) by event id in natural order:
    a shorter id first, so that `T1-9` comes before `T1-10`."""
    return f"{alias}.ts, length({alias}.event_id), {alias}.event_id"


def secs(start: str, end: str) -> str:
    """Calendar seconds from `start` to `end` (DOUBLE, microsecond precision)."""
    return f"((epoch_us({end}) - epoch_us({start})) / 1e6)"


def scope(alias: str, scoped: bool) -> str:
    """A semi join that keeps the rows of the tickets in `_fx_targets`."""
    if not scoped:
        return ""
    return f"SEMI JOIN _fx_targets _in ON {alias}.source = _in.source AND {alias}.ticket_id = _in.ticket_id"


def events(scoped: bool) -> str:
    """The events to read: all of them, or the copy of those of the tickets in scope."""
    return "_fx_ev" if scoped else "events"


def scoped_events() -> str:
    return f"""
    CREATE OR REPLACE TEMP TABLE _fx_ev AS
    SELECT {", ".join("e." + c for c in EVENT_COLUMNS)}
    FROM events e {scope('e', True)} WHERE e.ticket_id IS NOT NULL
    """


def keys_match(a: str, b: str) -> str:
    return f"{a}.source = {b}.source AND {a}.ticket_id = {b}.ticket_id"


def stream_aggregates(scoped: bool, key: str = HASH_KEY, status_b: Callable[[str], str] | None = None) -> str:
    """Step 1: `_fx_agg`, one row per (source, ticket_id, stream), with its key `_k`.

    What needs no order is one GROUP BY over all the events (`p`). What does is
    computed by window passes over the few events that need it, each carrying only the
    columns it reads and partitioned by the one-column key: status changes (`s`: the
    previous status, so solves, reopens and the time in each status), routing (`r`:
    created, assign and priority events: the initial status, the changes of assignee
    and team, the current ones) and holds (`h`). A reply after the bot (hand-off) is
    read from the last agent reply and the first bot message, ties at the same ts
    settled, with the first reply after a hand-off, by a join that reads only the
    messages of the tickets concerned (`f`). A ticket whose first message is a public
    agent message (an agent-created ticket's opening comment, when `created_by` says so
    and it is stamped at creation: step 2) gets its first reply and touch after that message by a join over the
    messages of only those tickets (`o`). Which message is first (ties at the same ts
    settled by event order) is read only where it may be a public agent message, the first
    such being as early as the first message (`m1`: at 300k tickets, ordering every
    ticket's messages in `p` instead cost 0.3 s).

    `status_b` (business time folded into this pass, `_business.BusinessPlan`): wraps the
    status events (`_k, source, ticket_id, ts, event_id, status_to, status_from, actor_id`)
    into the same rows without source and ticket_id, plus `b_us`, B(ts) in whole
    microseconds under the ticket's schedule. Then `s` also sums the business microseconds
    spent in each status (`{name}_bh_s_tail`, telescoped as the calendar tails) and keeps B of
    the first status event (`first_status_b`), which `_business.ticket_twins` reads from
    `_fx_tk` instead of a pass of its own over the status events (`_business.status_sums`)."""
    ev = events(scoped)
    calls = ", ".join(f"'{k}'" for k in CALL_KINDS)
    agent_msg = f"{PUBLIC_MESSAGE} AND e.actor_type = 'agent'"
    bot_msg = f"{PUBLIC_MESSAGE} AND e.actor_type = 'bot'"
    # (each window pass partitions by `_k` computed once per event in a subquery: at 300k, the
    # status pass 0.83 -> 0.71 s against the key written in both its select list and its window)
    win = f"WINDOW w AS (PARTITION BY e._k ORDER BY {event_order('e')})"
    tie_key = "(length(e.event_id), e.event_id)"
    # Time in status, summed in whole microseconds (exact: the same events always give the same
    # bits; seconds summed as DOUBLEs came out in the engine's order of addition, which varies
    # between runs). It counts only for a ticket solved now, whose last status event is a
    # solve or a close, so every interval ends by the last status event and the time in the
    # statuses S telescopes: the sum over the intervals in S of (end - start) is the sum over
    # the events of t * ([the status before is in S] - [the event's status is in S]) (the
    # last event's status is done, never in S). So no window carries the time of the event
    # before, nor of the last solve (at 300k, this pass 0.69-0.74 s with both, 0.66 without).
    def tail(statuses: str, value: str) -> str:
        into, out = f"coalesce(prev_st IN {statuses}, false)", f"(st IN {statuses})"
        return f"sum((CAST({into} AS BIGINT) - CAST({out} AS BIGINT)) * {value}) FILTER ({into} OR {out})"
    sums = {f"{name}_tail_s": f"{tail(statuses, 'us')} / 1e6" for name, statuses in IN_STATUS.items()}
    # the status events `s` orders: with B of each (`status_b`) when business time is folded in
    columns = "e.ts, e.event_id, e.status_to, e.status_from, e.actor_id"
    status = f"FROM {ev} e WHERE e.ticket_id IS NOT NULL AND e.kind = 'status' AND e.status_to IS NOT NULL"
    if status_b is None:
        status_events = f"SELECT {key} AS _k, {columns} {status}"
    else:
        status_events = status_b(f"SELECT {key} AS _k, e.source, e.ticket_id, {columns} {status}")
        sums["first_status_b"] = "arg_min(b_us, rn)"
        sums.update({f"{name}_bh_s_tail": tail(statuses, "b_us") for name, statuses in IN_STATUS.items()})
    s_sums = ",\n            ".join(f"{expr} AS {name}" for name, expr in sums.items())
    s_columns = ", ".join(f"s.{name}" for name in sums)
    order_key = "(e.ts, length(e.event_id), e.event_id)"
    return f"""
    CREATE OR REPLACE TEMP TABLE _fx_agg AS
    WITH p AS MATERIALIZED (
        -- (what follows from another aggregate is derived from it, not aggregated again: at
        -- 300k tickets, these three cost p a fifth of its time)
        SELECT *, least(first_reply_at, first_bot_at) AS first_touch_at, first_bot_at IS NOT NULL AS bot_involved,
            handoff_at IS NOT NULL AS handoff
        FROM (
        SELECT e.source, e.ticket_id, {STREAM} AS stream, any_value({key}) AS _k,
            count(*) AS n_events,
            min(e.ts) AS first_event_at,
            max(e.ts) AS last_event_at,
            min(e.ts) FILTER (e.kind = 'created') AS created_event_at,
            min(e.ts) FILTER ({agent_msg}) AS first_reply_at,
            max(e.ts) FILTER ({agent_msg}) AS last_reply_at,
            min(e.ts) FILTER ({bot_msg}) AS first_bot_at,
            count(*) FILTER ({agent_msg}) AS agent_replies,
            -- when the first message (public or private, anyone's) was: an opening comment if a
            -- public agent one (`m1`)
            min(e.ts) FILTER (e.kind = 'message') AS first_message_at,
            min(e.ts) FILTER (e.kind = 'handoff') AS handoff_at,
            bool_or(e.kind = 'merged') AS merged,
            bool_or(e.kind IN ({calls})) AS has_call,
            min(e.ts) FILTER (e.kind = 'call_queued') AS call_queued_at,
            min(e.ts) FILTER (e.kind = 'call_answered') AS call_answered_at,
            min(e.ts) FILTER (e.kind = 'call_abandoned') AS call_abandoned_at,
            sum(e.duration_s) FILTER (e.kind = 'call_ended') AS talk_s,
            sum(e.duration_s) FILTER (e.kind = 'wrap_up_end') AS wrap_s
        FROM {ev} e
        WHERE e.ticket_id IS NOT NULL
        GROUP BY e.source, e.ticket_id, stream
        )
    ), s AS (  -- status changes, each with the one before
        SELECT _k,
            min(ts) FILTER (solve) AS first_solved_at,
            max(ts) FILTER (solve) AS last_solved_at,
            arg_max_null(actor_id, rn) FILTER (solve) AS solver_id,
            arg_max(st, rn) AS last_status,
            min(ts) AS first_status_at,
            count(*) FILTER (st IN {OPEN_STATUSES} AND coalesce(prev_st, status_from) IN {DONE_STATUSES}) AS reopens,
            {s_sums}
        FROM (
            SELECT *,
                -- a solve: a move to solved (or straight to closed) from a status that was not
                -- done; solved -> closed, or a repeated solved, is no new solve
                st IN {DONE_STATUSES} AND coalesce(prev_st, '') NOT IN {DONE_STATUSES} AS solve,
                epoch_us(ts) AS us
            FROM (
                SELECT e._k, e.ts, e.status_to AS st, e.status_from, e.actor_id{'' if status_b is None else ', e.b_us'},
                    row_number() OVER w AS rn,
                    lag(e.status_to) OVER w AS prev_st
                FROM ({status_events}) e
                WINDOW w AS (PARTITION BY e._k ORDER BY {event_order('e')})
            )
        )
        GROUP BY _k
    ), r AS (  -- routing: created, assign and priority events
        SELECT _k,
            arg_min(status_to, rn) FILTER (kind = 'created') AS initial_status,
            arg_min_null(actor_type, rn) FILTER (kind = 'created') AS created_actor,
            arg_max(assignee_id, rn) FILTER (kind = 'assign') AS last_assignee,
            arg_max(team, rn) FILTER (kind = 'assign') AS last_team,
            arg_max(priority, rn) FILTER (kind = 'priority') AS last_priority,
            count(*) FILTER (kind = 'assign' AND assignee_id <> prev_assignee) AS assignee_changes,
            count(*) FILTER (kind = 'assign' AND team <> prev_team) AS team_changes
        FROM (
            SELECT e._k, e.kind, e.status_to, e.actor_type, e.assignee_id, e.team, e.priority,
                row_number() OVER w AS rn,
                lag(CASE WHEN e.kind <> 'priority' THEN e.assignee_id END IGNORE NULLS) OVER w AS prev_assignee,
                lag(CASE WHEN e.kind <> 'priority' THEN e.team END IGNORE NULLS) OVER w AS prev_team
            FROM (SELECT {key} AS _k, e.ts, e.event_id, e.kind, e.status_to, e.actor_type, e.assignee_id, e.team,
                         e.priority
                  FROM {ev} e WHERE e.ticket_id IS NOT NULL AND e.kind IN ('created', 'assign', 'priority')) e
            {win}
        )
        GROUP BY _k
    ), h AS (  -- holds: a hold_end without a duration ends the hold_start right before it
        SELECT _k,
            sum(coalesce(duration_s, CASE WHEN prev_kind = 'hold_start' THEN {secs('prev_ts', 'ts')} END))
                FILTER (kind = 'hold_end') AS hold_s
        FROM (
            SELECT e._k, e.kind, e.ts, e.duration_s, lag(e.kind) OVER w AS prev_kind, lag(e.ts) OVER w AS prev_ts
            FROM (SELECT {key} AS _k, e.ts, e.event_id, e.kind, e.duration_s
                  FROM {ev} e WHERE e.ticket_id IS NOT NULL AND e.kind IN ('hold_start', 'hold_end')) e
            {win}
        )
        GROUP BY _k
    ), f AS (  -- the messages of tickets with a hand-off, or with a reply at the ts of the first bot message
        SELECT q._k,
            min(e.ts) FILTER ({agent_msg} AND e.ts >= q.handoff_at) AS reply_after_handoff_at,
            max({tie_key}) FILTER ({agent_msg} AND e.ts = q.tie_at)
                > min({tie_key}) FILTER ({bot_msg} AND e.ts = q.tie_at) AS tie_after_bot
        FROM {ev} e
        JOIN (
            SELECT _k, handoff_at, CASE WHEN last_reply_at = first_bot_at THEN first_bot_at END AS tie_at
            FROM p WHERE handoff_at IS NOT NULL OR last_reply_at = first_bot_at
        ) q ON {key} = q._k AND (e.ts >= q.handoff_at OR e.ts = q.tie_at)
        WHERE e.ticket_id IS NOT NULL AND {PUBLIC_MESSAGE} AND e.actor_type IN ('agent', 'bot')
        GROUP BY q._k
    ), m1 AS (  -- the first message, when it may be a public agent message: one at the first message's ts
        SELECT q._k,
            arg_min({agent_msg}, {order_key}) AS opens_with_reply,
            arg_min(e.event_id, {order_key}) AS first_message_id
        FROM {ev} e
        JOIN (SELECT _k, first_message_at FROM p WHERE stream = 'events' AND first_reply_at = first_message_at) q
          ON {key} = q._k AND e.ts = q.first_message_at
        WHERE e.ticket_id IS NOT NULL AND e.kind = 'message'
        GROUP BY q._k
    ), o AS (  -- the first reply and touch after a first message that is a public agent message
        SELECT q._k,
            min(e.ts) FILTER (e.actor_type = 'agent') AS reply_after_opening_at,
            min(e.ts) AS touch_after_opening_at
        FROM {ev} e
        JOIN (SELECT _k, first_message_id FROM m1 WHERE opens_with_reply) q
          ON {key} = q._k AND e.event_id <> q.first_message_id
        WHERE e.ticket_id IS NOT NULL AND {PUBLIC_MESSAGE} AND e.actor_type IN ('agent', 'bot')
        GROUP BY q._k
    )
    SELECT p.source, p.ticket_id, p.stream, p._k, p.n_events, p.first_event_at, p.last_event_at,
        p.created_event_at, r.initial_status, r.created_actor,
        p.first_reply_at, p.first_touch_at, p.agent_replies, p.bot_involved,
        -- only a ticket's own events show its opening comment (an implied message is a reply)
        coalesce(m1.opens_with_reply, false) AS opens_with_reply, m1.first_message_id,
        p.first_message_at,
        o.reply_after_opening_at, o.touch_after_opening_at,
        -- a hand-off event, or a public human reply after a public bot message
        p.handoff OR p.last_reply_at > p.first_bot_at OR f.tie_after_bot AS handed_off,
        p.handoff_at, f.reply_after_handoff_at,
        s.first_solved_at, s.last_solved_at, s.solver_id, s.last_status, s.first_status_at,
        coalesce(s.reopens, 0) AS reopens,
        {s_columns},
        r.last_assignee, r.last_team, r.last_priority,
        coalesce(r.assignee_changes, 0) AS assignee_changes,
        coalesce(r.team_changes, 0) AS team_changes,
        p.merged, p.has_call, p.call_queued_at, p.call_answered_at, p.call_abandoned_at,
        p.talk_s, h.hold_s, p.wrap_s
    FROM p
    LEFT JOIN s ON s._k = p._k
    LEFT JOIN r ON r._k = p._k
    LEFT JOIN h ON h._k = p._k
    LEFT JOIN f ON f._k = p._k
    LEFT JOIN m1 ON m1._k = p._k
    LEFT JOIN o ON o._k = p._k
    """


# what `s` adds to `_fx_agg` and so to `_fx_tk` when business time is folded in (`stream_aggregates`)
FOLDED_BUSINESS = ("first_status_b", *(f"{name}_bh_s_tail" for name in IN_STATUS))


def ticket_rows(scoped: bool, *, business: bool = False) -> str:
    """Step 2: `_fx_tk`, one row per ticket: its stream's aggregates and its tickets row
    (and its stream's business sums, `FOLDED_BUSINESS`, with `business`: `stream_aggregates`
    was given `status_b`)."""
    # a flat-only ticket (or one without events) keeps what its source counted
    flat = "a.stream IS DISTINCT FROM 'events'"
    folded = "".join(f" a.{name}," for name in FOLDED_BUSINESS) if business else ""
    return f"""
    CREATE OR REPLACE TEMP TABLE _fx_tk AS
    WITH a AS (  -- the 'events' stream if there is one, counting the rows of both streams (two
                 -- joins whose build sides are one stream each: a quarter cheaper than a GROUP BY
                 -- over every ticket joined back, measured at 300k tickets)
        SELECT g.*, g.n_events + coalesce(x.n_events, 0) AS event_rows FROM _fx_agg g
        LEFT JOIN (SELECT source, ticket_id, n_events FROM _fx_agg WHERE stream = 'tickets') x ON {keys_match('g', 'x')}
        WHERE g.stream = 'events'
        UNION ALL
        SELECT g.*, g.n_events FROM _fx_agg g
        ANTI JOIN (SELECT source, ticket_id FROM _fx_agg WHERE stream = 'events') y ON {keys_match('g', 'y')}
        WHERE g.stream = 'tickets'
    ), t AS (
        SELECT * FROM tickets t {scope('t', scoped)}
    ), j AS (
        SELECT
            coalesce(t.source, a.source) AS source,
            coalesce(t.ticket_id, a.ticket_id) AS ticket_id,
            a.stream AS _stream,
            a._k,
            coalesce(t.created_at, a.created_event_at, a.first_event_at) AS created_at,
            t.channel,
            coalesce(a.last_priority, t.priority) AS priority,
            coalesce(a.last_team, t.team) AS team,
            coalesce(a.last_assignee, t.assignee_id) AS assignee_id,
            t.topic, t.tags, t.product, t.customer_tier, t.region, t.requester_id,
            coalesce(t.created_by, CASE a.created_actor WHEN 'agent' THEN 'agent' WHEN 'system' THEN 'system'
                                                         ELSE 'customer' END) AS created_by,
            -- implied events cannot say that a flat ticket was reopened: its row's status is newer
            coalesce(CASE WHEN {flat} THEN coalesce(t.status, a.last_status) ELSE coalesce(a.last_status, t.status) END,
                     'new') AS status,
            coalesce(t.status IN ('deleted', 'spam'), false) OR coalesce(a.merged, false) AS excluded,
            a.first_reply_at, a.first_touch_at, a.first_solved_at, a.last_solved_at,
            coalesce(a.opens_with_reply, false) AS opens_with_reply, a.first_message_id, a.first_message_at,
            a.reply_after_opening_at, a.touch_after_opening_at,
            CASE WHEN {flat} THEN coalesce(t.reopens_reported, a.reopens, 0) ELSE a.reopens END AS reopens,
            CASE WHEN {flat} THEN coalesce(t.replies_reported, a.agent_replies, 0) ELSE a.agent_replies END
                AS public_agent_replies,
            coalesce(a.initial_status, 'new') AS initial_status,
            greatest({secs('coalesce(t.created_at, a.created_event_at, a.first_event_at)', 'a.first_status_at')}, 0)
                AS initial_s,
            a.requester_wait_tail_s, a.agent_wait_tail_s, a.on_hold_tail_s, a.agent_work_tail_s,{folded}
            coalesce(a.assignee_changes, 0) AS assignee_changes,
            coalesce(a.team_changes, 0) AS team_changes,
            coalesce(a.bot_involved, false) AS bot_involved,
            coalesce(a.handed_off, false) AS handed_off,
            a.handoff_at, a.reply_after_handoff_at, a.solver_id,
            coalesce(a.has_call, false) AS has_call,
            a.call_queued_at, a.call_answered_at, a.call_abandoned_at,
            a.talk_s, a.hold_s, a.wrap_s, t.handle_s_reported,
            coalesce(a.n_events, 0) AS n_events,
            a.last_event_at,
            coalesce(a.event_rows, 0) AS _event_rows,
            t.ticket_id IS NOT NULL AS _ticket_row
        FROM t FULL JOIN a ON {keys_match('t', 'a')}
    )
    -- An agent-created ticket's opening comment is no reply: Zendesk counts neither it in
    -- replies and one-touch nor its time as the first reply, which is the agent's next public
    -- comment (support.zendesk.com articles 4408821871642 "Calculating first reply time" and
    -- 4408820618266 "How are one-touch resolutions calculated?"). It is the ticket's first
    -- message when that is a public agent message stamped at creation (Zendesk's first
    -- comment is part of creating the ticket: a comment an instant later is a reply); an
    -- opening comment carried as the created event's body is no message at all.
    -- `opening_id` lets step 2b leave it out too.
    SELECT * EXCLUDE (opens_with_reply, first_message_id, first_message_at, reply_after_opening_at,
                      touch_after_opening_at)
        REPLACE (
            CASE WHEN opening THEN reply_after_opening_at ELSE first_reply_at END AS first_reply_at,
            CASE WHEN opening THEN touch_after_opening_at ELSE first_touch_at END AS first_touch_at,
            public_agent_replies - CASE WHEN opening THEN 1 ELSE 0 END AS public_agent_replies
        ),
        CASE WHEN opening THEN first_message_id END AS opening_id,
        status IN {DONE_STATUSES} AS solved
    FROM (SELECT *, opens_with_reply AND created_by = 'agent' AND first_message_at <= created_at AS opening FROM j)
    """


def early_reply_fixup(scoped: bool) -> str:
    """Step 2b: the first replies must be at or after creation. The window pass does not
    know a ticket's created_at (it comes from the tickets row), so the rare tickets with
    a reply before it are corrected here, reading only their events."""
    return f"""
    UPDATE _fx_tk AS t SET first_reply_at = x.first_reply_at, first_touch_at = x.first_touch_at
    FROM (
        SELECT b.source, b.ticket_id,
               min(e.ts) FILTER (e.actor_type = 'agent') AS first_reply_at,
               min(e.ts) AS first_touch_at
        FROM (SELECT source, ticket_id, _stream, created_at, opening_id FROM _fx_tk
              WHERE first_touch_at < created_at OR first_reply_at < created_at) b
        LEFT JOIN {events(scoped)} e
               ON {keys_match('e', 'b')} AND {STREAM} = b._stream AND e.ts >= b.created_at
              AND {PUBLIC_MESSAGE} AND e.actor_type IN ('agent', 'bot') AND e.event_id IS DISTINCT FROM b.opening_id
        GROUP BY b.source, b.ticket_id
    ) x
    WHERE {keys_match('t', 'x')}
    """


def fact_view() -> str:
    """Step 3 as a view, `_fx_new` (the Spark engine's steps name it)."""
    return f"CREATE OR REPLACE TEMP VIEW _fx_new AS {fact_select()}"


def fact_select() -> str:
    """Step 3: the fact columns of the tickets in `_fx_tk` (fcr is set on insert); read
    where the facts are written (a view of it cost its own binding, 2 ms of a live batch)."""
    customer = "created_by = 'customer'"
    solved_only = lambda expr: f"CASE WHEN solved THEN {expr} END"  # noqa: E731

    def in_status(tail: str, statuses: str) -> str:
        initial = f"CASE WHEN initial_status IN {statuses} THEN coalesce(initial_s, 0) ELSE 0 END"
        # only a ticket solved now: a reopened, still-open ticket's last solve is stale
        return f"CASE WHEN solved AND last_solved_at IS NOT NULL THEN coalesce({tail}, 0) + {initial} END"

    abandon_wait = secs("call_queued_at", "call_abandoned_at")
    has_handling = "coalesce(talk_s, hold_s, wrap_s) IS NOT NULL"
    bot_contained = "bot_involved AND solved AND NOT handed_off AND public_agent_replies = 0 AND reopens = 0"
    exprs = {
        # every ticket's (Zendesk's); the frt metric counts the customer-created ones
        "frt_s": secs("created_at", "first_reply_at"),
        "frt_first_touch_s": f"CASE WHEN {customer} THEN {secs('created_at', 'first_touch_at')} END",
        "unanswered": f"{customer} AND first_reply_at IS NULL AND NOT excluded",
        "first_resolution_s": secs("created_at", "first_solved_at"),
        "full_resolution_s": solved_only(secs("created_at", "last_solved_at")),
        "one_touch": solved_only("public_agent_replies = 1"),
        "two_touch": solved_only("public_agent_replies = 2"),
        "multi_touch": solved_only("public_agent_replies >= 3"),
        **{f"{name}_s": in_status(f"{name}_tail_s", statuses) for name, statuses in IN_STATUS.items()},
        "escalated": "team_changes > 0",
        "bot_contained": bot_contained,
        "frt_after_handoff_s": secs("handoff_at", "reply_after_handoff_at"),
        "resolved_by_type": f"CASE WHEN NOT solved THEN NULL WHEN {bot_contained} THEN 'bot' ELSE 'human' END",
        "resolver_id": solved_only("coalesce(solver_id, assignee_id)"),
        "asa_s": secs("call_queued_at", "call_answered_at"),
        "call_abandoned": "CASE WHEN has_call THEN call_abandoned_at IS NOT NULL END",
        "abandon_wait_s": abandon_wait,
        "short_abandon": f"CASE WHEN has_call THEN coalesce({abandon_wait} < {SHORT_ABANDON_S}, false) END",
        "handle_s": f"CASE WHEN {has_handling} THEN coalesce(talk_s, 0) + coalesce(hold_s, 0) + coalesce(wrap_s, 0) "
                    "ELSE handle_s_reported END",
        "fcr": "NULL::BOOLEAN",
    }
    cols = [f"{exprs[c.name]} AS {c.name}" if c.name in exprs else c.name for c in FACT_COLUMNS]
    return f"""
    SELECT {", ".join(cols)}, _event_rows, _ticket_row, _stream
    FROM _fx_tk
    """


# fcr from a fact row `f` and its repeat flag `r.repeat`
FCR = "CASE WHEN {f}solved THEN {f}public_agent_replies <= 1 AND {f}reopens = 0 AND NOT coalesce({r}repeat, false) END"


def repeat_groups() -> str:
    """Step 4a (incremental): the (source, requester, topic) groups of the tickets in scope,
    before and after: the repeat flags of their other tickets may change too."""
    return """
    CREATE OR REPLACE TEMP TABLE _fx_groups AS
    SELECT DISTINCT source, requester_id, topic FROM (
        SELECT source, requester_id, topic FROM _fx_tk
        UNION ALL
        SELECT f.source, f.requester_id, f.topic FROM ticket_facts f
        SEMI JOIN _fx_targets k ON f.source = k.source AND f.ticket_id = k.ticket_id
    )
    WHERE requester_id IS NOT NULL AND topic IS NOT NULL
    """


def repeat_flags(scoped: bool, span: tuple[int, int] | None = None) -> str:
    """Step 4b: `_fx_repeat`: for each ticket of a group, whether another (not excluded,
    customer-created) ticket of the group was created within FCR_REPEAT_DAYS after it. `in_scope` marks
    the tickets being refreshed; the others are stored facts whose fcr may change: those with
    `affected`, see `update_neighbour_fcr`.

    `span` (epoch seconds, incremental only): the first and last creation of the tickets in
    scope, before and after. A flag looks FCR_REPEAT_DAYS ahead, so only the stored tickets
    created from that long before the span to its end can change (`affected`), and their flags
    need the group's tickets up to that long after it: the neighbours read are those, found
    by time first (the facts' row groups follow creation, so most are skipped) rather than
    every stored ticket of the groups."""
    window, affected = "", "true"
    if span is not None:
        # whole seconds, widened by one: the constants are exact and the bounds stay consistent
        lo, hi = f"to_timestamp({span[0] - 1})", f"to_timestamp({span[1] + 1})"
        days = f"INTERVAL {FCR_REPEAT_DAYS * 24} HOUR"  # as the window's frame: hours, whatever the time zone
        window = f"WHERE f.created_at BETWEEN {lo} - {days} AND {hi} + {days}"
        affected = f"f.created_at <= {hi}"
    neighbours = f"""
        UNION ALL
        SELECT f.source, f.ticket_id, f.requester_id, f.topic, f.created_at,
               NOT f.excluded AND f.created_by = 'customer', false, {affected}
        FROM ticket_facts f
        SEMI JOIN _fx_groups g ON f.source = g.source AND f.requester_id = g.requester_id AND f.topic = g.topic
        ANTI JOIN _fx_targets k ON {keys_match('f', 'k')}
        {window}
    """ if scoped else ""
    return f"""
    CREATE OR REPLACE TEMP TABLE _fx_repeat AS
    SELECT source, ticket_id, in_scope, affected,
           count(CASE WHEN contact THEN 1 END) OVER (
               PARTITION BY source, requester_id, topic ORDER BY created_at
               RANGE BETWEEN INTERVAL 1 MICROSECOND FOLLOWING AND INTERVAL {FCR_REPEAT_DAYS * 24} HOUR FOLLOWING
           ) > 0 AS repeat
    FROM (
        -- a repeat contact is a new ticket the customer opened (not an outbound one)
        SELECT source, ticket_id, requester_id, topic, created_at,
               NOT excluded AND created_by = 'customer' AS contact, true AS in_scope, true AS affected
        FROM _fx_tk WHERE requester_id IS NOT NULL AND topic IS NOT NULL
        {neighbours}
    )
    """


def insert_facts() -> str:
    """Step 6: the new facts written to ticket_facts (`fact_rows`)."""
    return f"INSERT INTO ticket_facts BY NAME {fact_rows()}"


def fact_rows() -> str:
    """The new facts' rows: with the fcr flag, when open tickets were reopened and since
    when their customers wait (`_fx_open`), and the ticket's discovered topic (the text
    layer's dimension, kept in ticket_text, carried over so a refresh never drops it)."""
    fcr = FCR.format(f="n.", r="r.")
    return f"""
    SELECT n.* EXCLUDE (fcr, _stream), {fcr} AS fcr, o.reopened_at, o.waiting_since, x.discovered_topic
    FROM ({fact_select()}) n LEFT JOIN _fx_repeat r ON {keys_match('n', 'r')}
    LEFT JOIN _fx_open o ON {keys_match('n', 'o')}
    LEFT JOIN ticket_text x ON {keys_match('n', 'x')}
    """


def open_tickets(scoped: bool) -> str:
    """Step 5b: `_fx_open`, for the tickets of `_fx_tk` open now (computed before their facts
    are written, not updated into them after: an update of rows just written costs the
    commit a rewrite of their columns):

    - `reopened_at`: when a ticket open now, although solved before, was reopened: its first
      status event back to an open status after its latest solve (what the backlog counts
      it open from; NULL for every other ticket, and for a flat import that carries no reopen);
    - `waiting_since`: since when its customer waits for a reply: their first public message
      after the last public agent reply (bot messages and private notes do not end a wait; a
      ticket its customer created waits from its creation until the first reply); NULL when
      nobody waits. The live queue reads it instead of every open ticket's messages on each
      request."""
    ev = events(scoped)
    return f"""
    CREATE OR REPLACE TEMP TABLE _fx_open AS
    WITH c AS (
        SELECT source, ticket_id, created_at, created_by, first_solved_at, last_solved_at FROM _fx_tk
        WHERE status NOT IN {DONE_STATUSES}
    ), reopened AS (
        SELECT c.source, c.ticket_id, min(e.ts) AS reopened_at
        FROM c JOIN {ev} e ON {keys_match('e', 'c')}
        WHERE c.first_solved_at IS NOT NULL
          AND e.kind = 'status' AND e.status_to IN {OPEN_STATUSES} AND e.ts > c.last_solved_at
        GROUP BY ALL
    ), m AS (
        SELECT e.source, e.ticket_id, e.ts, e.actor_type = 'agent' AS agent
        FROM {ev} e JOIN c ON {keys_match('e', 'c')}
        WHERE {PUBLIC_MESSAGE} AND e.actor_type IN ('customer', 'agent')
        UNION ALL
        SELECT source, ticket_id, created_at, false FROM c WHERE created_by = 'customer'
    ), r AS (
        SELECT source, ticket_id, max(ts) FILTER (agent) AS last_reply FROM m GROUP BY ALL
    ), waiting AS (
        SELECT m.source, m.ticket_id, min(m.ts) AS waiting_since
        FROM m JOIN r ON {keys_match('m', 'r')}
        WHERE NOT m.agent AND (r.last_reply IS NULL OR m.ts > r.last_reply)
        GROUP BY ALL
    )
    SELECT coalesce(o.source, w.source) AS source, coalesce(o.ticket_id, w.ticket_id) AS ticket_id,
           o.reopened_at, w.waiting_since
    FROM reopened o FULL JOIN waiting w ON {keys_match('o', 'w')}
    """


def update_neighbour_fcr() -> str:
    fcr = FCR.format(f="f.", r="r.")
    return f"""
    UPDATE ticket_facts AS f SET fcr = {fcr}
    FROM _fx_repeat r
    WHERE NOT r.in_scope AND r.affected AND {keys_match('f', 'r')} AND f.fcr IS DISTINCT FROM ({fcr})
    """


def reply_intervals(scoped: bool, key: str = HASH_KEY) -> str:
    """Step 5: the reply intervals of the tickets in `_fx_tk` created by their customer.

    Seq 1 runs from creation to the first reply. After that, over the public customer and
    agent messages in order, a customer message right after an agent message opens an
    interval that the next agent message closes (later customer messages before that
    reply are part of the same wait). `key` must be the key `_fx_agg` was derived with."""
    return f"""
    CREATE OR REPLACE TEMP TABLE _fx_replies AS
    WITH m AS (
        SELECT {key} AS _k, e.ts, e.event_id, e.actor_type = 'agent' AS agent
        FROM {events(scoped)} e
        WHERE e.ticket_id IS NOT NULL AND {PUBLIC_MESSAGE} AND e.actor_type IN ('customer', 'agent')
    ), w AS (
        SELECT _k, ts, agent, lag(agent) OVER w AS after_agent,
               lead(CASE WHEN agent THEN ts END IGNORE NULLS) OVER w AS next_reply_at
        FROM m
        WINDOW w AS (PARTITION BY _k ORDER BY {event_order('m')})
    ), intervals AS (
        SELECT source, ticket_id, _k, created_at AS started_at, first_reply_at AS replied_at
        FROM _fx_tk WHERE created_by = 'customer' AND first_reply_at IS NOT NULL
        UNION ALL
        SELECT t.source, t.ticket_id, t._k, w.ts, w.next_reply_at
        FROM w JOIN _fx_tk t ON w._k = t._k
        WHERE NOT w.agent AND w.after_agent AND w.next_reply_at > t.first_reply_at AND t.created_by = 'customer'
    )
    SELECT source, ticket_id,
           row_number() OVER (PARTITION BY _k ORDER BY replied_at, started_at) AS seq,
           started_at, replied_at, {secs('started_at', 'replied_at')} AS seconds
    FROM intervals
    """


def contacts(scoped: bool, key: str = HASH_KEY) -> str:
    """Step 6: `_fx_contacts`, the contacts of the tickets in `_fx_tk`.

    Calls: a ticket's call events, in order, belong to the call that the latest
    call_queued before them started (those before the first call_queued, to the first
    call), so a call-back on the same ticket is a second call with its own wait and
    handling. Chats: a chat its customer opened is offered to agents at creation, or,
    when a bot took it first, only if the bot handed it off (at the hand-off); it is
    answered at the first public human reply after the offer, and abandoned when it was
    closed before one. A bot-contained chat was never offered. Tickets without calls
    that report a handle time are a contact for handle time only. `key` must be the key
    `_fx_agg` was derived with."""
    calls = ", ".join(f"'{k}'" for k in CALL_KINDS)
    holds = "e.kind IN ('hold_start', 'hold_end')"
    handle = "CASE WHEN coalesce(c.talk_s, c.hold_s, c.wrap_s) IS NOT NULL " \
             "THEN coalesce(c.talk_s, 0) + coalesce(c.hold_s, 0) + coalesce(c.wrap_s, 0) END"
    chat_offered = "(channel = 'chat' AND created_by = 'customer' AND (NOT bot_involved OR handed_off))"
    return f"""
    CREATE OR REPLACE TEMP TABLE _fx_contacts AS
    WITH ce AS (
        SELECT e._k, e.ts, e.kind, e.actor_id, e.duration_s,
            greatest(count(*) FILTER (e.kind = 'call_queued') OVER (
                PARTITION BY e._k ORDER BY {event_order('e')} ROWS UNBOUNDED PRECEDING), 1) AS call_no,
            lag(e.kind) OVER (PARTITION BY e._k, {holds} ORDER BY {event_order('e')}) AS prev_kind,
            lag(e.ts) OVER (PARTITION BY e._k, {holds} ORDER BY {event_order('e')}) AS prev_ts
        FROM (SELECT {key} AS _k, e.ts, e.event_id, e.kind, e.actor_id, e.duration_s
              FROM {events(scoped)} e WHERE e.ticket_id IS NOT NULL AND e.kind IN ({calls})) e
    ), c AS (
        SELECT _k, call_no,
            min(ts) AS first_at,
            min(ts) FILTER (kind = 'call_queued') AS queued_at,
            min(ts) FILTER (kind = 'call_answered') AS answered_at,
            arg_min(actor_id, ts) FILTER (kind = 'call_answered') AS answered_by,
            min(ts) FILTER (kind = 'call_abandoned') AS hung_up_at,
            sum(duration_s) FILTER (kind = 'call_ended') AS talk_s,
            sum(coalesce(duration_s, CASE WHEN prev_kind = 'hold_start' THEN {secs('prev_ts', 'ts')} END))
                FILTER (kind = 'hold_end') AS hold_s,
            sum(duration_s) FILTER (kind = 'wrap_up_end') AS wrap_s
        FROM ce GROUP BY _k, call_no
    ), calls AS (
        SELECT t.source, t.ticket_id, c.call_no AS contact_no, 'call' AS kind,
            coalesce(c.queued_at, c.answered_at, c.first_at) AS contact_at,
            c.queued_at AS offered_at, c.answered_at,
            c.answered_at IS NULL AND c.hung_up_at IS NOT NULL AS abandoned,
            CASE WHEN c.answered_at IS NULL THEN c.hung_up_at END AS abandoned_at,
            c.talk_s, c.hold_s, c.wrap_s, {handle} AS handle_s,
            coalesce(c.answered_by, t.assignee_id) AS agent_id
        FROM c JOIN _fx_tk t ON t._k = c._k
    ), others AS (
        SELECT source, ticket_id, 1 AS contact_no, CASE WHEN chat THEN 'chat' ELSE 'ticket' END AS kind,
            coalesce(offered_at, created_at) AS contact_at, offered_at, answered_at,
            CASE WHEN chat THEN answered_at IS NULL AND solved AND first_solved_at IS NOT NULL END AS abandoned,
            CASE WHEN chat AND answered_at IS NULL AND solved THEN first_solved_at END AS abandoned_at,
            NULL::DOUBLE AS talk_s, NULL::DOUBLE AS hold_s, NULL::DOUBLE AS wrap_s, handle_s_reported AS handle_s,
            assignee_id AS agent_id
        FROM (
            SELECT *, {chat_offered} AS chat,
                CASE WHEN {chat_offered} THEN
                    CASE WHEN bot_involved THEN coalesce(handoff_at, created_at) ELSE created_at END END AS offered_at,
                CASE WHEN {chat_offered} THEN
                    CASE WHEN bot_involved AND handoff_at IS NOT NULL THEN reply_after_handoff_at
                         ELSE first_reply_at END END AS answered_at
            FROM _fx_tk WHERE NOT has_call
        )
        WHERE chat OR handle_s_reported IS NOT NULL
    )
    SELECT *, {secs('offered_at', 'coalesce(answered_at, abandoned_at)')} AS wait_s,
        CASE WHEN abandoned IS NOT NULL THEN coalesce(abandoned AND {secs('offered_at', 'abandoned_at')} < {SHORT_ABANDON_S},
                                                    false) END AS short_abandon
    FROM (SELECT * FROM calls UNION ALL BY NAME SELECT * FROM others)
    """
