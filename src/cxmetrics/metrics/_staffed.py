"""The spans of time agents were staffed and busy, as SQL over the store (docs/workforce.md,
"Shifts and occupancy"). `cxmetrics.workforce.staffed` and the `staffed_intervals` metric
source (occupancy) split them at interval boundaries, in the engine.

- Staffed: an agent's `available` spans, less the time their other activities (a break
  inside a shift) take out of them; off-queue spans that overlap each other count once.
- Busy: each contact an agent handled, from when it was answered (a call's or chat's
  answer; for a ticket that reports handle time but has no answer time, its first human
  reply, else its creation) for its handle seconds (talk + hold + wrap-up). Bots' contacts
  are left out: they are not staffed. A contact whose agent is unknown still counts (the
  pool handled it).

Each span carries the channel it is grouped under: a staffed span its shift's channel (NULL:
the agent serves every channel); a busy span the channel of the agent's available shift
covering its start, else NULL (work by agents the shifts do not name, e.g. shifts planned
from patterns, is the pool's); and `contact_channel`, the ticket's, for channel filters.
"""

from __future__ import annotations

# `available` spans of every agent
_AVAILABLE = "SELECT source, agent_id, team, channel, start_at, end_at FROM shifts WHERE activity = 'available'"

# other activities merged into islands per agent, so nested ones (lunch in training) count once
_OFF = """
    SELECT source, agent_id, min(start_at) AS start_at, max(end_at) AS end_at
    FROM (
        SELECT *, sum(CASE WHEN start_at <= prev_end THEN 0 ELSE 1 END)
                      OVER (PARTITION BY source, agent_id ORDER BY start_at, end_at) AS island
        FROM (
            SELECT source, agent_id, start_at, end_at,
                   max(end_at) OVER (PARTITION BY source, agent_id ORDER BY start_at, end_at
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
            FROM shifts WHERE activity <> 'available'
        )
    ) GROUP BY source, agent_id, island
"""

# staffed spans: +available, and -(available ∩ off-queue) (available spans never overlap)
STAFFED_SPANS = f"""
    SELECT source, agent_id, team, channel, NULL::VARCHAR AS contact_channel, start_at, end_at, 1 AS sign,
           'staffed' AS what
    FROM ({_AVAILABLE})
    UNION ALL
    SELECT a.source, a.agent_id, a.team, a.channel, NULL, greatest(a.start_at, o.start_at), least(a.end_at, o.end_at),
           -1, 'staffed'
    FROM ({_AVAILABLE}) a JOIN ({_OFF}) o
      ON o.source = a.source AND o.agent_id = a.agent_id AND o.start_at < a.end_at AND o.end_at > a.start_at
"""

# busy spans: each handled contact from its answer for its handle seconds
BUSY_SPANS = f"""
    SELECT b.source, b.agent_id, coalesce(s.team, b.ticket_team) AS team, s.channel, b.contact_channel,
           b.start_at, b.start_at + to_microseconds(CAST(round(b.handle_s * 1e6) AS BIGINT)) AS end_at, 1 AS sign,
           'busy' AS what
    FROM (
        SELECT c.source, c.agent_id, f.team AS ticket_team, f.channel AS contact_channel, c.handle_s,
               coalesce(c.answered_at, f.first_reply_at, c.contact_at) AS start_at
        FROM contacts c JOIN ticket_facts f ON f.source = c.source AND f.ticket_id = c.ticket_id
        WHERE NOT f.excluded AND c.handle_s > 0
          AND (c.source, coalesce(c.agent_id, '')) NOT IN (SELECT source, agent_id FROM agents WHERE type = 'bot')
    ) b
    LEFT JOIN ({_AVAILABLE}) s
      ON s.source = b.source AND s.agent_id = b.agent_id AND s.start_at <= b.start_at AND s.end_at > b.start_at
"""

SPANS = f"SELECT * FROM ({STAFFED_SPANS}) UNION ALL SELECT * FROM ({BUSY_SPANS})"


def split_sql(slots: str) -> str:
    """Per agent and slot of `slots` (a relation of slot_start, slot_end): the staffed seconds
    (available_s) and handle seconds (handle_s) of the spans, each split at the slot's bounds."""
    return f"""
        SELECT source, agent_id, team, channel, contact_channel, slot_start, slot_end,
               coalesce(sum(CASE WHEN what = 'staffed' THEN sign * seconds END), 0) AS available_s,
               coalesce(sum(CASE WHEN what = 'busy' THEN seconds END), 0) AS handle_s
        FROM (
            SELECT p.*, g.slot_start, g.slot_end,
                   epoch(least(p.end_at, g.slot_end)) - epoch(greatest(p.start_at, g.slot_start)) AS seconds
            FROM ({SPANS}) p JOIN ({slots}) g ON p.start_at < g.slot_end AND p.end_at > g.slot_start
        )
        GROUP BY source, agent_id, team, channel, contact_channel, slot_start, slot_end
    """


# The metric source's slots: 30 minutes on the workspace's clock (local midnight + k x 30m), from
# the first shift's slot to the last shift's end: only where staffing data exists. Each span
# lists its own slots (no join against a grid: linear in the spans, and the source's SQL is
# static); a slot's start is the instant less its offset on the local clock, so 30-minute steps
# stay on :00 and :30 through the clock changes.
_SLOT_US = 1_800_000_000


def _floor(ts: str) -> str:
    return f"({ts} - to_microseconds(epoch_us(timezone(current_setting('TimeZone'), {ts})) % {_SLOT_US}))"


# one row per agent and half-hour with staffed or handle time (the metric source)
STAFFED_INTERVALS = f"""
    SELECT source, agent_id AS assignee_id, team, channel, slot_start,
           coalesce(sum(CASE WHEN what = 'staffed' THEN sign * seconds END), 0) AS available_s,
           coalesce(sum(CASE WHEN what = 'busy' THEN seconds END), 0) AS handle_s
    FROM (
        SELECT p.*, epoch(least(p.end_at, p.slot_start + to_microseconds({_SLOT_US})))
                    - epoch(greatest(p.start_at, p.slot_start)) AS seconds
        FROM (SELECT s.*, unnest(generate_series({_floor('s.start_at')}, s.end_at - INTERVAL 1 MICROSECOND,
                                                 to_microseconds({_SLOT_US}))) AS slot_start
              FROM ({SPANS}) s) p
        JOIN (SELECT {_floor('min(start_at)')} AS lo, max(end_at) AS hi FROM shifts) b
          ON p.slot_start >= b.lo AND p.slot_start < b.hi
    )
    GROUP BY source, agent_id, team, channel, slot_start
"""
