"""Shifts: staffed agents and occupancy per interval, and shift patterns (docs/workforce.md,
"Shifts and occupancy").

`staffed` measures the `shifts` table against the contacts worked; `read_patterns`, `cover`
and `expand` plan shifts from patterns (T. W. Miller's staffing by integer programme).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import pyarrow as pa

from cxmetrics.errors import UserError
from cxmetrics.metrics._staffed import split_sql
from cxmetrics.workforce._intervals import interval_starts, local_datetime, parse_interval
from cxmetrics.workforce._patterns import Patterns, cover, expand, read_patterns

if TYPE_CHECKING:
    from cxmetrics._workspace import Workspace

__all__ = ["Patterns", "cover", "expand", "read_patterns", "staffed"]


def _empty(tz: str) -> pa.Table:
    return pa.schema([("channel", pa.string()), ("interval_start", pa.timestamp("us", tz=tz)),
                      ("staffed", pa.float64()), ("handle_s", pa.float64()),
                      ("occupancy", pa.float64())]).empty_table()


def _channels(channel: str | list[str] | tuple[str, ...] | None) -> list[str] | None:
    if channel is None:
        return None
    found = [channel] if isinstance(channel, str) else list(channel)
    return [c.strip().lower() for c in found if c.strip()] or None


def staffed(ws: Workspace, *, interval: str | int = "30m", start: date | datetime | str | None = None,
            end: date | datetime | str | None = None,
            channel: str | list[str] | None = None) -> pa.Table:
    """Staffed agents, handle seconds and occupancy per interval and channel group.

    - channel: the shifts' channel; NULL for agents who serve every channel (and for work by
      agents no available shift covers);
    - staffed: available agent-seconds in the interval / the interval's seconds (the mean
      number of agents on the queues; breaks inside a shift are taken out);
    - handle_s: handle seconds worked in the interval (each contact busy from its answer for
      its handle time, split across intervals);
    - occupancy: handle_s / staffed seconds (NULL when nobody was staffed).

    Every interval in [start, end) (default: the span of the shifts) is listed for every channel
    group, zeros included. `channel` keeps the agents who serve it (its own and every-channel
    shifts) and the contacts of that channel.

    >>> import tempfile, cxmetrics
    >>> with cxmetrics.open(tempfile.mkdtemp(), create=True) as ws:
    ...     staffed(ws).num_rows
    0
    """
    interval_s = parse_interval(interval)
    tz = ws.settings.timezone
    ws._auto_refresh()  # the contacts' handle times come from the facts
    if start is None or end is None:
        lo, hi = ws.sql("SELECT min(start_at) AS lo, max(end_at) AS hi FROM shifts").to_pylist()[0].values()
        if lo is None:
            return _empty(tz)
        start = lo if start is None else start
        end = hi if end is None else end
    first, last = local_datetime(start, tz), local_datetime(end, tz)
    if last <= first:
        raise UserError(f"the period ends before it starts: end {end} is not after start {start}; swap them.")
    # the intervals on the workspace's clock (the forecast's), each ending where the next starts
    starts = interval_starts(first, last + timedelta(days=2), interval_s, tz)
    pairs = [(s, e) for s, e in zip(starts, starts[1:]) if s < last]
    stamp = pa.timestamp("us", tz=tz)
    grid = pa.table({"slot_start": pa.array([s for s, _ in pairs], stamp),
                     "slot_end": pa.array([e for _, e in pairs], stamp)})
    wanted = _channels(channel)
    keep = keep_group = "true"
    if wanted is not None:
        listed = ", ".join("'" + c.replace("'", "''") + "'" for c in wanted)
        keep_group = f"lower(channel) IN ({listed}) OR channel IS NULL"
        keep = f"({keep_group}) AND (contact_channel IS NULL OR contact_channel IN ({listed}))"
    # a table, not a registered view: with the grid's statistics the engine range-joins the spans
    # to it (seconds for hundreds of thousands of spans, not minutes)
    name = f"_cx_staffed_grid_{uuid.uuid4().hex[:8]}"
    ws.con.register(f"{name}_arrow", grid)
    ws.con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
    ws.con.unregister(f"{name}_arrow")
    try:
        # in steps: each is a plain join or grouping the engine plans well on its own
        ws.con.execute(f"""
            CREATE TEMP TABLE {name}_sums AS
            SELECT channel, slot_start, sum(available_s) AS available_s, sum(handle_s) AS handle_s
            FROM ({split_sql(f"SELECT * FROM {name}")}) WHERE {keep}
            GROUP BY channel, slot_start
        """)
        return ws.sql(f"""
            -- every channel group of the shifts, so a window with nobody on shift still lists zeros
            WITH groups AS (SELECT DISTINCT channel FROM {name}_sums UNION
                            SELECT DISTINCT channel FROM shifts WHERE activity = 'available' AND ({keep_group}))
            SELECT k.channel, g.slot_start AS interval_start,
                   coalesce(p.available_s, 0) / (epoch(g.slot_end) - epoch(g.slot_start)) AS staffed,
                   coalesce(p.handle_s, 0) AS handle_s,
                   p.handle_s / nullif(p.available_s, 0) AS occupancy
            FROM {name} g CROSS JOIN groups k
            LEFT JOIN {name}_sums p ON p.slot_start = g.slot_start AND p.channel IS NOT DISTINCT FROM k.channel
            ORDER BY k.channel NULLS FIRST, g.slot_start
        """)
    finally:
        ws.con.execute(f"DROP TABLE IF EXISTS {name}_sums")
        ws.con.execute(f"DROP TABLE IF EXISTS {name}")
