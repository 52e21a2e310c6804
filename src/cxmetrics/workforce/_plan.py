"""The staffing plan: agents per interval and channel from the forecast (docs/workforce.md, "Plan").

For every interval of the forecast (`forecast`, history before the plan's start only):

- AHT: the mean handle time (contacts' handle_s) of the channel's history in the same time of
  day and day kind (Monday-Friday or Saturday-Sunday) when that cell holds at least
  `MIN_CONTACTS` contacts, else of the same time of day over all days (again at least
  `MIN_CONTACTS`), else the channel's overall AHT;
- patience: "auto" estimates it per channel from abandonment (`patience`): Erlang A where the
  channel has abandons, Erlang C where it has none;
- agents: the fewest meeting every target (vectorised over all intervals: `_queues`), then
  scheduled after shrinkage;
- actuals where the interval is past: arrivals (`arrivals`), the service level achieved
  (as the `service_level` metric: answered within the target over answered or abandoned,
  short abandons out), and from the shifts (`shifts.staffed`) the agents staffed and their
  occupancy.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxmetrics.errors import UserError
from cxmetrics.workforce import _queues
from cxmetrics.workforce._intervals import interval_of, local_datetime, parse_interval
from cxmetrics.workforce.erlang import _MAX_AGENTS, _check

if TYPE_CHECKING:
    from cxmetrics._workspace import Workspace

__all__ = ["MIN_CONTACTS", "patience", "plan"]

Moment = date | datetime | str
MIN_CONTACTS = 30  # contacts an AHT cell needs before its own mean is trusted over a wider one

# offered calls and chats that ended (answered or abandoned), misdials (short abandons) out
_OFFERED = """
    SELECT f.channel, c.offered_at, c.wait_s, c.answered_at IS NOT NULL AS answered,
           coalesce(c.abandoned, false) AS abandoned
    FROM contacts c JOIN ticket_facts f ON f.source = c.source AND f.ticket_id = c.ticket_id
    WHERE NOT coalesce(f.excluded, false) AND c.offered_at IS NOT NULL AND c.wait_s IS NOT NULL
      AND (c.answered_at IS NOT NULL OR c.abandoned) AND NOT coalesce(c.short_abandon, false)
"""


def _window(ws: Workspace, start: Moment | None, end: Moment | None) -> tuple[str, list[object]]:
    tz = ws.settings.timezone
    where, params = [], []
    if start is not None:
        where.append("offered_at >= ?")
        params.append(local_datetime(start, tz))
    if end is not None:
        where.append("offered_at < ?")
        params.append(local_datetime(end, tz))
    return (" AND ".join(where) or "true"), params


def _patience_by_channel(ws: Workspace, start: Moment | None, end: Moment | None) -> dict[str, float]:
    where, params = _window(ws, start, end)
    rows = ws.sql(f"""
        SELECT channel, sum(wait_s) AS waited, count(*) FILTER (abandoned) AS abandons
        FROM ({_OFFERED}) WHERE {where} GROUP BY channel""", params).to_pylist()
    return {r["channel"]: r["waited"] / r["abandons"] for r in rows if r["abandons"]}


def patience(ws: Workspace, *, channel: str | list[str] | None = None, start: Moment | None = None,
             end: Moment | None = None) -> float | None:
    """Mean patience in seconds (how long a caller waits before hanging up), estimated from the
    offered calls and chats in [start, end): the total time they waited (answered: until the
    answer; abandoned: until they hung up) over the number who hung up. This is the maximum
    likelihood estimate of an exponential patience when an answer censors it. Short abandons
    (under 5 s, misdials) are left out, as in the service level. None without abandons."""
    ws._auto_refresh()
    where, params = _window(ws, start, end)
    if channel is not None:
        names = [channel] if isinstance(channel, str) else list(channel)
        where += " AND list_contains(?, channel)"
        params.append(names)
    row = ws.sql(f"""SELECT sum(wait_s) AS waited, count(*) FILTER (abandoned) AS abandons
                     FROM ({_OFFERED}) WHERE {where}""", params).to_pylist()[0]
    return row["waited"] / row["abandons"] if row["abandons"] else None


def _aht(ws: Workspace, channels: list[str], before: datetime, interval_s: int,
         slots: np.ndarray, weekend: np.ndarray, row_channels: np.ndarray) -> np.ndarray:
    """The AHT of each plan row by the fall-back rule of the module's docstring (NaN: no history)."""
    found = ws.sql(f"""
        SELECT f.channel, (extract('hour' FROM c.contact_at) * 3600 + extract('minute' FROM c.contact_at) * 60
                           + floor(extract('second' FROM c.contact_at)))::BIGINT // {interval_s} AS slot,
               isodow(c.contact_at) >= 6 AS weekend, sum(c.handle_s) AS total, count(*) AS n
        FROM contacts c JOIN ticket_facts f ON f.source = c.source AND f.ticket_id = c.ticket_id
        WHERE NOT coalesce(f.excluded, false) AND c.handle_s > 0 AND c.contact_at < ?
          AND list_contains(?, f.channel)
        GROUP BY ALL""", [before, channels]).to_pydict()
    cell: dict[tuple[str, int, bool], tuple[float, int]] = {}
    slot: dict[tuple[str, int], tuple[float, int]] = {}
    whole: dict[str, tuple[float, int]] = {}
    for ch, s, w, total, n in zip(found["channel"], found["slot"], found["weekend"], found["total"], found["n"],
                                  strict=True):
        cell[(ch, s, w)] = (total, n)
        before = slot.get((ch, s), (0.0, 0))
        slot[(ch, s)] = (before[0] + total, before[1] + n)
        before = whole.get(ch, (0.0, 0))
        whole[ch] = (before[0] + total, before[1] + n)
    out = np.full(len(slots), np.nan)
    memo: dict[tuple[str, int, bool], float] = {}
    for i, (ch, s, w) in enumerate(zip(row_channels.tolist(), slots.tolist(), weekend.tolist(), strict=True)):
        key = (ch, s, w)
        if key not in memo:
            total, n = cell.get(key, (0.0, 0))
            if n < MIN_CONTACTS:
                total, n = slot.get((ch, s), (0.0, 0))
            if n < MIN_CONTACTS:
                total, n = whole.get(ch, (0.0, 0))
            memo[key] = total / n if n else math.nan
        out[i] = memo[key]
    return out


def _handled_channels(ws: Workspace, channels: list[str], before: datetime) -> set[str]:
    """The channels with at least one contact with a handle time before `before`."""
    found = ws.sql("""SELECT DISTINCT f.channel FROM contacts c JOIN ticket_facts f
                      ON f.source = c.source AND f.ticket_id = c.ticket_id
                      WHERE NOT coalesce(f.excluded, false) AND c.handle_s > 0 AND c.contact_at < ?
                        AND list_contains(?, f.channel)""", [before, channels])
    return set(found["channel"].to_pylist())


def _bucket(stamps: pa.Array, bounds_us: np.ndarray, interval_s: int) -> np.ndarray:
    """The index of the plan interval holding each timestamp (-1: none)."""
    us = pc.cast(pc.cast(stamps, pa.timestamp("us", tz="UTC")), pa.int64()).to_numpy(zero_copy_only=False)
    at = np.searchsorted(bounds_us, us, side="right") - 1
    inside = (at >= 0) & (us < bounds_us[np.maximum(at, 0)] + interval_s * 1_000_000)
    return np.where(inside, at, -1)


def _actual_service_level(ws: Workspace, table: pa.Table, interval_s: int, within_s: float,
                          begin: datetime, stop: datetime) -> np.ndarray:
    """Per plan row: answered within `within_s` over answered or abandoned (NaN: none offered)."""
    found = ws.sql(f"SELECT channel, offered_at, answered AND wait_s <= ? AS hit FROM ({_OFFERED}) "
                   "WHERE offered_at >= ? AND offered_at < ?", [within_s, begin, stop])
    out = np.full(table.num_rows, np.nan)
    if not found.num_rows:
        return out
    starts = pc.cast(pc.cast(table["interval_start"], pa.timestamp("us", tz="UTC")), pa.int64()).to_numpy()
    channels = table["channel"].to_numpy(zero_copy_only=False)
    hit = found["hit"].to_numpy(zero_copy_only=False).astype(bool)
    got_ch = found["channel"].to_numpy(zero_copy_only=False)
    for ch in np.unique(channels):
        rows = np.flatnonzero(channels == ch)
        order = rows[np.argsort(starts[rows])]
        mine = got_ch == ch
        at = _bucket(found["offered_at"].filter(pa.array(mine)), starts[order], interval_s)
        keep = at >= 0
        n = np.bincount(at[keep], minlength=order.size)
        h = np.bincount(at[keep], weights=hit[mine][keep], minlength=order.size)
        out[order] = np.where(n > 0, h / np.maximum(n, 1), np.nan)
    return out


def _shifts(ws: Workspace, table: pa.Table, agents: np.ndarray, interval: str,
            begin: datetime, stop: datetime) -> tuple[np.ndarray, np.ndarray]:
    """Staffed agents and their occupancy per plan row from the shifts (NaN without shifts).
    Agents on one channel's queues count for it; agents serving every channel are split among
    the interval's channels in proportion to the agents each needs (equally when none needs
    any), so the channels' staffed add up to the heads. Occupancy is that of every agent who
    could take the channel's contacts (its own and the every-channel ones)."""
    nan = np.full(table.num_rows, np.nan)
    try:
        from cxmetrics.workforce._shifts import staffed
    except ImportError:
        return nan, nan.copy()
    if not ws.sql("SELECT count(*) AS n FROM shifts").to_pylist()[0]["n"]:
        return nan, nan.copy()
    got = staffed(ws, interval=interval, start=begin, end=stop).to_pydict()
    groups: dict[tuple[str | None, int], tuple[float, float]] = {}
    for ch, at, heads, handle in zip(got["channel"], got["interval_start"], got["staffed"], got["handle_s"],
                                     strict=True):
        groups[(ch, int(at.timestamp() * 1_000_000))] = (heads, handle)
    starts = pc.cast(pc.cast(table["interval_start"], pa.timestamp("us", tz="UTC")), pa.int64()).to_numpy()
    channels = table["channel"].to_pylist()
    interval_s = parse_interval(interval)
    need: dict[int, list[int]] = {}
    for i, at in enumerate(starts.tolist()):
        need.setdefault(at, []).append(i)
    heads, occupancy = nan.copy(), nan.copy()
    for at, rows in need.items():
        shared, shared_handle = groups.get((None, at), (0.0, 0.0))
        total = float(agents[rows].sum())
        for i in rows:
            own, own_handle = groups.get((channels[i], at), (0.0, 0.0))
            share = agents[i] / total if total else 1 / len(rows)
            heads[i] = own + shared * share
            able = (own + shared) * interval_s
            occupancy[i] = (own_handle + shared_handle) / able if able else np.nan
    return heads, occupancy


def plan(ws: Workspace, *, start: Moment | None = None, end: Moment | None = None,
         channel: str | list[str] | None = None, interval: str = "30m", service_level: float | None = 0.8,
         answer_within_s: float = 20.0, max_p_wait: float | None = None, max_occupancy: float | None = None,
         shrinkage: float | None = None, patience_s: float | str | None = "auto") -> pa.Table:
    """Agents per interval and channel for [start, end) (default: from the end of history for
    14 days), by Erlang C, or Erlang A where the callers' patience is known (`patience_s`:
    "auto" per channel from abandonment, a number of seconds for every channel, None for
    Erlang C). Columns: channel, interval_start, volume, lo80, hi80, lo95, hi95 (the forecast),
    aht_s, patience_s, agents, scheduled (after `shrinkage`), service_level, p_wait, asa_s,
    occupancy, p_abandon (NULL under Erlang C), model (erlang_c, erlang_a, or none where not
    one contact is expected even at the 95% bound: no agent, nothing predicted), staffed (NULL without shifts),
    actual_volume (NULL for future intervals), actual_service_level, actual_occupancy.
    Planning every channel, those without any handle time in history are left out and named
    in the table's schema metadata (`skipped`, comma-separated); asked for by name, an error."""
    from cxmetrics.workforce._forecast import _channels, _known_channels, arrivals, default_start, forecast

    interval_s = parse_interval(interval)
    cut = 0.0 if shrinkage is None else shrinkage
    _check(0.0, interval_s, 1.0, service_level, answer_within_s, max_p_wait, max_occupancy, cut)
    if isinstance(patience_s, str) and patience_s != "auto":
        raise UserError(f"patience '{patience_s}' is not 'auto', a number of seconds or None (Erlang C).")
    if isinstance(patience_s, int | float) and not (patience_s > 0 and math.isfinite(patience_s)):
        raise UserError(f"patience {patience_s} must be more than 0 seconds; None plans by Erlang C.")
    tz = ws.settings.timezone
    ws._auto_refresh()
    known = _known_channels(ws, _channels(channel))
    if start is None:  # the end of history: the interval after the one holding the last arrival
        begin = default_start(ws, interval_s, known)
    else:
        begin = interval_of(local_datetime(start, tz), interval_s, tz)
    stop = local_datetime(end, tz) if end is not None else begin + timedelta(days=14)
    if stop <= begin:
        raise UserError(f"the plan ends ({stop.isoformat()}) before it starts ({begin.isoformat()}): "
                        "give --to after --from.")
    # a channel without any handle time before the plan cannot be staffed: an error when asked
    # for by name, left out (and listed in the table's metadata, `skipped`) when planning them all
    timed = _handled_channels(ws, known, begin)
    skipped = [c for c in known if c not in timed]
    if skipped and (channel is not None or len(skipped) == len(known)):
        raise UserError(f"no handle times in the history of channel(s) {', '.join(skipped)} before "
                        f"{begin.isoformat()}: import calls with talk/wrap times or tickets with handle_seconds, "
                        "or plan a channel that has them.")
    planned = [c for c in known if c in timed]
    minutes = math.ceil((stop.replace(tzinfo=None) - begin.replace(tzinfo=None)).total_seconds() / 60)
    table = forecast(ws, channel=planned, interval=interval, horizon=f"{max(minutes, interval_s // 60)}m",
                     start=begin)
    table = table.filter(pc.less(table["interval_start"], pa.scalar(stop, pa.timestamp("us", tz=tz))))
    channels = sorted(set(table["channel"].to_pylist()))
    local = table["interval_start"]
    slots = ((pc.hour(local).to_numpy() * 3600 + pc.minute(local).to_numpy() * 60) // interval_s).astype(np.int64)
    weekend = pc.day_of_week(local).to_numpy() >= 5
    row_channels = table["channel"].to_numpy(zero_copy_only=False)
    aht = _aht(ws, channels, begin, interval_s, slots, weekend, row_channels)
    volume = np.maximum(table["volume"].to_numpy(), 0.0)
    load = volume * aht / interval_s
    if patience_s == "auto":
        known = _patience_by_channel(ws, None, begin)
        pat = np.array([known.get(c, np.nan) for c in row_channels.tolist()])
    else:
        pat = np.full(table.num_rows, np.nan if patience_s is None else float(patience_s))
    erlang_a_rows = ~np.isnan(pat)
    # an interval where not one contact is expected even at the 95% bound (hours that had none
    # in the weeks behind the forecast: the line's closed hours) needs no agent
    quiet = table["hi95"].to_numpy() == 0
    agents = np.zeros(table.num_rows, np.int64)
    got = {k: np.zeros(table.num_rows) for k in ("service_level", "p_wait", "asa", "occupancy", "p_abandon")}
    targets = {"service_level": service_level, "max_p_wait": max_p_wait, "max_occupancy": max_occupancy}
    for rows, model_a in ((np.flatnonzero(~erlang_a_rows & ~quiet), False),
                          (np.flatnonzero(erlang_a_rows & ~quiet), True)):
        if not rows.size:
            continue
        try:
            n, m = _queues.smallest_agents(load[rows], answer_within_s / aht[rows],
                                           pat[rows] / aht[rows] if model_a else None, limit=_MAX_AGENTS, **targets)
        except OverflowError:
            raise UserError(f"more than {_MAX_AGENTS:,} agents would be needed in an interval: "
                            "check the history's volumes and handle times.") from None
        agents[rows] = n
        for k in got:
            got[k][rows] = m[k]
    scheduled = np.ceil(agents / (1.0 - cut) - 1e-9).astype(np.int64)
    # actuals: the history's arrivals up to its end (later intervals have none yet)
    done = arrivals(ws, interval=interval, channel=channels, start=begin, end=stop)
    actual = {(c, int(t.timestamp())): v for c, t, v in zip(done["channel"].to_pylist(),
                                                              done["interval_start"].to_pylist(),
                                                              done["volume"].to_pylist(), strict=True)}
    history_end = default_start(ws, interval_s, channels)
    starts = table["interval_start"].to_pylist()
    actual_volume = [actual.get((c, int(t.timestamp())), 0) if t < history_end else None
                     for c, t in zip(row_channels.tolist(), starts, strict=True)]
    actual_sl = _actual_service_level(ws, table, interval_s, answer_within_s, begin, stop)
    heads, actual_occ = _shifts(ws, table, agents.astype(float), interval, begin, stop)
    model = np.where(quiet, "none", np.where(erlang_a_rows, "erlang_a", "erlang_c"))
    for k in got:  # nothing to predict where nobody is planned
        got[k][quiet] = np.nan
    out = pa.table({
        "channel": table["channel"], "interval_start": table["interval_start"],
        "volume": table["volume"], "lo80": table["lo80"], "hi80": table["hi80"], "lo95": table["lo95"],
        "hi95": table["hi95"],
        "aht_s": pa.array(aht), "patience_s": pa.array(pat, mask=~erlang_a_rows),
        "agents": pa.array(agents), "scheduled": pa.array(scheduled),
        "service_level": pa.array(got["service_level"], mask=quiet), "p_wait": pa.array(got["p_wait"], mask=quiet),
        "asa_s": pa.array(got["asa"] * aht, mask=quiet), "occupancy": pa.array(got["occupancy"], mask=quiet),
        "p_abandon": pa.array(got["p_abandon"], mask=~erlang_a_rows | quiet),
        "model": pa.array(model.tolist(), pa.string()),
        "staffed": pa.array(heads, mask=np.isnan(heads)),
        "actual_volume": pa.array(actual_volume, pa.int64()),
        "actual_service_level": pa.array(actual_sl, mask=np.isnan(actual_sl)),
        "actual_occupancy": pa.array(actual_occ, mask=np.isnan(actual_occ)),
    })
    return out.replace_schema_metadata({"skipped": ",".join(skipped)}) if skipped else out
