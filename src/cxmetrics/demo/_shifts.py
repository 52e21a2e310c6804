"""The demo's shifts: a phone roster, planned as a workforce team would (docs/workforce.md).

For each weekday and half hour the roster schedules the agents Erlang C asks for the phone
line's average arrivals there (80% answered in 20 s, the year's AHT), after 15% shrinkage for
the lunches, breaks and absences below, in shifts of 4 to 8 hours that a
greedy pass starts whenever the agents on shift fall short. A shift of 6 hours or more has a
30-minute lunch in its middle, one of 4 hours or more a 15-minute break in its first half (both
paid time off the queue: shrinkage). About 1 shift in 25 is lost to absence, so some intervals
show fewer agents staffed than required, as real days do. The roster's agents are the human
agents who took the most calls, each working about five days in seven.

The demo's calls are answered by whoever its generator picked, not by the roster, so its staffed
time and occupancy are those of the phone line as a whole (a small line: one or two agents most
half hours, an occupancy near 20%), not of each agent. The absences are drawn from each day's
date, so the same demo data always gives the same roster.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from zoneinfo import ZoneInfo

import pyarrow as pa

from cxmetrics._workspace import Workspace
from cxmetrics.workforce.erlang import staff

SLOT_S = 1800
SLOTS = 24 * 3600 // SLOT_S
MIN_SLOTS, MAX_SLOTS = 8, 16  # shifts of 4 to 8 hours
ABSENCE = 0.04
SHRINKAGE = 0.15  # lunches and breaks (about 10% of a shift) and absences (4%)

_PROFILE = """
    SELECT isodow(timezone(?, contact_at)) AS dow,
           hour(timezone(?, contact_at)) * 2 + minute(timezone(?, contact_at)) // 30 AS slot,
           count(*) AS calls
    FROM contacts WHERE source = ? AND kind = 'call' AND contact_at IS NOT NULL
    GROUP BY ALL
"""
_SPAN_AHT = """
    SELECT CAST(min(timezone(?, contact_at)) AS DATE) AS first_day, CAST(max(timezone(?, contact_at)) AS DATE) AS last_day,
           avg(handle_s) FILTER (WHERE answered_at IS NOT NULL AND handle_s > 0) AS aht
    FROM contacts WHERE source = ? AND kind = 'call'
"""
_POOL = """
    SELECT c.agent_id, any_value(a.team) AS team, count(*) AS calls
    FROM contacts c JOIN agents a ON a.source = c.source AND a.agent_id = c.agent_id
    WHERE c.source = ? AND c.kind = 'call' AND c.answered_at IS NOT NULL AND a.type = 'human'
    GROUP BY c.agent_id ORDER BY calls DESC, c.agent_id
"""


def _required(ws: Workspace, source: str, tz: str, first: dt.date, last: dt.date, aht: float) -> dict[int, list[int]]:
    """Agents to schedule per weekday (ISO 1-7) and half hour, for the mean arrivals there."""
    weeks = {d: 0 for d in range(1, 8)}
    day = first
    while day <= last:
        weeks[day.isoweekday()] += 1
        day += dt.timedelta(days=1)
    need = {d: [0] * SLOTS for d in range(1, 8)}
    for row in ws.sql(_PROFILE, [tz, tz, tz, source]).to_pylist():
        mean = row["calls"] / max(weeks[row["dow"]], 1)
        if mean >= 0.05:  # a call every 10 weeks needs nobody on the line
            need[row["dow"]][row["slot"]] = staff(mean, SLOT_S, aht, shrinkage=SHRINKAGE).scheduled
    return need


def _day_shifts(need: list[int]) -> list[tuple[int, int]]:
    """Greedy: (start slot, end slot) shifts so that every slot has its agents on shift."""
    last_needed = max((s for s, n in enumerate(need) if n), default=-1)
    ends: list[int] = []
    shifts: list[tuple[int, int]] = []
    for slot, n in enumerate(need):
        ends = [e for e in ends if e > slot]
        for _ in range(n - len(ends)):
            end = min(slot + max(MIN_SLOTS, min(MAX_SLOTS, last_needed + 1 - slot)), SLOTS)
            ends.append(end)
            shifts.append((slot, end))
    return shifts


def demo_shifts(ws: Workspace, source: str) -> pa.Table:
    """The phone roster for the demo rows of `source` (facts must be fresh); empty without calls."""
    tz = ws.settings.timezone
    zone = ZoneInfo(tz)
    span = ws.sql(_SPAN_AHT, [tz, tz, source]).to_pylist()[0]
    pool = ws.sql(_POOL, [source]).to_pylist()
    rows: dict[str, list[object]] = {k: [] for k in ("agent_id", "start_at", "end_at", "activity", "team", "channel")}
    if span["first_day"] is None or not span["aht"] or not pool:
        return pa.table(rows)
    need = _required(ws, source, tz, span["first_day"], span["last_day"], span["aht"])
    most = max(len(_day_shifts(n)) for n in need.values())
    pool = pool[: min(len(pool), math.ceil(most * 7 / 5) + 1)]  # each agent about five days in seven
    turn = 0
    day = span["first_day"]
    while day <= span["last_day"]:
        draw = random.Random(day.toordinal())  # the same day always gets the same absences
        midnight = dt.datetime.combine(day, dt.time(), zone)
        for start, end in _day_shifts(need[day.isoweekday()]):
            agent = pool[turn % len(pool)]
            turn += 1
            if draw.random() < ABSENCE:
                continue

            def at(slot: float) -> dt.datetime:
                # wall clock of the day (a DST day's slots shift by its hour, as a roster's do)
                return (midnight + dt.timedelta(seconds=slot * SLOT_S)).astimezone(dt.UTC)

            spans = [(start, end, "available")]
            length = end - start
            if length >= 12:
                spans.append((start + length // 2, start + length // 2 + 1, "lunch"))
            if length >= 8:
                spans.append((start + length // 4, start + length // 4 + 0.5, "break"))
            for a, b, activity in spans:
                rows["agent_id"].append(agent["agent_id"])
                rows["start_at"].append(at(a))
                rows["end_at"].append(at(b))
                rows["activity"].append(activity)
                rows["team"].append(agent["team"])
                rows["channel"].append("phone")
        day += dt.timedelta(days=1)
    return pa.table({k: pa.array(v, pa.timestamp("us", "UTC") if k.endswith("_at") else pa.string())
                     for k, v in rows.items()})
