"""Ticket facts: what happened to each ticket, derived from its events in the engine.

`refresh_facts(con)` keeps three tables up to date with the imported data:

- `ticket_facts`, one row per ticket (`FACT_COLUMNS`): its dimensions, first reply,
  resolutions, reopens, replies, time in each status, routing, bot involvement, call
  times and first contact resolution, every duration in calendar seconds (`_s`); and,
  after them, `reopened_at`: for a ticket open now although solved before, its first
  status event back to an open status after its latest solve (the backlog counts it open
  again from then), and `waiting_since`: for a ticket open now, since when its customer
  waits for a reply (their first public message after the last public agent reply, or the
  ticket's creation if they created it and nobody replied; NULL when nobody waits);
- `reply_intervals`, one row per agent response interval of a ticket its customer
  created (`REPLY_INTERVAL_COLUMNS`): for next reply time and average response time;
- `contacts`, one row per call (each `call_queued` starts one), per chat offered to
  agents and per other ticket with reported handle time (`CONTACT_COLUMNS`): for handle
  time, speed of answer, service level and abandonment, which count calls, not tickets;
- `ticket_facts_bh` and `reply_intervals_bh`, the business-time twins of every ticket
  duration and reply interval (`BUSINESS_FACT_COLUMNS`, `REPLY_INTERVAL_BH_COLUMNS`):
  the same spans and status times counting only the business hours of the ticket's
  schedule (`schedules.toml`; without one they equal the calendar durations).

The exact definitions are METRICS.md's; the column docs say how each is derived. A
ticket's events are taken in order of ts, then of event id in natural order (`T1-9`
before `T1-10`: the shorter id first).

>>> import tempfile, cxmetrics
>>> from cxmetrics.facts import refresh_facts
>>> with cxmetrics.open(tempfile.mkdtemp(), create=True) as ws:
...     refresh_facts(ws.con)
0
"""

from __future__ import annotations

from cxmetrics.facts._business import BusinessRefresh
from cxmetrics.facts._business import last_refresh as last_business_refresh
from cxmetrics.facts._columns import (
    BUSINESS_FACT_COLUMNS,
    BUSINESS_TWINS,
    CONTACT_COLUMNS,
    FACT_COLUMNS,
    FCR_REPEAT_DAYS,
    REPLY_BUSINESS_TWINS,
    REPLY_INTERVAL_BH_COLUMNS,
    REPLY_INTERVAL_COLUMNS,
)
from cxmetrics.facts._refresh import FullRefresh, last_full_refresh, refresh_facts

__all__ = [
    "BUSINESS_FACT_COLUMNS",
    "BUSINESS_TWINS",
    "CONTACT_COLUMNS",
    "FACT_COLUMNS",
    "FCR_REPEAT_DAYS",
    "REPLY_BUSINESS_TWINS",
    "REPLY_INTERVAL_BH_COLUMNS",
    "REPLY_INTERVAL_COLUMNS",
    "BusinessRefresh",
    "FullRefresh",
    "last_business_refresh",
    "last_full_refresh",
    "refresh_facts",
]
