"""Queue: the support queue now, created vs solved over the period, and the backlog's ages.

'Now' is the workspace's now: the wall clock while the data reaches yesterday or today, else
the end of the last day with data (the local midnight of `_data.anchor_day`, where the dashboard's
preset periods end), so a demo or an imported history shows its queue as it stood when
its data ends and the page says which instant that is.

The open tickets now are the backlog metric's (created before now, not solved by then or
reopened since: `metrics._business.backlog`), so the page's open count equals
`ws.metrics(["backlog"], end=now)`; among them, unassigned (no assignee), pending
(waiting on the customer) and on hold (waiting on a third party), by their current
status (docs/metrics.md). A customer is waiting when their last message (or, for a
ticket they created, its creation) has no public human reply after it; they wait since
the first customer message after the last reply, as a reply interval starts
(`facts._sql.reply_intervals`). Breaching soon: the SLA targets of open tickets still
running (not completed, not paused) that are due within the next hour or already past
due. Agents active: humans with a public reply in the last hour, and who is on shift
now when the workspace has shifts.

Created vs solved come from the registry (`tickets` and `solved_tickets` per day or
week); the backlog's ageing buckets link to the drill-down of backlog narrowed by `age`.
The view's dimension filters apply throughout; the period applies to created vs solved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import duckdb
from sqlglot import exp

from cxmetrics._workspace import Workspace
from cxmetrics.api._redact import redact_paths
from cxmetrics.errors import CxError, UserError
from cxmetrics.metrics._sources import DIMENSIONS as LIBRARY_DIMENSIONS
from cxmetrics.metrics._sources import NONE, SOURCES, dimension_in
from cxmetrics.web import _format as fmt
from cxmetrics.web._charts import ACCENT, GOOD, PALETTE, layout
from cxmetrics.web._data import anchor_day
from cxmetrics.web._filters import Filters

ACTIVE_WINDOW = timedelta(minutes=60)
SOON = timedelta(hours=1)
#: Backlog ageing buckets: (label, days from, days to (None: no end)); the `age` filter's ranges.
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("< 1 day", 0, 1), ("1–3 days", 1, 3), ("3–7 days", 3, 7), ("7–30 days", 7, 30), ("> 30 days", 30, None))
SPLITS = {"": "Total", "channel": "Channel", "team": "Team"}
WAITING_LIMIT = 15
BREACH_LIMIT = 100
SPLIT_SERIES = 6  # groups drawn in the split chart (the table lists them all)
DONE = "('solved', 'closed')"


@dataclass(frozen=True)
class Now:
    """The instant the queue is read at, and whether it is the wall clock."""

    at: datetime
    live: bool
    anchor: date  # the day after the last day with data (the drill-down's `to`)

    @property
    def iso(self) -> str:
        return self.at.isoformat()


def queue_now(ws: Workspace) -> Now:
    """The wall clock while the data reaches yesterday or today (a quiet night must not freeze
    the live queue at midnight), else the end of the last day with data."""
    anchor = anchor_day(ws)
    tz = ZoneInfo(ws.settings.timezone)
    wall = datetime.now(tz)
    end_of_data = datetime.combine(anchor, time(), tzinfo=tz)
    live = wall.date() <= anchor  # the last day with data is yesterday or today
    return Now(wall if live else end_of_data, live, anchor)


def ticket_href(source: str | None, ticket_id: str | None) -> str:
    """The ticket page of one ticket."""
    return f"/tickets/{quote(str(source or ''), safe='')}/{quote(str(ticket_id or ''), safe='')}"


def _dims_sql(f: Filters, alias: str) -> str:
    """The view's dimension filters over ticket facts `alias`, as the engine compares them."""
    return "".join(f" AND {dimension_in(f'{alias}.{LIBRARY_DIMENSIONS[d]}', v)}" for d, v in f.dims.items())


def _open_sql(f: Filters, at: str) -> str:
    """CTE `open`: the tickets open at `at` (SQL of an instant), by the backlog
    metric's rule (metrics._business: solved at the first solve, a done ticket without one
    at its last event; an unsolved ticket that was solved reopened at its reopen)."""
    return f"""open AS MATERIALIZED (
        SELECT source, ticket_id, created_at, created_by, channel, team, priority, assignee_id, status,
               waiting_since, (epoch_us({at}) - epoch_us(created_at)) / 1e6 AS age_s
        FROM (
            SELECT t.*,
                   CASE WHEN t.first_solved_at IS NOT NULL THEN greatest(t.first_solved_at, t.created_at)
                        WHEN t.status IN {DONE} THEN greatest(t.last_event_at, t.created_at) END AS solve_ts,
                   CASE WHEN t.status NOT IN {DONE} AND t.first_solved_at IS NOT NULL
                        THEN coalesce(t.reopened_at, t.last_solved_at) END AS reopen_ts
            FROM ({SOURCES['tickets'].sql}) t
            WHERE t.created_at IS NOT NULL{_dims_sql(f, 't')}
        ) t
        WHERE created_at < {at} AND (solve_ts IS NULL OR solve_ts >= {at} OR reopen_ts < {at})
    )"""


def _at(now: Now) -> str:
    """The instant as a SQL literal (a constant folds into the plans, a joined CTE does not)."""
    return f"CAST({exp.Literal.string(now.iso).sql(dialect='duckdb')} AS TIMESTAMPTZ)"


def _with(f: Filters, now: Now) -> str:
    return f"WITH {_open_sql(f, _at(now))}"


# -- now -------------------------------------------------------------------------------


def _now_view(f: Filters, now: Now) -> Filters:
    """The view of the drill-down links of 'now': backlog at the anchor day (the open
    tickets now; a live 'now' has no later events before then)."""
    return Filters(start=now.anchor - timedelta(days=1), end=now.anchor, period="custom", dims=f.dims)


def _backlog_href(view: Filters, **extra: str | list[str]) -> str:
    params = view.drill_params("backlog")
    for k, v in extra.items():
        params += [(k, x) for x in ([v] if isinstance(v, str) else v)]
    return "/tickets?" + urlencode(params)


def counts(ws: Workspace, f: Filters, now: Now) -> dict[str, Any]:
    """Open, unassigned, pending and on-hold tickets now, in all and by channel and team."""
    rows = ws.sql(f"""{_with(f, now)}
        SELECT channel, team, count(*) AS open, count(*) FILTER (assignee_id IS NULL) AS unassigned,
               count(*) FILTER (status = 'pending') AS pending, count(*) FILTER (status = 'on-hold') AS on_hold
        FROM open GROUP BY ALL""").to_pylist()
    view = _now_view(f, now)
    keys = ("open", "unassigned", "pending", "on_hold")

    def table(dim: str) -> list[dict[str, Any]]:
        acc: dict[Any, dict[str, int]] = {}
        for r in rows:
            cell = acc.setdefault(r[dim], dict.fromkeys(keys, 0))
            for k in keys:
                cell[k] += r[k]
        out = []
        for value, c in sorted(acc.items(), key=lambda kv: (-kv[1]["open"], str(kv[0]))):
            # the group without a value is asked for as (none)
            narrow = view.with_dims(**{dim: str(value) if value is not None else NONE})
            out.append({"value": value if value is not None else f"no {dim}", **c, **_links(narrow)})
        return out

    total = {k: sum(r[k] for r in rows) for k in keys}
    return {"total": {**total, **_links(view)}, "by_channel": table("channel"), "by_team": table("team")}


def _links(view: Filters) -> dict[str, str | None]:
    # unassigned: the open tickets without an assignee; a view of some assignees has none
    # unless (none) is one of them
    asked = view.dims.get("assignee")
    unassigned = _backlog_href(view.with_dims(assignee=NONE)) if asked is None or NONE in asked else None
    return {"open_href": _backlog_href(view), "pending_href": _backlog_href(view, status="pending"),
            "on_hold_href": _backlog_href(view, status="on-hold"), "unassigned_href": unassigned}


def _events_after(ws: Workspace, now: Now) -> bool:
    """Whether a ticket has an event dated after `now` (then the facts' waits are not now's)."""
    return bool(ws.sql(f"SELECT EXISTS (SELECT 1 FROM ticket_facts WHERE last_event_at > {_at(now)}) AS x"
                       ).to_pylist()[0]["x"])


def waiting(ws: Workspace, f: Filters, now: Now, limit: int = WAITING_LIMIT) -> dict[str, Any]:
    """The customers waiting for a reply now, longest first, and how many there are."""
    # the facts keep each open ticket's wait (ticket_facts.waiting_since, from all its events):
    # right for any "now" after every event; an event dated later (a clock set back, a "now"
    # in the past) needs the messages up to "now", read from the events
    if not _events_after(ws, now):
        wait = """,
        wait AS (SELECT source, ticket_id, waiting_since AS since FROM open WHERE waiting_since IS NOT NULL)"""
    else:
        wait = f""",
        msg AS MATERIALIZED (
            SELECT e.source, e.ticket_id, e.ts, e.actor_type = 'agent' AS agent
            -- (by ticket id alone, which is cheaper: another source's ticket of the same id drops out
            -- at the join with `open` below)
            FROM events e
            WHERE e.ticket_id IN (SELECT ticket_id FROM open) AND e.kind = 'message' AND coalesce(e.public, true)
              AND e.actor_type IN ('customer', 'agent') AND e.ts <= {_at(now)}
            UNION ALL  -- a ticket its customer created opens a wait at its creation
            SELECT source, ticket_id, created_at, false FROM open WHERE created_by = 'customer'
        ),
        replied AS (SELECT source, ticket_id, max(ts) FILTER (agent) AS last_reply FROM msg GROUP BY ALL),
        wait AS (
            SELECT m.source, m.ticket_id, min(m.ts) AS since
            FROM msg m JOIN replied r ON r.source = m.source AND r.ticket_id = m.ticket_id
            WHERE NOT m.agent AND (r.last_reply IS NULL OR m.ts > r.last_reply)
            GROUP BY ALL
        )"""
    rows = ws.sql(f"""{_with(f, now)}{wait},
        listed AS (
            SELECT o.source, o.ticket_id, o.channel, o.team, o.assignee_id, o.status, o.priority, w.since,
                   (epoch_us({_at(now)}) - epoch_us(w.since)) / 1e6 AS waited_s, count(*) OVER () AS waiting
            FROM wait w JOIN open o ON o.source = w.source AND o.ticket_id = w.ticket_id
        )
        SELECT * FROM listed ORDER BY since, source, ticket_id LIMIT ?""", [limit]).to_pylist()
    tz = ZoneInfo(ws.settings.timezone)
    out = [{"ticket_id": r["ticket_id"], "source": r["source"], "href": ticket_href(r["source"], r["ticket_id"]),
            "channel": r["channel"] or "", "team": r["team"] or "", "assignee": r["assignee_id"] or "unassigned",
            "status": r["status"] or "", "priority": r["priority"] or "", "waited_s": r["waited_s"],
            "waited": fmt.duration(r["waited_s"]), "since": r["since"].astimezone(tz).strftime("%d %b %H:%M"),
            "since_ms": int(r["since"].timestamp() * 1000)} for r in rows]
    return {"rows": out, "count": rows[0]["waiting"] if rows else 0, "oldest": out[0] if out else None}


def breaching(ws: Workspace, f: Filters, now: Now, evaluate: Callable[[], None] | None = None) -> dict[str, Any]:
    """SLA targets of open tickets, running, due within the next hour or already past due."""
    from cxmetrics.web import _sla

    ok, why = _sla.status(ws)
    if not ok:  # (without the server's folders: viewers see none)
        return {"configured": False, "reason": redact_paths(why)}
    try:
        if evaluate is not None:  # the clocks to the wall clock (the server's cadence)
            evaluate()
        else:  # as the SLA page does without a server
            from cxmetrics.sla import refresh_sla

            with ws._write_lock:
                refresh_sla(ws)
        rows = ws.sql(f"""{_with(f, now)}
            SELECT s.source, s.ticket_id, s.policy, s.metric, s.due_at, s.state, s.target_s, o.channel, o.team,
                   o.assignee_id, o.priority, (epoch_us(s.due_at) - epoch_us({_at(now)})) / 1e6 AS due_in_s
            FROM sla_targets s JOIN open o ON o.source = s.source AND o.ticket_id = s.ticket_id
            WHERE s.completed_at IS NULL AND s.state IN ('active', 'breached') AND s.due_at IS NOT NULL
              AND s.due_at <= {_at(now)} + to_microseconds(CAST(? AS BIGINT))
            ORDER BY s.due_at <= {_at(now)}, abs(epoch_us(s.due_at) - epoch_us({_at(now)})), s.source, s.ticket_id,
                     s.metric
        """, [int(SOON.total_seconds() * 1e6)]).to_pylist()
    except (CxError, duckdb.Error) as exc:  # a store without SLA tables: the rest of the page still shows
        if isinstance(exc, UserError):
            raise
        return {"configured": False, "reason": redact_paths(f"the SLA targets could not be read: {exc}")}
    tz = ZoneInfo(ws.settings.timezone)
    out = []
    for r in rows[:BREACH_LIMIT]:
        late = r["due_in_s"] <= 0
        out.append({"ticket_id": r["ticket_id"], "source": r["source"],
                    "href": ticket_href(r["source"], r["ticket_id"]),
                    "metric": _sla.METRIC_LABELS.get(r["metric"], r["metric"]), "policy": r["policy"],
                    "late": late, "left_s": r["due_in_s"],
                    "left": ("overdue " if late else "") + fmt.duration(abs(r["due_in_s"])),
                    "due": r["due_at"].astimezone(tz).strftime("%d %b %H:%M"), "channel": r["channel"] or "",
                    "team": r["team"] or "", "assignee": r["assignee_id"] or "unassigned",
                    "priority": r["priority"] or ""})
    return {"configured": True, "rows": out, "shown": len(out), "targets": len(rows),
            "breached": len({(r["source"], r["ticket_id"]) for r in rows if r["due_in_s"] <= 0}),
            "soon": len({(r["source"], r["ticket_id"]) for r in rows if r["due_in_s"] > 0})}


def active_agents(ws: Workspace, f: Filters, now: Now) -> dict[str, Any]:
    """Humans with a public reply in the last hour (on tickets of the view), and who is on
    shift now when the workspace has shifts."""
    dims = _dims_sql(f, "t")
    on_view = (f" AND EXISTS (SELECT 1 FROM ({SOURCES['tickets'].sql}) t WHERE t.source = e.source"
               f" AND t.ticket_id = e.ticket_id{dims})") if f.dims else ""
    replies = ws.sql(f"""
        SELECT e.actor_id AS agent_id, count(*) AS replies, max(e.ts) AS last_at,
               (epoch_us({_at(now)}) - epoch_us(max(e.ts))) / 1e6 AS ago_s
        FROM events e
        WHERE e.kind = 'message' AND coalesce(e.public, true) AND e.actor_type = 'agent' AND e.actor_id IS NOT NULL
          AND e.ts > {_at(now)} - to_microseconds(CAST(? AS BIGINT)) AND e.ts <= {_at(now)}{on_view}
        GROUP BY ALL""", [int(ACTIVE_WINDOW.total_seconds() * 1e6)]).to_pylist()
    has_shifts = bool(ws.sql("SELECT EXISTS (SELECT 1 FROM shifts) AS x").to_pylist()[0]["x"])
    shifts: list[dict[str, Any]] = []
    if has_shifts:
        # a shift has a team and a channel of its own: the view's filters on them apply
        conds = "".join(f" AND (s.{d} IS NULL OR {dimension_in(f's.{d}', f.dims[d])})" for d in ("team", "channel")
                        if d in f.dims)
        shifts = ws.sql(f"""SELECT s.agent_id, string_agg(DISTINCT s.activity, ', ' ORDER BY s.activity) AS activity,
                   min(s.end_at) AS until
            FROM shifts s WHERE s.start_at <= CAST(? AS TIMESTAMPTZ) AND s.end_at > CAST(? AS TIMESTAMPTZ){conds}
            GROUP BY ALL""", [now.iso, now.iso]).to_pylist()
    names = {r["agent_id"]: r for r in ws.sql("SELECT agent_id, any_value(name) AS name, any_value(team) AS team "
                                               "FROM agents GROUP BY ALL").to_pylist()}
    by_agent: dict[str, dict[str, Any]] = {}
    tz = ZoneInfo(ws.settings.timezone)
    for r in replies:
        by_agent[r["agent_id"]] = {"agent_id": r["agent_id"], "replies": r["replies"], "ago_s": r["ago_s"],
                                   "last": fmt.duration(r["ago_s"]) + " ago", "shift": "", "until": ""}
    for s in shifts:
        row = by_agent.setdefault(s["agent_id"], {"agent_id": s["agent_id"], "replies": 0, "ago_s": None,
                                                  "last": "", "shift": "", "until": ""})
        row["shift"], row["until"] = s["activity"], s["until"].astimezone(tz).strftime("%H:%M")
    out = []
    for a in by_agent.values():
        known = names.get(a["agent_id"]) or {}
        out.append({**a, "name": known.get("name") or a["agent_id"], "team": known.get("team") or ""})
    out.sort(key=lambda a: (-a["replies"], a["ago_s"] if a["ago_s"] is not None else float("inf"), a["agent_id"]))
    return {"rows": out, "replying": len(replies), "has_shifts": has_shifts,
            "on_shift": sum(1 for s in shifts if "available" in s["activity"].split(", ")),
            "on_shift_any": len(shifts)}


# -- backlog ageing --------------------------------------------------------------------


def ageing(ws: Workspace, f: Filters, now: Now) -> dict[str, Any]:
    """The open tickets now by age bucket and channel, each cell linked to its tickets."""
    cases = " ".join(f"WHEN age_s < {hi * 86400} THEN {i}" for i, (_, _, hi) in enumerate(AGE_BUCKETS) if hi)
    rows = ws.sql(f"""{_with(f, now)}
        SELECT channel, CASE {cases} ELSE {len(AGE_BUCKETS) - 1} END AS bucket, count(*) AS n
        FROM open GROUP BY ALL""").to_pylist()
    view = _now_view(f, now)
    age = [f"{lo}-{hi if hi is not None else ''}" for _, lo, hi in AGE_BUCKETS]
    acc: dict[Any, list[int]] = {}
    for r in rows:
        acc.setdefault(r["channel"], [0] * len(AGE_BUCKETS))[r["bucket"]] += r["n"]
    out = []
    for ch, cells in sorted(acc.items(), key=lambda kv: (-sum(kv[1]), str(kv[0]))):
        narrow = view.with_dims(channel=ch) if ch is not None else None
        out.append({"channel": ch if ch is not None else "no channel", "total": sum(cells),
                    "cells": [{"n": n, "href": _backlog_href(narrow, age=a) if narrow and n else None}
                              for n, a in zip(cells, age, strict=True)]})
    totals = [sum(r["cells"][i]["n"] for r in out) for i in range(len(AGE_BUCKETS))]
    figure = {"data": [{"type": "bar", "x": [b[0] for b in AGE_BUCKETS], "y": totals, "marker": {"color": ACCENT},
                        "customdata": [_backlog_href(view, age=a) for a in age],
                        "hovertemplate": "%{x}: %{y:,} open<extra></extra>"}],
              "layout": layout(margin={"t": 8, "b": 36}, showlegend=False, hovermode="closest")}
    return {"buckets": [b[0] for b in AGE_BUCKETS], "rows": out, "figure": figure,
            "totals": [{"n": n, "href": _backlog_href(view, age=a) if n else None}
                       for n, a in zip(totals, age, strict=True)],
            "total": sum(totals), "total_href": _backlog_href(view)}


# -- created vs solved -----------------------------------------------------------------


def _spine(f: Filters, grain: str) -> list[str]:
    d = f.start if grain == "day" else f.start - timedelta(days=f.start.weekday())
    out = []
    while d < f.end:
        out.append(d.isoformat())
        d += timedelta(days=1 if grain == "day" else 7)
    return out


def created_solved(ws: Workspace, f: Filters, split: str = "") -> dict[str, Any]:
    """Tickets created and solved per day (periods up to 31 days) or week, in all or per
    channel or team: the registry's `tickets` and `solved_tickets`."""
    from cxmetrics.web._trends import period_view

    if split not in SPLITS:
        raise UserError(f"split '{split}' is not one of {', '.join(k for k in SPLITS if k)} (or empty for the total).")
    grain = "day" if f.days <= 31 else "week"
    rows = ws.metrics(["tickets", "solved_tickets"], by=[split] if split else None, grain=grain, where=f.where,
                      start=f.start, end=f.end).to_pylist()
    spine = _spine(f, grain)
    series: dict[Any, dict[str, dict[str, int]]] = {}
    for r in rows:
        cell = series.setdefault(r.get(split) if split else "all", {"tickets": {}, "solved_tickets": {}})
        cell[r["metric"]][str(r["period"])[:10]] = int(r["value"] or 0)

    def href(metric: str, group: Any, p: str) -> str:
        view = period_view(f, p, grain)
        extra = {split: str(group)} if split and group is not None else {}
        return "/tickets?" + urlencode(view.drill_params(metric, **extra))

    def volume(g: Any) -> int:
        return sum(series[g]["tickets"].values()) + sum(series[g]["solved_tickets"].values())

    groups = sorted(series, key=lambda g: (-volume(g), str(g)))
    traces: list[dict[str, Any]] = []
    table = []
    for i, g in enumerate(groups):
        created = [series[g]["tickets"].get(p, 0) for p in spine]
        solved = [series[g]["solved_tickets"].get(p, 0) for p in spine]
        name = "" if not split else f"{g if g is not None else 'no ' + split} · "
        linkable = not split or g is not None
        if i < SPLIT_SERIES:
            colour = PALETTE[i % len(PALETTE)] if split else ACCENT
            common = {"x": spine, "hovertemplate": "%{fullData.name}: %{y:,}<extra></extra>"}
            if split:
                traces += [{**common, "type": "scatter", "mode": "lines+markers", "name": name + "created",
                            "y": created,
                            "line": {"color": colour, "width": 2}, "marker": {"size": 5},
                            "customdata": [href("tickets", g, p) for p in spine] if linkable else None},
                           {**common, "type": "scatter", "mode": "lines+markers", "name": name + "solved", "y": solved,
                            "line": {"color": colour, "width": 2, "dash": "dot"}, "marker": {"size": 5, "symbol": "x"},
                            "customdata": [href("solved_tickets", g, p) for p in spine] if linkable else None}]
            else:
                traces += [{**common, "type": "bar", "name": "Created", "y": created, "marker": {"color": ACCENT},
                            "customdata": [href("tickets", g, p) for p in spine]},
                           {**common, "type": "bar", "name": "Solved", "y": solved, "marker": {"color": GOOD},
                            "customdata": [href("solved_tickets", g, p) for p in spine]}]
        c, s = sum(created), sum(solved)
        group_view = f.with_dims(**{split: str(g)}) if split and g is not None else f
        table.append({"group": (g if g is not None else f"no {split}") if split else "All tickets",
                      "created": c, "solved": s, "net": c - s, "net_text": f"{c - s:+,}" if c != s else "0",
                      "created_href": "/tickets?" + urlencode(group_view.drill_params("tickets")) if linkable else None,
                      "solved_href": "/tickets?" + urlencode(group_view.drill_params("solved_tickets"))
                      if linkable else None})
    figure = {"data": traces, "layout": layout(margin={"t": 30}, barmode="group", hovermode="x unified",
                                               xaxis={"type": "date"})}
    points = [{"period": p, "created": series.get("all", {}).get("tickets", {}).get(p, 0),
               "solved": series.get("all", {}).get("solved_tickets", {}).get(p, 0)} for p in spine] if not split else []
    return {"grain": grain, "split": split, "splits": SPLITS, "figure": figure, "table": table, "points": points,
            "empty": not rows or not any(t["created"] or t["solved"] for t in table),
            "drawn": min(len(groups), SPLIT_SERIES), "groups": len(groups)}


# -- the page and the tile -------------------------------------------------------------


def _now_label(ws: Workspace, now: Now) -> str:
    tz = ZoneInfo(ws.settings.timezone)
    local = now.at.astimezone(tz)
    return f"{local:%d %b %Y %H:%M} ({ws.settings.timezone})"


def queue(ws: Workspace, f: Filters, *, split: str = "", evaluate: Callable[[], None] | None = None) -> dict[str, Any]:
    """The Queue page (see the module docstring)."""
    if split not in SPLITS:
        raise UserError(f"split '{split}' is not one of {', '.join(k for k in SPLITS if k)} (or empty for the total).")
    now = queue_now(ws)
    return {"now": {"iso": now.iso, "live": now.live, "label": _now_label(ws, now),
                    "ms": int(now.at.timestamp() * 1000)},
            "counts": counts(ws, f, now), "waiting": waiting(ws, f, now), "breaching": breaching(ws, f, now, evaluate),
            "agents": active_agents(ws, f, now), "ageing": ageing(ws, f, now),
            "flow": created_solved(ws, f, split), "active_minutes": int(ACTIVE_WINDOW.total_seconds() // 60)}


def tile(ws: Workspace, f: Filters) -> dict[str, Any]:
    """The overview's Queue tile: open now, unassigned, the oldest wait, linking to /queue."""
    now = queue_now(ws)
    if _events_after(ws, now):  # the waits up to "now" come from the messages (see waiting)
        c = counts(ws, f, now)["total"]
        w = waiting(ws, f, now, limit=1)
        n_waiting, since = w["count"], w["oldest"]["since_ms"] if w["oldest"] else None
        oldest = w["oldest"]["waited"] if w["oldest"] else None
    else:  # one pass over the open tickets: their counts, and the waits the facts keep
        c = ws.sql(f"""{_with(f, now)}
            SELECT count(*) AS open, count(*) FILTER (assignee_id IS NULL) AS unassigned,
                   count(*) FILTER (status = 'pending') AS pending, count(*) FILTER (status = 'on-hold') AS on_hold,
                   count(waiting_since) AS waiting, min(waiting_since) AS since FROM open""").to_pylist()[0]
        n_waiting, first = c["waiting"], c["since"]
        since = int(first.timestamp() * 1000) if first is not None else None
        oldest = fmt.duration((now.at - first).total_seconds()) if first is not None else None
    return {"open": c["open"], "unassigned": c["unassigned"], "pending": c["pending"] + c["on_hold"],
            "waiting": n_waiting, "oldest": oldest, "oldest_ms": since,
            "live": now.live, "label": _now_label(ws, now), "href": "/queue" + (f"?{f.query()}" if f.query() else "")}


__all__ = ["AGE_BUCKETS", "SPLITS", "Now", "created_solved", "queue", "queue_now", "ticket_href", "tile"]
