"""Distributions: how first response and resolution times spread over buckets, and how
CSAT and NPS answers spread over scores, per segment, not only their medians and shares.

Every count is one GROUP BY in the engine over the metric's own rows, taken from the
registry: its source's SQL (metrics._sources), its filter of the rows that count, the
timestamp that places a row in the period, and the same case-blind dimension filters, so
a distribution's total is the metric's n for the same view. Each bucket or score links to
the drill-down with the value filters of api._drill (`value_gt`/`value_le`, `score`), which
lists exactly the rows counted.

Buckets are closed above: with edges 1 h and 8 h, a reply after exactly 1 h is in
"≤ 1 h" (the rule of frt_within_5m and of SLA targets: a target met on the second is met),
one after 1 h and 1 s in "1–8 h".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from cxmetrics._workspace import Workspace, translate_errors
from cxmetrics.alerts._config import parse_duration
from cxmetrics.errors import UserError
from cxmetrics.metrics._registry import MetricRef, registry
from cxmetrics.metrics._sources import DIMENSIONS as COLUMNS
from cxmetrics.metrics._sources import SOURCES, dimension_in
from cxmetrics.web import _format as fmt
from cxmetrics.web._filters import DIMENSIONS, Filters

#: Default bucket edges in seconds: ≤ 1 h, 1–8 h, 8–24 h, > 24 h.
DEFAULT_EDGES: tuple[float, ...] = (3600.0, 8 * 3600.0, 86400.0)
MAX_EDGES = 12
#: The duration metrics shown: (metric, title, what places a ticket in the period).
DURATIONS = (("frt", "First response time", "tickets created in the period, by their first human reply"),
             ("full_resolution_time", "Full resolution time", "tickets solved in the period, created to final solve"))
#: The survey metrics shown: (metric, title).
SCORES = (("csat", "CSAT scores"), ("nps", "NPS scores"))
#: Splits offered: parameter value -> label ('' = no split).
SPLITS = {"": "No split", "channel": "Channel", "team": "Team", "tier": "Tier"}
#: How durations are measured (`hours=`, the dashboard's one parameter for it): calendar or business.
HOURS = {"calendar": "Calendar time", "business": "Business hours"}
NPS_SIDES = (("detractor", "Detractors"), ("passive", "Passives"), ("promoter", "Promoters"))


def _text(seconds: float) -> str:
    """An edge for people: '1h', '90m', '1d', '1d 12h' (whole units where they fit)."""
    s = int(seconds)
    if s != seconds or s < 60:
        return fmt.duration(seconds)
    for size, unit in ((604800, "w"), (86400, "d"), (3600, "h"), (60, "m")):
        if s % size == 0:
            return f"{s // size}{unit}"
    return fmt.duration(seconds)


def parse_edges(text: str | None) -> tuple[float, ...]:
    """Bucket edges from the URL (`edges=1h,4h,1d,3d`): durations in increasing order.

    >>> parse_edges("1h,4h,1d"), parse_edges(None) == DEFAULT_EDGES
    ((3600.0, 14400.0, 86400.0), True)
    """
    if text is None or not text.strip():
        return DEFAULT_EDGES
    items = [t.strip() for t in text.split(",")]
    example = "write increasing durations such as edges=1h,8h,1d (units s, m, h, d, w)"
    if len(items) > MAX_EDGES:
        raise UserError(f"edges '{text}' has {len(items)} edges; at most {MAX_EDGES}: {example}.")
    out: list[float] = []
    for item in items:
        try:
            seconds = parse_duration(item) if item else -1.0
        except ValueError:
            seconds = -1.0
        if seconds <= 0:
            raise UserError(f"edges: '{item}' is not a duration of more than 0; {example}.")
        if out and seconds <= out[-1]:
            raise UserError(f"edges: '{item}' is not after {_text(out[-1])}; {example}.")
        out.append(seconds)
    return tuple(out)


def check(edges: str | None, hours: str | None, by: str | None) -> tuple[tuple[float, ...], str, str]:
    """The page's own parameters, checked (a bad one is a 400 naming the fix)."""
    hours = hours or "calendar"
    if hours not in HOURS:
        raise UserError(f"hours '{hours}' is not one of {', '.join(HOURS)}: use hours=business for business hours, "
                        "or leave it out for calendar time.")
    by = by or ""
    if by not in SPLITS:
        raise UserError(f"by '{by}' is not a split of this page: use one of {', '.join(s for s in SPLITS if s)} "
                        "(or leave it out).")
    return parse_edges(edges), hours, by


@dataclass(frozen=True)
class Bucket:
    label: str
    low: float | None  # exclusive (None: no lower bound)
    high: float | None  # inclusive (None: no upper bound)

    def filters(self) -> dict[str, str]:
        out = {}
        if self.low is not None:
            out["value_gt"] = f"{self.low:g}"
        if self.high is not None:
            out["value_le"] = f"{self.high:g}"
        return out


def buckets(edges: tuple[float, ...]) -> list[Bucket]:
    """The buckets between edges, closed above.

    >>> [b.label for b in buckets((3600.0, 28800.0, 86400.0))]
    ['≤ 1h', '1h – 8h', '8h – 1d', '> 1d']
    """
    out = [Bucket(f"≤ {_text(edges[0])}", None, edges[0])]
    out += [Bucket(f"{_text(a)} – {_text(b)}", a, b) for a, b in zip(edges, edges[1:], strict=False)]
    out.append(Bucket(f"> {_text(edges[-1])}", edges[-1], None))
    return out


# -- the engine's counts ---------------------------------------------------------------


def _rows(ws: Workspace, ref: MetricRef, f: Filters, by: str, select: str) -> list[dict[str, Any]]:
    """`select` (expressions over the metric's rows, ending in the keys to group by) and
    count(*), over the rows the registry's metric counts in the view: its source, its
    filter, its time in [start, end), and the view's dimension filters."""
    spec = ref.spec
    source = SOURCES[spec.source]
    dims = [*f.dims, *([by] if by else [])]
    t = spec.time
    conds = [f"{t} IS NOT NULL", f"{t} >= CAST(? AS TIMESTAMPTZ)", f"{t} < CAST(? AS TIMESTAMPTZ)",
             f"({spec.where})"]
    params: list[Any] = [f.start.isoformat(), f.end.isoformat()]
    hint = dict(source.time_hints).get(t)
    if hint is not None:  # as the metric engine: the period reaches the source table's scan
        conds.append(f"(({hint}) IS NULL OR (({hint}) >= CAST(? AS TIMESTAMPTZ) AND ({hint}) < CAST(? AS TIMESTAMPTZ)))")
        params += [f.start.isoformat(), f.end.isoformat()]
    conds += [dimension_in(COLUMNS[d], vs) for d, vs in f.dims.items()]
    group = f"CAST({COLUMNS[by]} AS VARCHAR)" if by else "CAST(NULL AS VARCHAR)"
    sql = (f"SELECT {group} AS grp, {select}, count(*) AS n FROM ({source.sql_for(dims)}) src "
           f"WHERE {' AND '.join(conds)} GROUP BY ALL")
    with translate_errors():
        rel = ws.con.execute(sql, params)
        names = [c[0] for c in rel.description]
        return [dict(zip(names, r, strict=True)) for r in rel.fetchall()]


def _hues(n: int, good_first: bool) -> list[str]:
    """n colours from green (fast, satisfied) to red (slow, unhappy), for the spread bars."""
    hues = [150 - 150 * i / max(n - 1, 1) for i in range(n)]
    return [f"hsl({h:.0f}, 62%, 48%)" for h in (hues if good_first else hues[::-1])]


def _share(k: int, n: int) -> str:
    return f"{100 * k / n:.1f}%" if n else "—"


#: The row of every segment together (first, when the tables are split).
ALL = "\x00all"


def _groups(rows: list[dict[str, Any]], by: str) -> list[tuple[str | None, str]]:
    """(value, label) of each row of a table: 'All', then, when split, each segment
    largest first (ties by name; the segment without a value last)."""
    if not by:
        return [(ALL, "All")]
    sizes: dict[str | None, int] = {}
    for r in rows:
        sizes[r["grp"]] = sizes.get(r["grp"], 0) + r["n"]
    order = sorted(sizes, key=lambda g: (-sizes[g], g is None, g or ""))
    return [(ALL, "All"), *((g, "(none)" if g is None else g) for g in order)]


def _in(row_group: str | None, group: str | None) -> bool:
    return group == ALL or row_group == group


def _href(f: Filters, metric: str, by: str, group: str | None, extra: dict[str, Any]) -> str | None:
    """The drill-down of one cell; None for the segment without a value (the page's
    filters cannot select it)."""
    if by and group is None:
        return None
    view = f.with_dims(**{by: group}) if by and group != ALL else f
    params = view.drill_params(metric)
    for k, v in extra.items():
        params += [(k, str(x)) for x in (v if isinstance(v, list | tuple) else [v])]
    return "/tickets?" + urlencode(params)


def duration_distribution(ws: Workspace, f: Filters, metric: str, edges: tuple[float, ...], by: str = ""
                          ) -> dict[str, Any]:
    """One duration metric (or its `_bh` twin) in buckets, per segment when `by` is set."""
    ref = registry().resolve(metric)
    bs = buckets(edges)
    expr = ref.spec.expr or "NULL"
    case = " ".join(f"WHEN ({expr}) <= {e!r} THEN {i}" for i, e in enumerate(edges))
    select = f"CASE {case} ELSE {len(edges)} END AS bucket"
    rows = _rows(ws, ref, f, by, select)
    counts: dict[tuple[str | None, int], int] = {(r["grp"], r["bucket"]): r["n"] for r in rows}
    out_rows = []
    colours = _hues(len(bs), good_first=True)
    for group, label in _groups(rows, by):
        total = sum(v for (g, _), v in counts.items() if _in(g, group))
        cells = []
        for i, b in enumerate(bs):
            k = sum(v for (g, j), v in counts.items() if j == i and _in(g, group))
            cells.append({"label": b.label, "n": k, "n_text": fmt.count(k), "share": 100 * k / total if total else 0.0,
                          "share_text": _share(k, total), "href": _href(f, metric, by, group, b.filters()),
                          "colour": colours[i]})
        out_rows.append({"group": label, "total": total, "total_text": fmt.count(total), "cells": cells,
                         "href": _href(f, metric, by, group, {})})
    return {"metric": metric, "label": ref.spec.label, "description": ref.spec.description,
            "buckets": [b.label for b in bs], "rows": out_rows,
            "total": out_rows[0]["total"]}


def score_distribution(ws: Workspace, f: Filters, metric: str, by: str = "") -> dict[str, Any]:
    """A survey metric's answers by score (and, for an NPS metric, by side), per segment,
    one table per scale."""
    ref = registry().resolve(metric)
    spec = ref.spec
    side = (f"CASE WHEN ({spec.promoter}) THEN 'promoter' WHEN ({spec.detractor}) THEN 'detractor' "
            "ELSE 'passive' END" if spec.promoter and spec.detractor else "CAST(NULL AS VARCHAR)")
    rows = _rows(ws, ref, f, by, f"scale, min(scale_min) AS lo, max(scale_max) AS hi, score, {side} AS side")
    scales = sorted({r["scale"] for r in rows}, key=lambda s: (s is None, s or ""))
    tables = []
    for scale in scales:
        mine = [r for r in rows if r["scale"] == scale]
        lo = min((r["lo"] for r in mine if r["lo"] is not None), default=None)
        hi = max((r["hi"] for r in mine if r["hi"] is not None), default=None)
        scores = {r["score"] for r in mine if r["score"] is not None}
        if lo is not None and hi is not None and hi - lo <= 10 and float(lo).is_integer():
            scores |= {float(s) for s in range(int(lo), int(hi) + 1)}  # a whole scale shows its empty scores too
        columns = sorted(scores)
        colours = _hues(len(columns), good_first=False)  # the highest score is the best
        scale_filter = {"scale": scale} if len(scales) > 1 and scale is not None else {}
        out_rows = []
        for group, label in _groups(mine, by):
            ours = [r for r in mine if _in(r["grp"], group)]
            total = sum(r["n"] for r in ours)
            cells = []
            for s, colour in zip(columns, colours, strict=True):
                k = sum(r["n"] for r in ours if r["score"] == s)
                cells.append({"label": f"{s:g}", "n": k, "n_text": fmt.count(k), "share": 100 * k / total if total else 0.0,
                              "share_text": _share(k, total), "colour": colour,
                              "href": _href(f, metric, by, group, {"score": f"{s:g}", **scale_filter})})
            sides = []
            if spec.promoter and spec.detractor:
                for key, side_label in NPS_SIDES:
                    side_scores = sorted({r["score"] for r in ours if r["side"] == key and r["score"] is not None})
                    k = sum(r["n"] for r in ours if r["side"] == key)
                    # the side's scores seen here: the list behind it is exactly its answers
                    href = _href(f, metric, by, group, {"score": [f"{s:g}" for s in side_scores], **scale_filter}) \
                        if side_scores else None
                    sides.append({"label": side_label, "key": key, "n": k, "n_text": fmt.count(k),
                                  "colour": {"detractor": _hues(2, True)[1], "passive": "hsl(45, 70%, 52%)",
                                             "promoter": _hues(2, True)[0]}[key],
                                  "share": 100 * k / total if total else 0.0, "share_text": _share(k, total),
                                  "href": href})
            p = next((c["share"] for c in sides if c["key"] == "promoter"), 0.0)
            d = next((c["share"] for c in sides if c["key"] == "detractor"), 0.0)
            unscored = sum(r["n"] for r in ours if r["score"] is None)
            out_rows.append({"group": label, "total": total, "total_text": fmt.count(total), "cells": cells,
                             "sides": sides, "nps_text": fmt.value(p - d, "points") if sides and total else "",
                             "unscored": unscored, "href": _href(f, metric, by, group, {**scale_filter})})
        tables.append({"scale": scale or "unknown", "columns": [f"{s:g}" for s in columns], "rows": out_rows,
                       "sides": [label for _, label in NPS_SIDES] if spec.promoter and spec.detractor else [],
                       "total": out_rows[0]["total"]})
    return {"metric": metric, "label": spec.label, "description": spec.description, "tables": tables,
            "total": sum(t["total"] for t in tables)}


def distributions(ws: Workspace, f: Filters, *, edges: tuple[float, ...] = DEFAULT_EDGES, hours: str = "calendar",
                  by: str = "") -> dict[str, Any]:
    """The page: each duration metric in buckets (in business hours: its `_bh` twin, the
    same tickets on the schedules' clock), each survey metric by score."""
    suffix = "_bh" if hours == "business" else ""
    durations = []
    for metric, title, placed in DURATIONS:
        d = duration_distribution(ws, f, metric + suffix, edges, by)
        durations.append({**d, "title": title, "placed": placed})
    scores = [{**score_distribution(ws, f, metric, by), "title": title} for metric, title in SCORES]
    edges_text = ",".join(_text(e) for e in edges)
    return {
        "durations": durations, "scores": scores, "hours": hours, "hours_choices": HOURS, "by": by,
        "by_label": DIMENSIONS.get(by, "Segment") if by else "", "splits": SPLITS,
        "edges_text": edges_text, "default_edges": ",".join(_text(e) for e in DEFAULT_EDGES),
        "has_schedules": (ws.path / "schedules.toml").exists(),
    }


__all__ = ["DEFAULT_EDGES", "buckets", "check", "distributions", "duration_distribution", "parse_edges",
           "score_distribution"]
