"""The data each dashboard page shows, as functions of a Workspace and the view's filters.

Every number comes from the library (`ws.metrics`, `ws.compare`, `ws.scorecard`): the
pages add no formula of their own, only layout and wording. Each function returns plain
dicts and lists (JSON-ready), so it is tested without a browser.

The overview's tiles: value with n and a 95% interval, a weekly sparkline, the change
against the previous period of the same length tested for significance, the metric's
target and an industry reference, and flags for small samples.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import duckdb

from cxmetrics._workspace import Workspace
from cxmetrics.benchmarks import SEGMENTS
from cxmetrics.errors import CxError, UserError
from cxmetrics.metrics._registry import registry
from cxmetrics.metrics._spec import Direction, Kind, MetricSpec, Unit
from cxmetrics.metrics._compare import NO_DATA_BEFORE
from cxmetrics.metrics._query import shared_rows
from cxmetrics.metrics._sources import DIMENSIONS as LIBRARY_DIMENSIONS
from cxmetrics.metrics._sources import LIST_DIMENSIONS
from cxmetrics.metrics._stats import HEADLINE_MIN_N, proportion_change, wilson
from cxmetrics.web import _exports
from cxmetrics.web import _format as fmt
from cxmetrics.web._charts import sparkline
from cxmetrics.targets import Targets, load_targets
from cxmetrics.web._filters import DIMENSIONS, Filters

log = logging.getLogger("cxmetrics.web")

# -- shared ----------------------------------------------------------------------------

# each filter of the bar on its ticket_facts column (the library's names: metrics/_sources.py);
# a list column (tags) is counted per item, apart
_DIM_COLUMNS = {name: LIBRARY_DIMENSIONS[name] for name in DIMENSIONS if name not in LIST_DIMENSIONS}
_LIST_COLUMNS = {name: LIBRARY_DIMENSIONS[name] for name in DIMENSIONS if name in LIST_DIMENSIONS}
#: At most this many values of one dimension are offered (the largest; the rest are typed into the URL).
MAX_OPTIONS = 500


def anchor_day(ws: Workspace) -> date:
    """The day after the last day with data (today at the latest, in the workspace's time
    zone): where preset periods end. The last day is that of the latest event, not only the
    latest creation: a day with solves (and answers) but no new ticket is data too."""
    row = ws.sql(
        "SELECT strftime(least(CAST(greatest(max(created_at), max(last_event_at)) AS DATE), CAST(now() AS DATE)), "
        "'%Y-%m-%d') AS d, "
        "strftime(CAST(now() AS DATE), '%Y-%m-%d') AS today FROM ticket_facts WHERE NOT excluded"
    ).to_pylist()[0]
    return date.fromisoformat(row["d"] or row["today"]) + timedelta(days=1)


def filter_options(ws: Workspace) -> dict[str, list[dict[str, Any]]]:
    """Values each global filter can take (with their ticket counts, largest first), in one
    pass over the facts (grouping sets); a dimension the workspace has no value of is empty."""
    sets = ", ".join(f"({col})" for col in dict.fromkeys(_DIM_COLUMNS.values()))
    cols = ", ".join(dict.fromkeys(_DIM_COLUMNS.values()))
    rows = ws.sql(
        f"SELECT {cols}, count(*) AS n FROM ticket_facts WHERE NOT excluded GROUP BY GROUPING SETS ({sets})"
    ).to_pylist()
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in DIMENSIONS}
    for name, col in _DIM_COLUMNS.items():
        # a grouping set's row has its own column set and the others NULL; a NULL value of
        # the column itself (tickets without it) is no option
        found = [{"value": str(r[col]), "n": r["n"]} for r in rows
                 if r[col] is not None and all(r[c] is None for c in _DIM_COLUMNS.values() if c != col)]
        out[name] = sorted(found, key=lambda o: (-o["n"], o["value"]))[:MAX_OPTIONS]
    for name, col in _LIST_COLUMNS.items():  # tickets per tag (a ticket counts once per tag)
        out[name] = ws.sql(
            f"SELECT value, count(*) AS n FROM (SELECT unnest(list_distinct({col})) AS value "
            f"FROM ticket_facts WHERE NOT excluded) WHERE value IS NOT NULL GROUP BY value "
            f"ORDER BY n DESC, value LIMIT {MAX_OPTIONS}").to_pylist()
    return out


def data_status(ws: Workspace) -> dict[str, Any]:
    """How fresh the data is: the latest event and the rows in the main tables."""
    counts = ws.counts()
    latest = ws.sql("SELECT strftime(max(last_event_at), '%d %b %Y %H:%M') AS t FROM ticket_facts").to_pylist()[0]["t"]
    return {"counts": counts, "latest": latest, "empty": counts.get("tickets", 0) == 0}


def spec(metric: str) -> MetricSpec | None:
    """The declaration of a metric, or None when the registry has no such metric."""
    return registry().specs.get(metric)


def tone(delta: float | None, direction: Direction | str, significant: bool | None = True) -> str:
    """'good', 'bad' or 'neutral' for a change, by the metric's direction; a change that is
    not significant is neutral (it may be noise)."""
    d = Direction(direction)
    if delta is None or delta == 0 or d is Direction.NONE or significant is not True:
        return "neutral"
    return "good" if (delta > 0) == (d is Direction.HIGHER) else "bad"


def drill_href(f: Filters, metric: str, **extra: str) -> str:
    """The tickets page behind a number."""
    return "/tickets?" + urlencode(f.drill_params(metric, **extra))


def benchmark_segment(f: Filters, requested: str | None = None) -> str:
    """The benchmark segment for a view: the one asked for, else the filtered channel when
    references exist for it, else 'all'."""
    if requested:
        if requested not in SEGMENTS:
            raise UserError(f"benchmark '{requested}' is not one of {', '.join(sorted(SEGMENTS))}.")
        return requested
    channel = f.value("channel")
    return channel if channel in SEGMENTS else "all"


# -- overview --------------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    key: str
    metric: str
    title: str
    caption: str
    suffix: str = ""  # after the value, e.g. the scale of a score


TILES: tuple[Tile, ...] = (
    Tile("csat", "csat", "CSAT", "satisfied answers (top box)"),
    Tile("nps", "nps", "NPS", "% promoters − % detractors"),
    Tile("ces", "ces", "Customer effort", "mean score, 1–7 (7 = easiest)", "/ 7"),
    Tile("frt", "frt", "First response", "median, to the first human reply"),
    Tile("resolution", "full_resolution_time", "Resolution time", "median, created to final solve"),
    Tile("fcr", "fcr", "First contact resolution", "solved tickets, one interaction"),
    Tile("sla", "sla_compliance", "SLA compliance", "targets achieved of those completed"),
    Tile("volume", "tickets", "Volume", "tickets created"),
    Tile("backlog", "backlog", "Backlog", "unsolved at the end of the period"),
    Tile("bot", "bot_resolution_rate", "Bot resolution", "bot conversations solved alone"),
    Tile("cost", "cost_per_resolution", "Cost per resolution", "monthly costs / tickets solved"),
)
#: Tiles of the calls and chats (the `contacts` rows: docs/metrics.md), shown when the
#: workspace has calls or chats; a workspace without them keeps the overview above.
CALL_TILES: tuple[Tile, ...] = (
    Tile("aht", "aht", "Handle time (AHT)", "mean talk + hold + wrap-up per call or chat"),
    Tile("asa", "asa", "Speed of answer (ASA)", "mean wait of answered calls"),
    Tile("service_level", "service_level", "Service level", "calls and chats answered within 20 s"),
    Tile("abandonment", "abandonment_rate", "Abandonment", "calls and chats abandoned before an answer"),
)
SPARK_WEEKS = 12
#: Kinds without a sampling model: a count or ratio is shown whatever its size.
UNSAMPLED = (Kind.COUNT, Kind.RATIO, Kind.CUSTOM)
#: Benchmark segments the overview offers: (segment, label).
SEGMENT_CHOICES = (("all", "All industries"), ("ecommerce", "E-commerce"), ("retail", "Retail"), ("banking", "Banking"),
                   ("software", "Software"), ("telecom", "Telecom"), ("airlines", "Airlines"), ("email", "Email"),
                   ("chat", "Chat"), ("phone", "Phone"), ("social", "Social"))
EMPTY_HINTS = {
    "surveys": "no surveys imported yet: cxmetrics import surveys FILE",
    "tickets": "no tickets imported yet: cxmetrics import tickets FILE (or cxmetrics demo)",
    "costs": "no costs imported yet: cxmetrics import costs FILE",
}


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def spark_window(f: Filters) -> tuple[date, date]:
    """Complete ISO weeks ending at or before the period's end: the last 12, or all the
    weeks of a longer period."""
    end = _monday(f.end)
    start = min(end - timedelta(weeks=SPARK_WEEKS), _monday(f.start))
    return start, end


def _index(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["metric"]: r for r in rows}


def week_spine(start: date, end: date) -> list[str]:
    """The week starts (ISO dates) from `start` (a Monday) up to `end`."""
    out, d = [], start
    while d < end:
        out.append(d.isoformat())
        d += timedelta(days=7)
    return out


def _series(rows: list[dict[str, Any]], spine: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each metric's values along the spine of periods; a period without rows (a week
    with no answers) is None, so a sparkline shows the gap where it is."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        found.setdefault(r["metric"], {})[str(r["period"])[:10]] = r
    return {m: [{"period": p, "value": by.get(p, {}).get("value"), "n": by.get(p, {}).get("n", 0)} for p in spine]
            for m, by in found.items()}


def _empty_hint(metric_spec: MetricSpec, counts: dict[str, int]) -> str | None:
    table = {"surveys": "surveys", "survey_sends": "surveys", "costs": "costs"}.get(metric_spec.source, "tickets")
    return EMPTY_HINTS[table] if counts.get(table, 0) == 0 else None


def _tile(tile: Tile, ms: MetricSpec, f: Filters, row: dict[str, Any] | None, spark: list[dict[str, Any]],
          test: dict[str, Any] | None, currency: str, counts: dict[str, int],
          targets: Targets | None = None) -> dict[str, Any]:
    unit = ms.unit.value
    value = row["value"] if row else None
    n = row["n"] if row else 0
    flags = list(row["flags"]) if row else ["undefined"]
    out: dict[str, Any] = {
        "key": tile.key, "metric": tile.metric, "title": tile.title, "caption": tile.caption,
        "description": ms.description, "unit": unit, "direction": ms.direction.value, "available": True,
        "value": value, "value_text": fmt.value(value, unit, currency=currency), "n": n, "n_text": fmt.count(n),
        "ci_text": fmt.interval(row.get("ci_low"), row.get("ci_high"), unit, currency=currency) if row else "",
        "small_sample": "small_sample" in flags and value is not None, "undefined": value is None,
        "min_n": ms.min_n, "href": drill_href(f, tile.metric), "note": None, "suffix": tile.suffix,
    }
    if tile.metric == "tickets" and value is not None:
        out["sub_text"] = f"{value / max(f.days, 1):,.1f} a day"
    elif tile.metric == "backlog":
        out["sub_text"] = f"open at the end of {f.end - timedelta(days=1):%d %b}"
    else:
        out["sub_text"] = f"n = {out['n_text']}" + (f" · 95% CI {out['ci_text']}" if out["ci_text"] else "")
    if value is None:
        out["note"] = _empty_hint(ms, counts) or "no data for this view and period"
    # below HEADLINE_MIN_N a rate, score or duration is too uncertain to headline: say why
    # instead (its interval stays visible, so the reader sees how little is known)
    hidden = value is not None and ms.kind not in UNSAMPLED and n < HEADLINE_MIN_N
    out["hidden"] = hidden
    if hidden:
        what = "answer" if ms.source.startswith("survey") else "observation"
        out["hidden_reason"] = f"only {n} {what}{'' if n == 1 else 's'}: a value is shown from n = {HEADLINE_MIN_N}"
        out["value_text"], out["suffix"] = "—", ""
    # change against the previous period
    change = None
    if (test is not None and NO_DATA_BEFORE in (test.get("flags") or []) and value is not None
            and not hidden):
        change = {"no_data": True, "verdict": "no data before", "significant": None, "tone": "neutral",
                  "text": "", "arrow": "", "p_text": "", "previous_text": "", "delta": None,
                  "previous_n": 0, "test": "the previous period has no data: nothing to compare with"}
    elif (test is not None and test.get("a_value") is not None and value is not None and not hidden):
        delta = test["change"] if test.get("change") is not None else value - test["a_value"]
        sig = test.get("significant")
        verdict = "not tested" if sig is None else ("real change" if sig else "noise")
        change = {
            "delta": delta, "text": fmt.change(delta, unit, base=test["a_value"] if unit == "count" else None,
                                               currency=currency),
            "previous_text": fmt.value(test["a_value"], unit, currency=currency), "previous_n": test.get("a_n"),
            "significant": sig, "verdict": verdict, "p_text": fmt.p_value(test.get("p_value")),
            "test": test.get("test") or "no test (a count of a stock, or a ratio without a sampling model)",
            "tone": tone(delta, ms.direction, sig), "arrow": "▲" if delta > 0 else "▼" if delta < 0 else "■",
            "no_data": False,
        }
    out["change"] = change
    # the user's target (targets.toml): the filtered dimension value's, else the metric's
    target = None if targets is None else targets.find(tile.metric, f.where)
    out["target"] = None if target is None else {
        "text": fmt.value(target.value, unit, currency=currency), "met": target.met(value, ms.direction.value),
        "scope": "" if target.dimension is None else target.scope,
    }
    bench = row.get("benchmark") if row else None
    out["benchmark"] = None if bench is None else {
        "text": fmt.value(bench, unit, currency=currency), "statistic": row.get("benchmark_statistic"),
        "source": row.get("benchmark_source"), "kind": row.get("benchmark_kind"),
        "gap_text": fmt.change(row["gap"], unit, currency=currency) if row.get("gap") is not None else "",
    }
    values = [s["value"] for s in spark]
    out["spark"] = sparkline(values)
    out["spark_points"] = [{"period": str(s["period"]), "value": s["value"],
                            "text": fmt.value(s["value"], unit, currency=currency)} for s in spark]
    return out


def _unavailable(tile: Tile, ms: MetricSpec | None, note: str) -> dict[str, Any]:
    return {"key": tile.key, "metric": tile.metric, "title": tile.title, "caption": tile.caption,
            "description": ms.description if ms else "", "available": False, "note": note,
            "value": None, "value_text": "—", "undefined": True, "change": None, "target": None,
            "benchmark": None, "spark": None, "spark_points": [], "href": None, "n": 0, "n_text": "—",
            "ci_text": "", "small_sample": False, "unit": ms.unit.value if ms else "", "direction": "none",
            "suffix": "", "sub_text": "", "hidden": False}


def has_calls_or_chats(ws: Workspace) -> bool:
    """Whether the workspace has a call or a chat (a `contacts` row of either kind)."""
    return bool(ws.sql("SELECT count(*) AS n FROM (SELECT 1 FROM contacts WHERE kind IN ('call', 'chat') LIMIT 1)")
                .to_pylist()[0]["n"])


def channel_tabs(ws: Workspace, f: Filters, benchmark: str | None = None) -> list[dict[str, Any]]:
    """The overview's channel tabs: All, then every channel with tickets (largest first),
    each the same view filtered to it; the one filtered on is active."""
    rows = ws.sql("SELECT CAST(channel AS VARCHAR) AS channel, count(*) AS n FROM ticket_facts "
                  "WHERE NOT excluded AND channel IS NOT NULL GROUP BY ALL ORDER BY n DESC, channel").to_pylist()
    chosen = f.dims.get("channel", ())
    keep = {"benchmark": benchmark} if benchmark else {}
    tabs = [{"label": "All", "value": "", "href": "/?" + f.query(channel=None, **keep), "active": not chosen}]
    for r in rows:
        tabs.append({"label": r["channel"].replace("_", " ").capitalize(), "value": r["channel"],
                     "href": "/?" + f.query(channel=r["channel"], **keep), "active": tuple(chosen) == (r["channel"],)})
    return tabs


def _custom_tile(ws: Workspace, tile: Tile, ms: MetricSpec, f: Filters, segment: str, currency: str,
                 counts: dict[str, int], targets: Targets | None = None) -> dict[str, Any]:
    """A custom (hand-written query) metric: value, weekly values and the previous period,
    the change shown but not tested (custom metrics carry no sampling model)."""
    try:
        row = ws.metrics([tile.metric], where=f.where, start=f.start, end=f.end, benchmark=segment).to_pylist()
        s0, s1 = spark_window(f)
        spark = ws.metrics([tile.metric], where=f.where, start=s0, end=s1, grain="week").to_pylist()
        spine = week_spine(s0, s1)
        p0, p1 = f.previous()
        prev = ws.metrics([tile.metric], where=f.where, start=p0, end=p1).to_pylist()
    except UserError as exc:
        return _unavailable(tile, ms, f"not available for this view: {exc}")
    test = {"a_value": prev[0]["value"], "a_n": prev[0]["n"], "change": None, "significant": None} if prev else None
    return _tile(tile, ms, f, row[0] if row else None, _series(spark, spine).get(tile.metric, []), test, currency,
                 counts, targets)


def _cost_tile(ws: Workspace, tile: Tile, ms: MetricSpec, f: Filters, counts: dict[str, int],
               targets: Targets | None = None) -> dict[str, Any]:
    """Cost per resolution is monthly (costs are booked per month): the last complete month
    of the period, its previous month, and 12 months of history."""
    extra = [d for d in f.dims if d != "source"]
    if extra:
        names = ", ".join(DIMENSIONS[d] for d in extra)
        return _unavailable(tile, ms, f"costs are organisation-wide: clear the {names} filter to see them")
    currency = (ws.sql("SELECT any_value(currency) AS c FROM costs").to_pylist()[0]["c"] or ws.settings.currency)
    m_end = date(f.end.year, f.end.month, 1)
    m_start = date(m_end.year - 1, m_end.month, 1)
    try:
        rows = ws.metrics([tile.metric], grain="month", start=m_start, end=m_end).to_pylist()
    except UserError as exc:
        return _unavailable(tile, ms, f"not available: {exc}")
    known = [r for r in sorted(rows, key=lambda r: str(r["period"])) if r["value"] is not None]
    if not known:
        hint = _empty_hint(ms, counts) or "no costs booked for the months of this period"
        return {**_tile(tile, ms, f, None, [], None, currency, counts, targets), "note": hint}
    last = known[-1]
    prev = known[-2] if len(known) > 1 else None
    test = {"a_value": prev["value"], "a_n": prev["n"], "change": None, "significant": None} if prev else None
    out = _tile(tile, ms, f, last, sorted(rows, key=lambda r: str(r["period"])), test, currency, counts, targets)
    month = date.fromisoformat(str(last["period"])[:10])
    out["caption"] = f"{month:%B %Y}: monthly costs / tickets solved"
    out["sub_text"] = f"{out['n_text']} tickets solved that month"
    out["href"] = "/tickets?" + urlencode([("metric", "solved_tickets"), ("from", month.isoformat()),
                                           ("to", _next_month(month).isoformat())])
    if out["change"]:
        out["change"]["previous_label"] = "previous month"
    return out


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def _sla_tile(ws: Workspace, tile: Tile, f: Filters, evaluate: Callable[[], None] | None,
              targets: Targets | None = None) -> dict[str, Any]:
    """SLA compliance from the SLA package (the same numbers as the registry's
    `sla_compliance`, whose clocks the package evaluates): the period against the previous
    one with a two-proportion test, weekly history."""
    from cxmetrics.web import _sla

    ok, why = _sla.status(ws)
    if not ok:
        return _unavailable(tile, None, f"SLAs are not configured: {why} The SLA page shows how.")
    if evaluate is not None:
        evaluate()
    cur = (_sla.compliance_rows(ws, f, ()) or [None])[0]
    p0, p1 = f.previous()
    prev = (_sla.compliance_rows(ws, Filters(start=p0, end=p1, period="custom", dims=f.dims), ()) or [None])[0]
    s0, s1 = spark_window(f)
    # every week's compliance in one query (a week without settled targets stays a gap)
    by_week = {r["period"]: r for r in _sla.compliance_rows(
        ws, Filters(start=s0, end=s1, period="custom", dims=f.dims), (), grain="week")}
    weeks = [{"period": w, "value": by_week[w]["value"] if w in by_week else None} for w in week_spine(s0, s1)]
    row = None if cur is None or not cur["n"] else {
        "value": cur["value"], "n": cur["n"], "ci_low": _sla_bound(cur, 0), "ci_high": _sla_bound(cur, 1),
        "flags": ["small_sample"] if cur["n"] < 30 else []}
    test = None
    if row and prev and prev["n"]:
        c = proportion_change(prev["achieved"], prev["n"], cur["achieved"], cur["n"])
        test = {"a_value": prev["value"], "a_n": prev["n"], "change": 100 * c.estimate, "p_value": c.p_value,
                "significant": c.significant, "test": c.test}
    ms = SLA_SPEC
    out = _tile(tile, ms, f, row, weeks, test, ws.settings.currency, {"tickets": 1}, targets)
    # like every tile, the number opens what it counts: the SLA targets settled in the view
    out["href"] = drill_href(_sla.sla_view(f), "sla_compliance")
    if row is None:
        out["note"] = "no SLA targets settled in this period"
    return out


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _sla_bound(r: dict[str, Any], i: int) -> float | None:
    bounds = wilson(r["achieved"], r["n"])
    return None if bounds[i] is None else 100 * bounds[i]


#: How the overview describes SLA compliance when it comes from the SLA package.
SLA_SPEC = MetricSpec(
    id="sla_compliance", label="SLA compliance", kind=Kind.PROPORTION, unit=Unit.PERCENT, direction=Direction.HIGHER,
    source="tickets", time="created_at", numerator="true", min_n=30,
    description="Achieved / (achieved + breached) over the SLA targets that settled in the period "
                "(achieved at completion, breached at the due time); active and paused targets are left out.")


def overview(ws: Workspace, f: Filters, *, benchmark: str | None = None,
             evaluate_sla: Callable[[], None] | None = None) -> dict[str, Any]:
    """The overview: one tile per headline KPI for the view (see module docstring).
    `evaluate_sla` brings SLA clocks to now before SLA compliance is read."""
    segment = benchmark_segment(f, benchmark)
    targets = load_targets(ws.path)
    counts = ws.counts()
    currency = ws.settings.currency
    shown = TILES + (CALL_TILES if has_calls_or_chats(ws) else ())
    specs = {t.key: spec(t.metric) for t in shown}
    # (the SLA tile reads the SLA package, which evaluates the clocks on its own cadence and
    # says when SLAs are not configured, rather than asking the registry)
    plain = [t.metric for t in shown
             if specs[t.key] is not None and specs[t.key].kind is not Kind.CUSTOM and t.key != "sla"]
    with shared_rows():  # the tests of change read both periods at once; the tiles are their later one
        tests = _index(ws.compare(plain, f.previous(), (f.start, f.end), where=f.where).to_pylist())
        cur = _index(ws.metrics(plain, where=f.where, start=f.start, end=f.end, benchmark=segment).to_pylist())
    s0, s1 = spark_window(f)
    spark = _series(ws.metrics(plain, where=f.where, start=s0, end=s1, grain="week").to_pylist(), week_spine(s0, s1))
    tiles = []
    for t in shown:
        ms = specs[t.key]
        if t.key == "sla":
            try:
                tiles.append(_sla_tile(ws, t, f, evaluate_sla, targets))
            except (CxError, duckdb.Error) as exc:  # the SLA store may be missing or broken: the rest still shows
                tiles.append(_unavailable(t, None, f"SLA figures are unavailable: {_first_line(exc)}"))
            except Exception:  # a bug in the SLA package must not take the overview down with it
                log.exception("the SLA tile failed")
                tiles.append(_unavailable(t, None, "SLA figures are unavailable (an internal error; see the server log)"))
        elif ms is None:
            tiles.append(_unavailable(t, None, f"{t.metric} is not in this version's registry"))
        elif t.key == "cost":
            tiles.append(_cost_tile(ws, t, ms, f, counts, targets))
        elif ms.kind is Kind.CUSTOM:
            tiles.append(_custom_tile(ws, t, ms, f, segment, currency, counts, targets))
        else:
            tiles.append(_tile(t, ms, f, cur.get(t.metric), spark.get(t.metric, []), tests.get(t.metric), currency,
                               counts, targets))
    p0, p1 = f.previous()
    return {
        "tiles": tiles, "segment": segment, "period_label": f.label, "segments": SEGMENT_CHOICES,
        "channel_tabs": channel_tabs(ws, f, benchmark) if len(shown) > len(TILES) else [],
        "export": _exports.query(f, plain),  # the tiles' numbers as a file (web/_exports.py)
        "queue": _queue_tile(ws, f),
        "previous_label": Filters(start=p0, end=p1, period="custom").label,
        "spark_label": f"weekly, {s0:%d %b} – {(s1 - timedelta(days=1)):%d %b %Y}",
    }


def _queue_tile(ws: Workspace, f: Filters) -> dict[str, Any]:
    """The Queue tile: open now, unassigned and the longest wait (web/_queue.py)."""
    from cxmetrics.web import _queue  # (it reads anchor_day from here)

    return _queue.tile(ws, f)


__all__ = ["CALL_TILES", "TILES", "anchor_day", "channel_tabs", "has_calls_or_chats", "data_status", "drill_href", "filter_options", "overview", "spark_window"]
