"""A page per agent (human or bot) and per team: their KPIs against their peers, their
weekly trend, their tickets, CSAT comments and reopened tickets (issue 11, item 5).

Every number comes from the library: the KPIs from the metric engine's aggregates
(`aggregates`, what `ws.metrics` computes, with the raw counts a test needs), the verdict
beside each from the test `ws.compare` runs between two periods, run here between two
groups of the same period (`change_between`), the lists from the drill-down's rows (the
metric's source, time, filter and dimension rule). The reads run side by side on cursors
of their own (`side_by_side`). The peers are:

- for a human agent, their team: the team of most of their tickets in the view (the
  agents list's team when they have none);
- for a bot, all bots (the tickets assigned to any agent of type bot);
- for a team, the whole organisation (the view without its team filter).

The agent's tickets are part of their peers', so the two samples overlap; the test treats
them as independent, which overstates the variance of the difference: a difference
flagged is real, and one not flagged may still be (docs/dashboard.md).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from cxmetrics._workspace import Workspace, translate_errors
from cxmetrics.api._drill import count_behind, tickets_behind
from cxmetrics.errors import UnknownNameError
from cxmetrics.metrics._compare import change_between
from cxmetrics.metrics._compile import check_request
from cxmetrics.metrics._query import aggregates
from cxmetrics.metrics._registry import registry
from cxmetrics.metrics._scorecard import KPIS as SCORECARD_KPIS
from cxmetrics.metrics._sources import DIMENSIONS, SOURCES, dimension_in
from cxmetrics.metrics._spec import Direction
from cxmetrics.web import _format as fmt
from cxmetrics.web._charts import PALETTE, layout, rgba, scale_for
from cxmetrics.web._data import drill_href, spark_window, tone, week_spine
from cxmetrics.web._filters import Filters

#: A human agent's (and a team's) headline KPIs; those in OPTIONAL show only where the
#: subject has data (handle time needs calls or reported handle seconds).
HUMAN_KPIS = ("solved_tickets", "frt", "full_resolution_time", "csat", "dsat", "fcr", "reopen_rate", "aht")
#: A bot's: containment (bot_resolution_rate) and hand-offs first, then what customers see.
BOT_KPIS = ("solved_tickets", "bot_resolution_rate", "bot_handoff_rate", "frt_first_touch", "full_resolution_time",
            "csat", "dsat", "reopen_rate")
TEAM_KPIS = HUMAN_KPIS + ("bot_resolution_rate",)
OPTIONAL = ("aht", "bot_resolution_rate")
#: The weekly trend's metrics (rates and times: a count has no team line to set it against).
HUMAN_TREND = ("csat", "frt", "fcr")
BOT_TREND = ("bot_resolution_rate", "csat", "frt_first_touch")
#: Rows shown per list; the rest are a click away on the tickets page.
LIST_ROWS = 25
#: Reads a page runs at the same time (`side_by_side`).
MAX_THREADS = 8
SCORECARD_LABELS = {"solved_tickets": "Solved", "frt_first_touch": "First touch", "frt": "First response",
                    "aht": "Handle time", "fcr": "FCR", "reopen_rate": "Reopened", "csat": "CSAT"}


class NotFoundError(UnknownNameError):
    """No such agent or team in the workspace: the page answers 404 and names it."""


# -- links -------------------------------------------------------------------------------


def _with_query(path: str, f: Filters) -> str:
    q = f.query()
    return path + (f"?{q}" if q else "")


def agent_href(agent_id: str, f: Filters) -> str:
    """The agent's page in this view (the id url-encoded whole: it may hold '/' or spaces).

    >>> from datetime import date
    >>> agent_href("eu/anna b", Filters.parse({}, anchor=date(2026, 11, 1)))
    '/agents/eu%2Fanna%20b'
    """
    return _with_query("/agents/" + quote(agent_id, safe=""), f)


def team_href(team: str, f: Filters) -> str:
    """The team's page in this view (the view's own team filter dropped: the page sets it)."""
    return _with_query("/teams/" + quote(team, safe=""), f.with_dims(team=None))


def ticket_href(source: str, ticket_id: str) -> str:
    """The ticket page (issue 11, item 6), both parts url-encoded."""
    return f"/tickets/{quote(str(source), safe='')}/{quote(str(ticket_id), safe='')}"


# -- who --------------------------------------------------------------------------------


def find_agent(ws: Workspace, agent_id: str) -> dict[str, Any]:
    """The agent named `agent_id` (the agents list, else an assignee of some ticket; the
    exact id first, then case-blind as every filter): id, name, type and listed team."""
    rows = ws.sql(
        """WITH known AS (
             SELECT agent_id, any_value(name) AS name, any_value(type) AS type, any_value(team) AS team, 0 AS o
             FROM agents GROUP BY agent_id
             UNION ALL
             SELECT DISTINCT assignee_id, NULL, NULL, NULL, 1 FROM ticket_facts
             WHERE assignee_id IS NOT NULL AND lower(assignee_id) = lower(?))
           SELECT * FROM known WHERE lower(agent_id) = lower(?)
           ORDER BY agent_id <> ?, o LIMIT 1""", [agent_id, agent_id, agent_id]).to_pylist()
    if not rows:
        known = [r["agent_id"] for r in ws.sql("SELECT DISTINCT agent_id FROM agents").to_pylist()]
        raise NotFoundError("agent", agent_id, known, "The Agents & bots page lists them.")
    r = rows[0]
    return {"agent_id": r["agent_id"], "name": r["name"] or r["agent_id"], "type": r["type"] or "human",
            "listed_team": r["team"]}


def find_team(ws: Workspace, team: str) -> str:
    """The team as stored (case-blind, as every filter), from the tickets or the agents list."""
    rows = ws.sql(
        """SELECT team FROM (SELECT DISTINCT team FROM ticket_facts WHERE team IS NOT NULL
                            UNION SELECT DISTINCT team FROM agents WHERE team IS NOT NULL)
           WHERE lower(team) = lower(?) ORDER BY team <> ? LIMIT 1""", [team, team]).to_pylist()
    if not rows:
        known = [r["team"] for r in ws.sql("SELECT DISTINCT team FROM ticket_facts WHERE team IS NOT NULL "
                                           "UNION SELECT DISTINCT team FROM agents WHERE team IS NOT NULL").to_pylist()]
        raise NotFoundError("team", team, known, "The filter bar's Team list names them.")
    return str(rows[0]["team"])


def main_team(ws: Workspace, where: dict[str, object], f: Filters) -> str | None:
    """The team most of the view's tickets (`where`) belong to, ties by name; None without any."""
    rows = ws.metrics(["tickets"], by=["team"], where=where, start=f.start, end=f.end).to_pylist()
    rows = [r for r in rows if r["team"] is not None and r["n"]]
    return min(rows, key=lambda r: (-r["n"], str(r["team"])))["team"] if rows else None


def bot_ids(ws: Workspace) -> list[str]:
    return [r["agent_id"] for r in ws.sql("SELECT DISTINCT agent_id FROM agents WHERE type = 'bot' "
                                         "ORDER BY agent_id").to_pylist()]


# -- KPIs against the peers ---------------------------------------------------------------


def asked(f: Filters, name: str) -> str:
    """The metric the view reads for `name`: its business-hours twin under the filter bar's
    business-hours toggle (`Filters.metric`), else `name`. The page reads the workspace on
    cursors of its own, past the view's business-hours wrapper, so it asks for twins itself."""
    metric = getattr(f, "metric", None)
    return metric(name) if callable(metric) else name


def _records(ws: Workspace, names: tuple[str, ...], where: dict[str, object], f: Filters) -> dict[str, dict[str, Any]]:
    """Each metric's value, n, 95% interval and raw aggregates (for the test) in the view,
    by the name asked."""
    back = {asked(f, n): n for n in names}
    refs = [registry().resolve(n) for n in back]
    check_request(refs, by=[], grain=None, where=where, start=f.start, end=f.end)
    with translate_errors():
        rows = aggregates(ws.con, refs, by=[], where=where, start=f.start, end=f.end)
    return {back[r["metric"]]: r for r in rows}


def kpis(f: Filters, names: tuple[str, ...], mine: dict[str, dict[str, Any]], theirs: dict[str, dict[str, Any]],
         drill: dict[str, str]) -> list[dict[str, Any]]:
    """One row per KPI: the subject's value and the peers' (`_records` of each), with n and
    interval, the difference (subject - peers) and the test's verdict; `drill`: the
    subject's drill filter."""
    reg = registry()
    out = []
    for name in names:
        spec = reg.resolve(name).spec
        a, p = mine.get(name), theirs.get(name)
        if name in OPTIONAL and not (a and a["n"]):
            continue
        unit = spec.unit.value
        row: dict[str, Any] = {"metric": name, "label": spec.label, "description": spec.description, "unit": unit}
        for side, r in (("me", a), ("peer", p)):
            value = r["value"] if r else None
            row[side] = {"value": value, "text": fmt.value(value, unit), "n": r["n"] if r else 0,
                         "ci": fmt.interval(r["ci_low"], r["ci_high"], unit) if r else "",
                         "small": bool(r and "small_sample" in r["flags"] and value is not None)}
        row["href"] = drill_href(f, name, **drill)
        if unit == "count":  # a count is the subject's part of the peers' whole: no test
            share = (100.0 * row["me"]["value"] / row["peer"]["value"]) if row["peer"]["value"] else None
            row["change"] = {"text": "" if share is None else f"{share:.0f}% of theirs", "verdict": "",
                             "tone": "neutral",
                             "significant": None, "p_text": "", "test": "a count: its share of the peers' count"}
        elif a is None or p is None or a["value"] is None or p["value"] is None:
            row["change"] = {"text": "—", "verdict": "", "tone": "neutral", "significant": None, "p_text": "",
                             "test": "no value on one side"}
        else:
            # peers -> subject: the difference is subject - peers
            t = change_between(reg.resolve(asked(f, name)), p, a)
            sig = t["significant"]
            row["change"] = {
                "delta": t["change"], "text": fmt.change(t["change"], unit), "significant": sig,
                "verdict": "not tested" if sig is None else ("differs" if sig else "within noise"),
                "p_text": fmt.p_value(t["p_value"]), "test": t["test"] or "no test for this kind of metric",
                "ci": fmt.interval(t["ci_low"], t["ci_high"], unit) if t["ci_low"] is not None else "",
                "tone": tone(t["change"], spec.direction, sig) if spec.direction is not Direction.NONE else "neutral",
            }
        out.append(row)
    return out


# -- the trend ------------------------------------------------------------------------------


def weekly(ws: Workspace, f: Filters, names: tuple[str, ...], where: dict[str, object]) -> list[dict[str, Any]]:
    """Each metric's weekly rows over the overview's sparkline window (12 complete weeks to
    the period's end, or all the weeks of a longer period)."""
    s0, s1 = spark_window(f)
    back = {asked(f, n): n for n in names}
    rows = ws.metrics(list(back), grain="week", where=where, start=s0, end=s1).to_pylist()
    return [{**r, "metric": back[r["metric"]]} for r in rows]


def trend(f: Filters, names: tuple[str, ...], mine: list[dict[str, Any]], theirs: list[dict[str, Any]],
          me: str, peer: str) -> dict[str, Any]:
    """The `weekly` rows of the subject (with its 95% band) and of the peers: one small
    Plotly figure per metric."""
    spine = week_spine(*spark_window(f))
    found = {side: {(r["metric"], str(r["period"])[:10]): r for r in rows}
             for side, rows in (("me", mine), ("peer", theirs))}
    charts = []
    for name in names:
        spec = registry().resolve(name).spec
        unit = spec.unit.value
        series = {side: [found[side].get((name, week)) for week in spine] for side in found}
        values = [r[k] for side in series for r in series[side] if r for k in ("value", "ci_high") if r[k] is not None]
        divisor, suffix = scale_for(unit, values)

        def y(r: dict[str, Any] | None, key: str = "value") -> float | None:
            return None if r is None or r[key] is None else round(r[key] / divisor, 4)

        def hover(r: dict[str, Any] | None) -> str:
            if r is None or r["value"] is None:
                return "no data"
            ci = fmt.interval(r["ci_low"], r["ci_high"], unit)
            return f"{fmt.value(r['value'], unit)} (n={r['n']:,})" + (f", 95% CI {ci}" if ci else "")

        mine, colour, grey = series["me"], PALETTE[0], "#6b7280"
        def bars(r: dict[str, Any] | None, key: str) -> float | None:
            v = y(r, key)
            return None if v is None or r is None or r["value"] is None else abs(v - r["value"] / divisor)

        # the 95% interval as error bars: a week without data leaves a gap, where a band
        # would be drawn across it
        traces: list[dict[str, Any]] = [
            {"type": "scatter", "mode": "lines+markers", "name": me, "x": spine, "y": [y(r) for r in mine],
             "line": {"color": colour, "width": 2}, "marker": {"size": 5, "color": colour},
             "error_y": {"type": "data", "symmetric": False, "array": [bars(r, "ci_high") for r in mine],
                         "arrayminus": [bars(r, "ci_low") for r in mine], "color": rgba(colour, 0.35),
                         "thickness": 1.2, "width": 2},
             "text": [hover(r) for r in mine], "hovertemplate": "%{text}<extra>" + _plain(me) + "</extra>"},
            {"type": "scatter", "mode": "lines", "name": peer, "x": spine, "y": [y(r) for r in series["peer"]],
             "line": {"color": grey, "width": 1.6, "dash": "dash"},
             "text": [hover(r) for r in series["peer"]], "hovertemplate": "%{text}<extra>" + _plain(peer) + "</extra>"},
        ]
        yaxis: dict[str, Any] = {"title": {"text": suffix}} if suffix else {}
        if unit == "percent":
            yaxis["ticksuffix"] = "%"
        charts.append({"metric": name, "label": spec.label, "description": spec.description,
                       "empty": not any(r and r["value"] is not None for r in mine),
                       "figure": {"data": traces, "layout": layout(yaxis=yaxis, margin={"t": 8, "l": 48, "b": 36},
                                                                   legend={"y": -0.16, "yanchor": "top"})}})
    last = spine[-1] if spine else None
    return {"charts": charts, "from": spine[0] if spine else None, "last_week": last, "weeks": len(spine)}


def _plain(text: str) -> str:
    """A name inside a Plotly hover template: its markup characters neutralised (the name
    is user data; Plotly renders a subset of HTML in templates)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("%", "%%").replace("{", "(")


# -- the lists --------------------------------------------------------------------------


def _when(value: Any, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%d %b %Y %H:%M") if isinstance(value, datetime) else ""


def _rows_behind(ws: Workspace, metric: str, where: dict[str, object], f: Filters, condition: str,
                 order: str, extra: str = "") -> tuple[list[dict[str, Any]], int]:
    """The rows behind `metric` in the view that meet `condition` (SQL over the source's
    columns), `order`ed: the first LIST_ROWS and their number. The rows are the drill-down's
    (`api._drill`: the metric's source, time, filter and the case-blind dimension rule), read
    from the source's lean SQL, as the metric engine reads it: the drill-down's full SQL
    also bands every survey send, which costs seconds at a million tickets and no list here
    shows."""
    spec = registry().resolve(metric).spec
    source = SOURCES[spec.source]
    t = spec.time
    conds = [f"{t} IS NOT NULL", f"{t} >= CAST(? AS TIMESTAMPTZ)", f"{t} < CAST(? AS TIMESTAMPTZ)", f"({spec.where})",
             f"({condition})"]
    hint = dict(source.time_hints).get(t)
    if hint is not None:  # the period on the table's own column too, so the scan skips the rest
        conds.append(f"(({hint}) IS NULL OR (({hint}) >= CAST(? AS TIMESTAMPTZ) "
                     f"AND ({hint}) < CAST(? AS TIMESTAMPTZ)))")
    for d, value in where.items():
        conds.append(dimension_in(DIMENSIONS[d], value if isinstance(value, list | tuple) else [value]))
    params = [str(f.start), str(f.end)] + ([str(f.start), str(f.end)] if hint is not None else [])
    sql = (f"WITH behind AS (SELECT src.*{extra}, ({spec.numerator or 'NULL'}) AS metric_value, "
           "count(*) OVER () AS _total "
           f"FROM ({source.sql_for(list(where))}) src WHERE {' AND '.join(conds)} ORDER BY {order} LIMIT {LIST_ROWS}) "
           "SELECT behind.*, t.subject FROM behind LEFT JOIN tickets t ON t.source = behind.source "
           f"AND t.ticket_id = behind.ticket_id ORDER BY {order}")
    with translate_errors():  # one pass: the page and, on each of its rows, their number
        rows = ws.con.sql(sql, params=params).to_arrow_table().to_pylist()
    return rows, int(rows[0]["_total"]) if rows else 0


def ticket_list(ws: Workspace, f: Filters, where: dict[str, object], drill: dict[str, str]) -> dict[str, Any]:
    """The latest tickets created in the view (the `tickets` metric's rows)."""
    tz = ZoneInfo(ws.settings.timezone)
    rows = tickets_behind(ws, "tickets", where, f.start, f.end, limit=LIST_ROWS).to_pylist()
    total = count_behind(ws, "tickets", where, f.start, f.end)
    return {"total": total, "shown": len(rows), "href": drill_href(f, "tickets", **drill), "rows": [
        {"ticket_id": r["ticket_id"], "href": ticket_href(r["source"], r["ticket_id"]),
         "created": _when(r["created_at"], tz),
         "created_sort": r["created_at"].isoformat() if r["created_at"] else "", "subject": r.get("subject") or "",
         "channel": r["channel"] or "", "status": r["status"] or "", "assignee": r["assignee_id"] or "",
         "frt": fmt.duration(r["frt_s"]) if r["frt_s"] is not None else "", "frt_s": r["frt_s"],
         "resolution": fmt.duration(r["full_resolution_s"]) if r["full_resolution_s"] is not None else "",
         "resolution_s": r["full_resolution_s"], "reopens": r["reopens"] or 0} for r in rows]}


def comment_list(ws: Workspace, f: Filters, where: dict[str, object], drill: dict[str, str]) -> dict[str, Any]:
    """The CSAT answers with a comment in the view (the `csat` metric's rows), latest first."""
    tz = ZoneInfo(ws.settings.timezone)
    # each answer's box by the metrics' own definitions: csat's top box, dsat's bottom box
    bottom = registry().resolve("dsat").spec.numerator or "false"
    rows, total = _rows_behind(ws, "csat", where, f, "comment IS NOT NULL AND trim(comment) <> ''",
                               "answered_at DESC, source, response_id", extra=f", ({bottom}) AS _bottom")
    out = []
    for r in rows:
        top, bottom_box = r["metric_value"], r["_bottom"]
        out.append({"score": f"{r['score']:g}" + (f" / {r['scale_max']:g}" if r.get("scale_max") else ""),
                    "score_value": r["score"], "tone": "good" if top else "bad" if bottom_box else "neutral",
                    "comment": r["comment"], "ticket_id": r["ticket_id"] or "",
                    "href": ticket_href(r["source"], r["ticket_id"]) if r["ticket_id"] else None,
                    "date": _when(r["answered_at"], tz), "date_sort": r["answered_at"].isoformat()})
    return {"total": total, "shown": len(out), "rows": out, "href": drill_href(f, "csat", **drill)}


def reopened_list(ws: Workspace, f: Filters, where: dict[str, object], drill: dict[str, str]) -> dict[str, Any]:
    """The solved tickets in the view reopened at least once (the reopen rate's numerator)."""
    tz = ZoneInfo(ws.settings.timezone)
    numerator = registry().resolve("reopen_rate").spec.numerator or "false"
    rows, total = _rows_behind(ws, "reopen_rate", where, f, numerator, "last_solved_at DESC, source, ticket_id")
    return {"total": total, "shown": len(rows), "href": drill_href(f, "reopen_rate", **drill), "rows": [
        {"ticket_id": r["ticket_id"], "href": ticket_href(r["source"], r["ticket_id"]),
         "subject": r.get("subject") or "",
         "solved": _when(r["last_solved_at"], tz), "solved_sort": r["last_solved_at"].isoformat(),
         "reopened": _when(r.get("reopened_at"), tz), "reopens": r["reopens"], "channel": r["channel"] or "",
         "status": r["status"] or ""} for r in rows]}


# -- the pages ------------------------------------------------------------------------------


def side_by_side(ws: Workspace, jobs: dict[str, Callable[[Workspace], Any]]) -> dict[str, Any]:
    """Run independent reads at the same time, each on a cursor of its own (reads of one
    database run side by side): a page's dozen queries, most waiting on one join, then take
    about as long as the slowest."""
    def run(job: Callable[[Workspace], Any]) -> Any:
        with ws.cursor(auto_refresh=False) as cur:
            return job(cur)

    with ThreadPoolExecutor(max_workers=min(len(jobs), MAX_THREADS), thread_name_prefix="cxm-agent") as pool:
        futures = {k: pool.submit(run, job) for k, job in jobs.items()}
        return {k: fut.result() for k, fut in futures.items()}


def _reads(f: Filters, names: tuple[str, ...], trend_names: tuple[str, ...], where: dict[str, object],
           peer_where: dict[str, object], drill: dict[str, str], *, lists: tuple[str, ...]) -> dict[str, Any]:
    jobs: dict[str, Callable[[Workspace], Any]] = {
        "mine": lambda cur: _records(cur, names, where, f), "theirs": lambda cur: _records(cur, names, peer_where, f),
        "weekly_mine": lambda cur: weekly(cur, f, trend_names, where),
        "weekly_theirs": lambda cur: weekly(cur, f, trend_names, peer_where),
        "volume": lambda cur: count_behind(cur, "tickets", where, f.start, f.end),
    }
    lister = {"tickets": ticket_list, "comments": comment_list, "reopened": reopened_list}
    for name in lists:
        jobs[name] = lambda cur, fn=lister[name]: fn(cur, f, where, drill)
    return jobs


def agent_page(ws: Workspace, f: Filters, agent_id: str) -> dict[str, Any]:
    """Everything the agent page shows, for the view `f` (the filter bar applies)."""
    who = find_agent(ws, agent_id)
    aid = who["agent_id"]
    bot = who["type"] == "bot"
    # the page's agent replaces the filter bar's Agent filter, on both sides
    base = {k: v for k, v in f.where.items() if k != "assignee"}
    where = {**base, "assignee": aid}
    if bot:
        peer_where: dict[str, object] = {**base, "assignee": bot_ids(ws) or [aid]}
        peer_name, team = "All bots", None
    else:
        team = main_team(ws, where, f) or who["listed_team"]
        peer_where = {**base, "team": team} if team else base
        peer_name = f"Team {team}" if team else "Everyone"
    names, trend_names = (BOT_KPIS, BOT_TREND) if bot else (HUMAN_KPIS, HUMAN_TREND)
    drill = {"assignee": aid}
    got = side_by_side(ws, _reads(f, names, trend_names, where, peer_where, drill,
                                  lists=("tickets", "comments", "reopened")))
    rows = kpis(f, names, got["mine"], got["theirs"], drill)
    volume = got["volume"]
    active = volume > 0 or any(r["me"]["n"] for r in rows)
    out: dict[str, Any] = {
        "kind": "agent", "agent": who, "bot": bot, "team": team, "peer_name": peer_name,
        "team_href": team_href(team, f) if team else None, "peer_rule": _peer_rule(bot, team, volume),
        "kpis": rows, "active": active, "volume": volume, "tickets_href": drill_href(f, "tickets", **drill),
    }
    if active:
        out["trend"] = trend(f, trend_names, got["weekly_mine"], got["weekly_theirs"], who["name"], peer_name)
        out.update(tickets=got["tickets"], comments=got["comments"], reopened=got["reopened"])
    return out


def _peer_rule(bot: bool, team: str | None, volume: int) -> str:
    if bot:
        return "all bots: the tickets assigned to any bot"
    if team is None:
        return "everyone in this view (the agent has no team)"
    if volume:
        return "the team of most of the agent's tickets in this view"
    return "the agents list's team (no tickets in this view)"


def team_page(ws: Workspace, f: Filters, team_name: str) -> dict[str, Any]:
    """Everything the team page shows: the team against the organisation, its trend and
    its agents' scorecard."""
    team = find_team(ws, team_name)
    view = f.with_dims(team=team)
    where, org_where = view.where, f.with_dims(team=None).where
    drill = {"team": team}
    jobs = _reads(f, TEAM_KPIS, HUMAN_TREND, where, org_where, drill, lists=("tickets",))
    jobs["agents"] = lambda cur: team_agents(cur, view)
    got = side_by_side(ws, jobs)
    rows = kpis(f, TEAM_KPIS, got["mine"], got["theirs"], drill)
    volume = got["volume"]
    active = volume > 0 or any(r["me"]["n"] for r in rows)
    out: dict[str, Any] = {"kind": "team", "team": team, "peer_name": "Organisation", "kpis": rows,
                           "active": active, "volume": volume, "peer_rule": "every team, in this view"}
    if active:
        out["trend"] = trend(f, HUMAN_TREND, got["weekly_mine"], got["weekly_theirs"], f"Team {team}", "Organisation")
        out.update(agents=got["agents"], columns=columns(), tickets=got["tickets"])
    return out


def team_agents(ws: Workspace, view: Filters) -> list[dict[str, Any]]:
    """The scorecard (`ws.scorecard`) over the team's tickets: each agent's KPIs, busiest first."""
    reg = registry()
    table = ws.scorecard(start=view.start, end=view.end, where=view.where).to_pylist()
    out = []
    for r in table:
        cells = []
        for k in SCORECARD_KPIS:
            spec = reg.resolve(k).spec
            n = r.get(f"{k}_n") or 0
            cells.append({"metric": k, "value": r.get(k), "text": fmt.value(r.get(k), spec.unit.value), "n": n,
                          "small": spec.unit.value != "count" and n < spec.min_n and r.get(k) is not None,
                          "href": drill_href(view, k, assignee=r["agent_id"]) if r.get(k) is not None else None})
        out.append({"agent_id": r["agent_id"], "name": r["name"] or r["agent_id"], "type": r["type"],
                    "href": agent_href(r["agent_id"], view.with_dims(team=None)), "cells": cells})
    out.sort(key=lambda r: (-(r["cells"][0]["value"] or 0), r["name"], r["agent_id"]))
    return out


def columns() -> list[dict[str, str]]:
    return [{"metric": k, "label": SCORECARD_LABELS[k]} for k in SCORECARD_KPIS]


def page_or_404(ws: Workspace, f: Filters, kind: str, name: str) -> dict[str, Any]:
    """The agent's or team's page, or for an unknown one a page answering 404 that names it
    (and the nearest known name)."""
    try:
        return agent_page(ws, f, name) if kind == "agent" else team_page(ws, f, name)
    except NotFoundError as exc:
        return {"kind": kind, "http_status": 404, "missing": name, "suggestion": exc.suggestion,
                "suggestion_href": (agent_href if kind == "agent" else team_href)(exc.suggestion, f)
                if exc.suggestion else None}


__all__ = ["NotFoundError", "agent_href", "agent_page", "columns", "page_or_404", "team_href", "team_page",
           "ticket_href"]
