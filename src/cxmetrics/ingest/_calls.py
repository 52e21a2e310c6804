"""The `calls` import kind: call logs (ACD, Twilio, Aircall, Genesys, Five9 exports), one
row per call.

A call becomes the call events its times imply, so contacts, AHT, ASA, abandonment and
service level come out of the facts as for calls imported as events:

    call_queued     at queued_at (else arrived_at + ivr_s, else arrived_at)   <- the stored row
    call_answered   at answered_at, by agent_id                 (not for abandoned calls)
    call_abandoned  at abandoned_at                             (abandoned calls only)
    call_ended      at ended_at (else answered_at + talk_s), duration talk_s (else ended - answered)
    hold_end        at the call's end, duration hold_s
    wrap_up_end     wrap_s after the call's end, duration wrap_s

and its ticket (the call's own, `call_id`, unless `ticket_id` names the ticket it belongs
to), created at the call's arrival. The call_queued event is the row the import merges
(key: source and `{call_id}:queued`), hashed with every column of the call, so a re-import
is unchanged and a changed call rebuilds its other events (ids `{call_id}:answered`...).
All implied rows carry `origin = 'calls'`.

The outcome decides which times count: an abandoned call has no answer and no talk (an ACD
may log a service start the caller never reached), an answered one no abandon. A ghost
call (a line that rang with no one there) is kept, as its own ticket marked spam, so every
metric leaves it out. Clock skew: times may run up to CLOCK_SKEW_S before the time they
follow and are then taken as at that time; an answer before the queue entry is a call
answered without waiting (straight from the IVR, or the ACD's clock behind the IVR's).
"""

from __future__ import annotations

import duckdb

from cxmetrics.ingest._merge import insert_rows, upsert_rows
from cxmetrics.model import TABLES, Column, ColType

C, T = Column, ColType

CLOCK_SKEW_S = 5  # seconds a time may run before the one it follows (systems' clocks differ)
OUTCOMES = ("answered", "abandoned", "ghost")
DIRECTIONS = ("inbound", "outbound")

INPUTS: tuple[Column, ...] = (
    C("source", doc="where the row came from (default `default`)"),
    C("call_id", required=True, doc="the call's id, unique within its source"),
    C("ticket_id", doc="the ticket the call belongs to (a call-back, a case); default: the call is its own ticket"),
    C("arrived_at", T.TIMESTAMP, required=True,
      doc="when the call reached the system (ringing, IVR entry): the arrival, and its ticket's created_at"),
    C("ivr_s", T.NUMBER, min=0, doc="seconds in the IVR before the call was offered to agents"),
    C("queued_at", T.TIMESTAMP,
      doc="when it was offered to agents (queue entry, IVR exit); default arrived_at + ivr_s, else arrived_at"),
    C("answered_at", T.TIMESTAMP, doc="when an agent answered"),
    C("abandoned_at", T.TIMESTAMP, doc="when the caller hung up unanswered (read for abandoned calls)"),
    C("ended_at", T.TIMESTAMP, doc="when the conversation ended"),
    C("outcome", values=OUTCOMES,
      doc="answered, abandoned or ghost (map the file's words in [values.outcome]); default: answered with "
          "answered_at, abandoned with abandoned_at"),
    C("direction", values=DIRECTIONS,
      doc="inbound (default); outbound calls are quarantined: import them as tickets (created_by agent)"),
    C("agent_id", doc="who answered"),
    C("customer_id", doc="the caller: the ticket's requester"),
    C("channel", doc="default `phone`"),
    C("team", doc="the queue or team (a `queue` column feeds it)"),
    C("topic"),
    C("priority"),
    C("talk_s", T.NUMBER, min=0, doc="talk seconds (default: ended_at - answered_at)"),
    C("hold_s", T.NUMBER, min=0, doc="seconds on hold"),
    C("wrap_s", T.NUMBER, min=0, doc="after-call work seconds"),
)


# headers that feed a column without a mapping (ACD exports name the queue, not a team)
ALIASES = {"queue": "team"}


def _secs(x: str) -> str:
    return f"INTERVAL 1 SECOND * {x}"


# Computed once per row in the stage (each may use those before it); named c_* so that
# they never shadow an input.
DERIVED: tuple[tuple[str, str], ...] = (
    ("c_outcome", "coalesce(outcome, CASE WHEN answered_at IS NOT NULL THEN 'answered' "
                  "WHEN abandoned_at IS NOT NULL THEN 'abandoned' END)"),
    # a ghost call never joins a real ticket: it is its own, marked spam
    ("c_owned", "ticket_id IS NULL OR c_outcome = 'ghost'"),
    ("c_ticket", "CASE WHEN c_owned THEN call_id ELSE ticket_id END"),
    ("c_queued", f"greatest(coalesce(queued_at, arrived_at + {_secs('ivr_s')}, arrived_at), arrived_at)"),
    ("c_answered", "CASE WHEN answered_at IS NOT NULL AND c_outcome IS DISTINCT FROM 'abandoned' "
                   "THEN greatest(answered_at, c_queued) END"),
    ("c_abandoned", "CASE WHEN abandoned_at IS NOT NULL AND c_outcome = 'abandoned' "
                    "THEN greatest(abandoned_at, c_queued) END"),
    ("c_talk", "CASE WHEN c_answered IS NOT NULL THEN "
               "coalesce(talk_s, greatest(epoch(ended_at) - epoch(c_answered), 0)) END"),
    ("c_ended", f"CASE WHEN c_answered IS NOT NULL THEN coalesce(greatest(ended_at, c_answered), "
                f"c_answered + {_secs('talk_s')}) END"),
)


def _early(later: str, earlier: str) -> str:
    """A reason when `later` is more than the skew tolerance before `earlier`."""
    shown = lambda c: f"strftime({c}, '%Y-%m-%d %H:%M:%S%z')"  # noqa: E731
    return (
        f"CASE WHEN {later} < {earlier} - INTERVAL {CLOCK_SKEW_S} SECOND THEN '{later} (' || {shown(later)} || "
        f"') is ' || CAST(round(epoch({earlier}) - epoch({later})) AS BIGINT) || ' s before {earlier} (' || "
        f"{shown(earlier)} || '), more than the {CLOCK_SKEW_S} s clock skew allowed' END"
    )


CHECKS: tuple[str, ...] = (
    _early("queued_at", "arrived_at"),
    _early("answered_at", "arrived_at"),
    _early("abandoned_at", "arrived_at"),
    _early("abandoned_at", "queued_at"),
    _early("ended_at", "arrived_at"),
    _early("ended_at", "answered_at"),
    # talk with no answer time cannot be placed (an answered call without a time and
    # without handling is kept: an arrival that stays out of ASA and service level)
    "CASE WHEN c_outcome = 'answered' AND answered_at IS NULL AND (ended_at IS NOT NULL OR talk_s > 0 "
    "OR hold_s > 0 OR wrap_s > 0) THEN 'an answered call with talk, hold, wrap or ended_at needs answered_at' END",
    "CASE WHEN direction = 'outbound' THEN 'an outbound call: the calls kind reads inbound calls (their queue "
    "times feed ASA and service level); import outbound calls as tickets (created_by agent)' END",
)

TARGET: dict[str, str] = {
    "event_id": "call_id || ':queued'",
    "ticket_id": "c_ticket",
    "ts": "c_queued",
    "kind": "'call_queued'",
    "actor_type": "'customer'",
    "actor_id": "customer_id",
    "channel": "coalesce(channel, 'phone')",
    "origin": "'calls'",
}

_CHANGED = "_final WHERE _action <> 'none'"
_IMPLIED = ("answered", "abandoned", "ended", "hold", "wrap")


def implied(con: duckdb.DuckDBPyConnection, import_id: str, currency: str) -> None:
    """The events after the queue entry, and the tickets, of the calls that changed."""
    ids = ", ".join(f"c.call_id || ':{s}'" for s in _IMPLIED)
    # a changed call's events are rebuilt: a time removed from the file removes its event
    con.execute(f"""
        DELETE FROM events_stored e USING (SELECT source, call_id FROM _final WHERE _action = 'update') c
        WHERE e.origin = 'calls' AND e.source = c.source AND e.event_id IN ({ids})
    """)
    base = ("source, ticket_id, NULL::BOOLEAN AS public, NULL AS status_from, NULL AS status_to, NULL AS body, "
            "channel, NULL AS assignee_id, team, priority, 'calls' AS origin")
    def event(name: str, ts: str, kind: str, actor: str, actor_id: str, duration: str, when: str) -> str:
        return (f"SELECT {base}, call_id || ':{name}' AS event_id, {ts} AS ts, '{kind}' AS kind, "
                f"'{actor}' AS actor_type, {actor_id} AS actor_id, CAST({duration} AS DOUBLE) AS duration_s "
                f"FROM {_CHANGED} AND {when}")

    end = "coalesce(c_ended, c_answered)"
    events = " UNION ALL BY NAME ".join((
        event("answered", "c_answered", "call_answered", "agent", "agent_id", "NULL", "c_answered IS NOT NULL"),
        event("abandoned", "c_abandoned", "call_abandoned", "customer", "customer_id", "NULL",
              "c_abandoned IS NOT NULL"),
        event("ended", "c_ended", "call_ended", "agent", "agent_id", "c_talk", "c_ended IS NOT NULL"),
        event("hold", end, "hold_end", "agent", "agent_id", "hold_s", "c_answered IS NOT NULL AND hold_s IS NOT NULL"),
        event("wrap", f"{end} + INTERVAL 1 SECOND * wrap_s", "wrap_up_end", "agent", "agent_id", "wrap_s",
              "c_answered IS NOT NULL AND wrap_s IS NOT NULL"),
    ))
    insert_rows(con, TABLES["events"], events, import_id)
    # a call that now names another ticket leaves its own behind: gone with its last event
    con.execute("""
        DELETE FROM tickets t USING (SELECT source, call_id FROM _final WHERE _action = 'update'
                                     AND ticket_id <> call_id) c
        WHERE t.source = c.source AND t.ticket_id = c.call_id
          AND NOT EXISTS (SELECT 1 FROM events e WHERE e.source = t.source AND e.ticket_id = t.ticket_id)
    """)
    # A call that is its own ticket sets all of it; calls of a named ticket add to it what
    # it lacks (a help-desk ticket keeps its own values), and may make it earlier.
    status = ("CASE WHEN c_outcome = 'ghost' THEN 'spam' WHEN NOT c_owned THEN NULL "
              "WHEN c_outcome = 'answered' THEN 'solved' ELSE 'closed' END")
    pick = lambda c: f"CASE WHEN n.owned THEN n.{c} ELSE coalesce(t.{c}, n.{c}) END AS {c}"  # noqa: E731
    tickets = f"""
        SELECT n.source, n.ticket_id,
               CASE WHEN n.owned OR t.created_at IS NULL THEN n.created_at
                    ELSE least(t.created_at, n.created_at) END AS created_at,
               {pick('channel')}, {pick('priority')}, {pick('status')}, {pick('requester_id')},
               {pick('assignee_id')}, {pick('agent_type')}, {pick('team')}, {pick('topic')},
               t.tags, t.product, t.customer_tier, t.region, {pick('created_by')}, t.subject,
               t.reopens_reported, t.replies_reported, t.handle_s_reported,
               {", ".join(f"t.{c.name}" for c in TABLES["tickets"].implied)}
        FROM (
            SELECT source, ticket_id, bool_and(c_owned) AS owned, min(arrived_at) AS created_at,
                   arg_min(channel, arrived_at) AS channel, arg_min(priority, arrived_at) AS priority,
                   arg_max({status}, arrived_at) AS status, arg_min(customer_id, arrived_at) AS requester_id,
                   arg_max(agent_id, arrived_at) AS assignee_id,
                   CASE WHEN count(agent_id) > 0 THEN 'human' END AS agent_type,
                   arg_min(team, arrived_at) AS team, arg_min(topic, arrived_at) AS topic,
                   'customer' AS created_by
            FROM {_CHANGED} GROUP BY source, ticket_id
        ) n LEFT JOIN tickets t ON t.source = n.source AND t.ticket_id = n.ticket_id
    """
    upsert_rows(con, TABLES["tickets"], tickets, import_id)
