"""The demo entry point: a configuration and a generator of Arrow batches.

Batches keep memory bounded at any size (10M tickets are ~50 chunks): the org-level tables come
once, in the first batch, and each batch holds the tickets, events and surveys of one slice of the
year. Everything is drawn from independent random streams of one seed, so the same config always
gives the same tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa

from cxmetrics.demo._arrow import join
from cxmetrics.demo._business import activity, annotations, costs, funnel
from cxmetrics.demo._channels import CHANNEL_NAMES
from cxmetrics.demo._context import Context
from cxmetrics.demo._events import BODY_VOCAB, events_table
from cxmetrics.demo._lifecycle import simulate
from cxmetrics.demo._org import TEAMS
from cxmetrics.demo._surveys import org_surveys, ticket_surveys
from cxmetrics.demo._tickets import draw_tickets, ticket_ids, tickets_table
from cxmetrics.demo._world import (
    STREAM_ARRIVALS,
    STREAM_BUSINESS,
    STREAM_CHUNK,
    STREAM_SURVEYS,
    World,
    build_world,
    draw_arrivals,
    rng_for,
)
from cxmetrics.model import PRIORITIES

ORG_TABLES = ("agents", "customers", "activity", "funnel", "costs", "annotations")
CHUNK_TABLES = ("tickets", "events", "surveys", "survey_sends")


@dataclass(frozen=True)
class DemoConfig:
    """What to generate.

    The window is `months` months from `start` (a fixed, past year: what tests compare
    against), or, with `end`, the `months` months up to that instant: `cxmetrics demo`
    passes now, so the newest tickets are still in flight. The same seed and window give
    the same data.

    >>> DemoConfig(tickets=1000).months
    12
    >>> DemoConfig(end=dt.datetime(2026, 12, 4, 15, 30, tzinfo=dt.timezone.utc)).window()[0]
    datetime.datetime(2025, 12, 4, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='Europe/London'))
    """

    tickets: int = 100_000
    seed: int = 42
    start: dt.date = dt.date(2025, 11, 1)  # the window runs `months` months from here
    months: int = 12
    timezone: str = "Europe/London"  # working hours are local; stored timestamps are UTC
    chunk_size: int = 200_000  # tickets per yielded batch
    end: dt.datetime | None = None  # an aware instant the window ends at (start is then ignored)

    def __post_init__(self) -> None:
        if self.tickets < 1:
            raise ValueError(f"tickets must be at least 1, got {self.tickets}")
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {self.chunk_size}")
        if not 1 <= self.months <= 60:
            raise ValueError(f"months must be between 1 and 60, got {self.months}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}; use an IANA name such as 'Europe/London'") from exc
        if self.end is not None and self.end.utcoffset() is None:
            raise ValueError(f"end must be an aware datetime (with a time zone), got {self.end!r}")

    def window(self) -> tuple[dt.datetime, dt.datetime]:
        """The generated window [first, last) as local, aware datetimes."""
        from cxmetrics.demo._calendar import add_months

        tz = ZoneInfo(self.timezone)
        if self.end is None:
            first, last = self.start, add_months(self.start, self.months)
            return dt.datetime(first.year, first.month, first.day, tzinfo=tz), \
                dt.datetime(last.year, last.month, last.day, tzinfo=tz)
        first = add_months(self.end.astimezone(tz).date(), -self.months)
        return dt.datetime(first.year, first.month, first.day, tzinfo=tz), self.end.astimezone(tz)


def generate(config: DemoConfig) -> Iterator[dict[str, pa.Table]]:
    """Yield batches; each is a dict table_name -> pyarrow.Table.

    The first batch also holds the org-level tables (agents, customers, activity, funnel, costs,
    annotations); every batch holds tickets, events, surveys and survey_sends for its chunk.

    >>> batches = list(generate(DemoConfig(tickets=2000, chunk_size=1000)))
    >>> len(batches), batches[0]["tickets"].num_rows + batches[1]["tickets"].num_rows
    (2, 2000)
    >>> "agents" in batches[0], "agents" in batches[1]
    (True, False)
    """
    world = build_world(config)
    created, channel, spike = draw_arrivals(world.cal, config.tickets, rng_for(config.seed, STREAM_ARRIVALS))
    business = rng_for(config.seed, STREAM_BUSINESS)
    org_answers, org_sends = org_surveys(world, rng_for(config.seed, STREAM_SURVEYS))
    for index, offset in enumerate(range(0, config.tickets, config.chunk_size)):
        part = slice(offset, min(offset + config.chunk_size, config.tickets))
        batch = _chunk(world, index, offset, created[part], channel[part], spike[part])
        if index == 0:
            batch["surveys"] = pa.concat_tables([batch["surveys"], org_answers])
            batch["survey_sends"] = pa.concat_tables([batch["survey_sends"], org_sends])
            batch = {
                "agents": world.agents.table(),
                "customers": world.customers.table(),
                "activity": activity(world, config.tickets, business),
                "funnel": funnel(world, business),
                "costs": costs(world, business),
                "annotations": annotations(world),
                **batch,
            }
        yield batch


_VOCAB = {
    "body": pa.array(BODY_VOCAB),
    "channels": pa.array(CHANNEL_NAMES),
    "teams": pa.array(TEAMS),
    "priorities": pa.array(PRIORITIES),
}


def _chunk(world: World, index: int, offset: int, created: np.ndarray, channel: np.ndarray,
           spike: np.ndarray) -> dict[str, pa.Table]:
    """Simulate one slice of tickets into its four tables."""
    rng = rng_for(world.config.seed, STREAM_CHUNK, index)
    draw = draw_tickets(world, offset, created, channel, spike, rng)
    ctx = Context(world, draw, rng)
    simulate(ctx)
    ev = ctx.buf.assemble(ctx.facts["horizon"])
    # A leaver's open work passes to a colleague: nobody acts after their last day.
    agents = world.agents
    ev["actor"] = agents.hand_over(ev["actor"], ev["ts"])
    ev["assignee"] = agents.hand_over(ev["assignee"], ev["ts"])
    ctx.facts["solver"] = agents.hand_over(ctx.facts["solver"], ctx.facts["solved"])
    tids = ticket_ids(offset, draw.n, world.config.tickets)
    # Merge notes name the ticket they were merged into: chunk-specific bodies after the shared ones;
    # then the messages composed for this chunk (demo/_messages.py).
    composed = [ctx.buf.texts.render()] if ctx.buf.texts is not None else []
    body_vocab = pa.concat_arrays([_VOCAB["body"], join("Merged into ", tids), *composed])
    surveys, sends = ticket_surveys(ctx, tids)
    return {
        "tickets": tickets_table(world, draw, tids, ev, ctx.facts),
        "events": events_table(ev, tids, world.actor_ids, world.agents.ids, body_vocab,
                               _VOCAB["channels"], _VOCAB["teams"], _VOCAB["priorities"]),
        "surveys": surveys,
        "survey_sends": sends,
    }

