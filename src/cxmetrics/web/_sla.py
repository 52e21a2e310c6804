"""SLA: compliance by policy and metric over the period, and the live list of targets at
risk (active, due within the next `within`) with the time left, from `cxmetrics.sla`.

Compliance is the SLA package's: achieved / (achieved + breached) over the targets that
settled in the period (an achieved target at its completion, a breached one at its due
time), with a Wilson 95% interval. Every filter of the view applies: channel, team,
priority and tier through the package's groups (summed here before the share is taken);
any other (topic, tag, product, region, assignee...) through the registry's
`sla_compliance`, which counts the same targets joined to their tickets' facts. SLA
targets have no agent type, so that filter does not apply to them.

Every number links to the SLA targets behind it (the tickets page for `sla_compliance`
or `sla_breaches`, narrowed to the row's policy, SLA metric, team or assignee). Below
the headline: compliance over time (the registry's `sla_compliance` per day, week or
month by the period's length, the same count as the package's) and by team and by
assignee, each with the workspace's target for SLA compliance (targets.toml) where one
is set.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from cxmetrics._workspace import Workspace
from cxmetrics.errors import CxError, UserError
from cxmetrics.metrics._sources import NONE
from cxmetrics.metrics._stats import wilson
from cxmetrics.targets import Targets, load_targets
from cxmetrics.web import _exports
from cxmetrics.web import _format as fmt
from cxmetrics.web._charts import ACCENT, BAD, rgba, layout
from cxmetrics.web._data import drill_href
from cxmetrics.web._filters import Filters

#: Global filters -> the SLA package's group names (agent type has no SLA column).
SLA_GROUPS = {"channel": "channel", "team": "team", "priority": "priority", "tier": "tier"}
#: Columns of at-risk rows the global filters compare against.
TARGET_FILTER_COLUMNS = {"channel": "channel", "team": "team", "priority": "priority", "tier": "customer_tier"}
WITHIN = {"30m": 1800.0, "1h": 3600.0, "4h": 4 * 3600.0, "1d": 86400.0}
DEFAULT_WITHIN = "1h"
AT_RISK_LIMIT = 200
EXAMPLE = """[[policy]]
name = "Standard"
[policy.targets]
first_reply = { urgent = "1h", high = "4h", default = "8h", hours = "calendar" }
total_resolution = { urgent = "8h", high = "1d", default = "3d", hours = "calendar" }"""
METRIC_LABELS = {"first_reply": "First reply", "next_reply": "Next reply", "periodic_update": "Periodic update",
                 "pausable_update": "Pausable update", "requester_wait": "Requester wait",
                 "agent_work_time": "Agent work time", "total_resolution": "Total resolution"}


def available() -> bool:
    """Whether this installation has the SLA package with what the page reads."""
    try:
        if importlib.util.find_spec("cxmetrics.sla") is None:
            return False
        from cxmetrics import sla
    except Exception:  # noqa: BLE001 - a broken SLA package: the rest of the dashboard still shows
        return False
    return all(hasattr(sla, n) for n in ("at_risk", "compliance", "refresh_sla", "load_policies"))


def status(ws: Workspace) -> tuple[bool, str]:
    """(configured, why not): SLAs need the package and at least one policy in sla.toml."""
    if not available():
        return False, "this installation has no SLA module (cxmetrics.sla)."
    from cxmetrics.sla import load_policies

    try:
        policies = load_policies(ws)
    except UserError as exc:
        return False, f"the policy file has errors: {exc}"
    if not policies.policies:
        return False, f"no SLA policies yet ({ws.path / 'sla.toml'} does not exist or is empty)."
    return True, ""


def _sum(rows: list[dict[str, Any]], keys: tuple[str, ...], f: Filters) -> list[dict[str, Any]]:
    """Settled targets summed over the filter groups, per `keys`, with compliance and its
    Wilson interval recomputed from the sums."""
    wanted = {SLA_GROUPS[d]: set(v) for d, v in f.dims.items() if d in SLA_GROUPS}
    acc: dict[tuple[Any, ...], list[int]] = {}
    for r in rows:
        if any(r.get(g) not in values and not (r.get(g) is None and NONE in values) for g, values in wanted.items()):
            continue
        cell = acc.setdefault(tuple(r[k] for k in keys), [0, 0])
        cell[0] += r["achieved"]
        cell[1] += r["breached"]
    out = []
    for key, (k, b) in sorted(acc.items(), key=lambda kv: tuple(str(x) for x in kv[0])):
        n = k + b
        lo, hi = wilson(k, n)
        value = 100.0 * k / n if n else None
        out.append({**dict(zip(keys, key, strict=True)), "achieved": k, "breached": b, "n": n, "value": value,
                    "text": fmt.value(value, "percent"),
                    "ci": fmt.interval(None if lo is None else 100 * lo, None if hi is None else 100 * hi, "percent")})
    return out


#: SLA group name -> the registry's dimension for it (the registry's `sla_targets` source).
REGISTRY_DIMS = {"metric": "sla_metric", "policy": "policy", "team": "team", "agent": "assignee"}


def _beyond_groups(f: Filters) -> bool:
    """Whether the view filters on a dimension the SLA package does not group by (topic,
    tag, product, region, assignee...): then the registry counts, over the targets joined
    to their tickets' facts (agent type aside: targets have none)."""
    return any(d not in SLA_GROUPS for d in sla_view(f).dims)


def compliance_rows(ws: Workspace, f: Filters, keys: tuple[str, ...], grain: str | None = None
                    ) -> list[dict[str, Any]]:
    """Compliance per `keys` (SLA group names) in the view; with a `grain`, per period too
    (a `period` key first, one query for every period). Every filter of the view applies:
    the package's groups are summed when the view's filters are all groups of it (the fast
    path), else the registry's `sla_compliance` counts the same targets with every filter."""
    if _beyond_groups(f):
        return _registry_rows(ws, f, keys, grain)
    from cxmetrics.sla import compliance

    groups = list(dict.fromkeys([*keys, *(SLA_GROUPS[d] for d in f.dims if d in SLA_GROUPS)]))
    rows = compliance(ws.con, by=groups, start=f.start, end=f.end, grain=grain).to_pylist()
    return _sum(rows, ("period", *keys) if grain else keys, f)


def _registry_rows(ws: Workspace, f: Filters, keys: tuple[str, ...], grain: str | None) -> list[dict[str, Any]]:
    """compliance_rows from the registry: achieved of n settled is its share of n."""
    by = [REGISTRY_DIMS[k] for k in keys]
    rows = ws.metrics([METRIC], by=by, grain=grain, where=sla_view(f).where, start=f.start, end=f.end).to_pylist()
    out = []
    for r in rows:
        n = int(r["n"] or 0)
        if not n:
            continue
        k = round(r["value"] * n / 100)
        lo, hi = wilson(k, n)
        value = 100.0 * k / n
        key = {name: r[dim] for name, dim in zip(keys, by, strict=True)}
        if grain:  # the period as the package writes it
            p = r["period"]
            key = {"period": p.strftime("%Y-%m-%dT%H:00") if grain == "hour" else str(p)[:10], **key}
        out.append({**key, "achieved": k, "breached": n - k, "n": n, "value": value,
                    "text": fmt.value(value, "percent"),
                    "ci": fmt.interval(None if lo is None else 100 * lo, None if hi is None else 100 * hi, "percent")})
    return sorted(out, key=lambda r: tuple(str(r[x]) for x in ("period", *keys) if x in r))


def at_risk_rows(ws: Workspace, f: Filters, within_s: float) -> list[dict[str, Any]]:
    """Active targets due within `within_s` of the last clock evaluation, soonest first."""
    from cxmetrics.sla import at_risk

    rows = at_risk(ws.con, within_s=within_s).to_pylist()
    if _beyond_groups(f) and rows:  # the filters the targets lack: their tickets' (as the registry's)
        rows = _in_view(ws, f, rows)
    tz = ZoneInfo(ws.settings.timezone)
    out = []
    for r in rows:
        if any(r.get(TARGET_FILTER_COLUMNS[d]) not in set(v) for d, v in f.dims.items() if d in TARGET_FILTER_COLUMNS):
            continue
        due = r["due_at"]
        out.append({
            "ticket_id": r["ticket_id"], "source": r["source"], "policy": r["policy"],
            "metric": METRIC_LABELS.get(r["metric"], r["metric"]), "priority": r["priority"] or "",
            "channel": r["channel"] or "", "team": r["team"] or "", "assignee": r["assignee_id"] or "unassigned",
            "left": fmt.duration(r["due_in_s"]), "left_s": r["due_in_s"],
            "due": due.astimezone(tz).strftime("%d %b %H:%M") if isinstance(due, datetime) else str(due),
            "target": fmt.duration(r["target_s"]), "urgent": r["due_in_s"] is not None and r["due_in_s"] < 900,
        })
        if len(out) >= AT_RISK_LIMIT:
            break
    return out


def _in_view(ws: Workspace, f: Filters, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The target rows whose target and ticket pass every filter of the view."""
    from cxmetrics.metrics._sources import DIMENSIONS, SOURCES, dimension_in

    keys = pa.table({"source": [r["source"] for r in rows], "ticket_id": [r["ticket_id"] for r in rows],
                     "metric": [r["metric"] for r in rows], "cycle": [r["cycle"] for r in rows]})
    conds = " AND ".join(dimension_in(f"t.{DIMENSIONS[d]}", v) for d, v in sla_view(f).dims.items())
    ws.con.register("_sla_risk_keys", keys)
    try:
        kept = {(r["source"], r["ticket_id"], r["sla_metric"], r["cycle"]) for r in ws.con.sql(f"""
            SELECT t.source, t.ticket_id, t.sla_metric, t.cycle FROM ({SOURCES['sla_targets'].sql}) t
            SEMI JOIN _sla_risk_keys k ON k.source = t.source AND k.ticket_id = t.ticket_id
                 AND k.metric = t.sla_metric AND k.cycle = t.cycle
            WHERE {conds or 'true'}""").to_arrow_table().to_pylist()}
    finally:
        ws.con.unregister("_sla_risk_keys")
    return [r for r in rows if (r["source"], r["ticket_id"], r["metric"], r["cycle"]) in kept]


#: SLA group name -> the drill-down's dimension for it (`agent` is the assignee).
DRILL_DIMS = {"policy": "policy", "metric": "sla_metric", "team": "team", "agent": "assignee"}
METRIC = "sla_compliance"


def sla_view(f: Filters) -> Filters:
    """The view as SLA numbers see it: without the agent type filter (targets have none),
    so a drill-down lists the same targets the number counts."""
    return f.with_dims(agent_type=None)


def _links(rows: list[dict[str, Any]], f: Filters, keys: tuple[str, ...], targets: Targets) -> None:
    """Add to each row the lists behind its numbers and the target that applies to it."""
    view = sla_view(f)
    for r in rows:
        # (the group without a team or assignee is asked for as (none))
        extra = {DRILL_DIMS[k]: str(r[k]) if r.get(k) is not None else NONE for k in keys}
        r["href"] = drill_href(view, METRIC, **extra)
        r["breached_href"] = drill_href(view, "sla_breaches", **extra)
        t = targets.find(METRIC, {**view.where, **extra})
        r["target"] = None if t is None else {"text": fmt.value(t.value, "percent"), "met": t.met(r["value"], "higher")}


def trend(ws: Workspace, f: Filters, targets: Targets) -> dict[str, Any]:
    """Compliance per day, week or month (by the period's length), with its 95% band,
    each point linked to its targets, and the target as a line."""
    from cxmetrics.web._trends import period_view

    view = sla_view(f)
    grain = "day" if f.days <= 31 else "week" if f.days <= 190 else "month"
    rows = ws.metrics([METRIC], grain=grain, where=view.where, start=f.start, end=f.end).to_pylist()
    rows = sorted((r for r in rows if r["n"]), key=lambda r: str(r["period"]))
    x = [str(r["period"])[:10] for r in rows]
    traces: list[dict[str, Any]] = [
        {"type": "scatter", "x": x, "y": [r["ci_high"] for r in rows], "mode": "lines", "line": {"width": 0},
         "hoverinfo": "skip", "showlegend": False},
        {"type": "scatter", "x": x, "y": [r["ci_low"] for r in rows], "mode": "lines", "line": {"width": 0},
         "fill": "tonexty", "fillcolor": rgba(ACCENT, 0.13), "hoverinfo": "skip", "showlegend": False},
        {"type": "scatter", "mode": "lines+markers", "name": "Compliance", "x": x, "y": [r["value"] for r in rows],
         "line": {"color": ACCENT, "width": 2}, "marker": {"size": 6, "color": ACCENT},
         "customdata": ["/tickets?" + urlencode(period_view(view, p, grain).drill_params(METRIC)) for p in x],
         "text": [f"{fmt.value(r['value'], 'percent')} (n={r['n']:,}, 95% CI "
                  f"{fmt.interval(r['ci_low'], r['ci_high'], 'percent')})" for r in rows],
         "hovertemplate": "%{x}: %{text}<extra></extra>"},
    ]
    target = targets.find(METRIC, view.where)
    if target is not None and x:
        traces.append({"type": "scatter", "mode": "lines", "name": f"Target {fmt.value(target.value, 'percent')}",
                       "x": [x[0], x[-1]], "y": [target.value, target.value], "hoverinfo": "name",
                       "line": {"color": BAD, "width": 1.5, "dash": "dash"}})
    figure = {"data": traces, "layout": layout(margin={"t": 8}, showlegend=target is not None, hovermode="closest",
                                               legend={"y": -0.15, "yanchor": "top", "orientation": "h"},
                                               yaxis={"ticksuffix": "%", "rangemode": "normal"})}
    return {"grain": grain, "figure": figure, "empty": not rows,
            "target": None if target is None else fmt.value(target.value, "percent")}


def _by_volume(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (-r["n"], str(r.get("team") or r.get("agent") or "")))


def sla(ws: Workspace, f: Filters, *, within: str = DEFAULT_WITHIN,
        evaluate: Callable[[], None] | None = None) -> dict[str, Any]:
    """The SLA page: `evaluate` brings the clocks to now first (the server's, else the
    package's `refresh_sla`)."""
    if within not in WITHIN:
        raise UserError(f"within '{within}' is not one of {', '.join(WITHIN)}.")
    ok, why = status(ws)
    if not ok:
        return {"configured": False, "title": "SLAs are not configured", "reason": why, "example": EXAMPLE}
    try:
        if evaluate is not None:
            evaluate()
        else:
            from cxmetrics.sla import refresh_sla

            with ws._write_lock:
                refresh_sla(ws)
        overall = compliance_rows(ws, f, ())
        by_metric = compliance_rows(ws, f, ("metric",))
        by_policy = compliance_rows(ws, f, ("policy", "metric"))
        by_team = _by_volume(compliance_rows(ws, f, ("team",)))
        by_agent = _by_volume(compliance_rows(ws, f, ("agent",)))
        risk = at_risk_rows(ws, f, WITHIN[within])
        targets = load_targets(ws.path)
        over_time = trend(ws, f, targets)
    except UserError:
        raise
    except (CxError, duckdb.Error) as exc:  # a store without the SLA tables, a failing clock
        line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return {"configured": False, "title": "SLA figures are unavailable",
                "reason": f"the SLA figures could not be read: {line}", "example": EXAMPLE}
    for r in [*by_metric, *by_policy]:
        r["label"] = METRIC_LABELS.get(r["metric"], r["metric"])
    _links(by_metric, f, ("metric",), targets)
    _links(by_policy, f, ("policy", "metric"), targets)
    _links(by_team, f, ("team",), targets)
    _links(by_agent, f, ("agent",), targets)
    figure = {
        "data": [{
            "type": "bar", "orientation": "h", "y": [r["label"] for r in by_metric], "x": [r["value"] for r in by_metric],
            # no colour judgement: SLA targets say what is due, not what share is good enough
            "marker": {"color": ACCENT},
            "error_x": {"type": "data", "symmetric": False, "color": "#374151", "thickness": 1.2, "width": 3,
                        "array": [_hi(r) for r in by_metric], "arrayminus": [_lo(r) for r in by_metric]},
            "text": [f"{r['text']} (n={r['n']:,}, 95% CI {r['ci']})" for r in by_metric], "textposition": "none",
            "customdata": [r["href"] for r in by_metric],  # a click lists the bar's targets
            "hovertemplate": "%{y}: %{text}<extra></extra>",
        }],
        "layout": layout(hovermode="closest", margin={"l": 180, "t": 8, "r": 24}, showlegend=False,
                         xaxis={"range": [0, 102], "ticksuffix": "%", "dtick": 20},
                         yaxis={"autorange": "reversed", "rangemode": "normal",
                                "ticktext": [f"{r['label']}  {r['text']}" for r in by_metric],
                                "tickvals": [r["label"] for r in by_metric]}),
    }
    head = overall[0] if overall else {"text": "—", "n": 0, "ci": "", "breached": 0, "achieved": 0, "value": None}
    _links([head], f, (), targets)
    return {"configured": True, "overall": head, "by_metric": by_metric, "by_policy": by_policy, "figure": figure,
            "by_team": by_team, "by_agent": by_agent, "trend": over_time,
            "has_targets": bool(targets.of(METRIC)),
            "at_risk": risk, "within": within, "withins": list(WITHIN), "ignores_agent_type": "agent_type" in f.dims,
            "exports": _export_queries(f, over_time["grain"])}


def _export_queries(f: Filters, grain: str) -> dict[str, str]:
    """The SLA numbers' queries (the registry's sla_compliance, as the tables' own), as files."""
    view = sla_view(f)
    return {"trend": _exports.query(view, [METRIC], grain=grain),
            "teams": _exports.query(view, [METRIC], by=["team"]),
            "agents": _exports.query(view, [METRIC], by=["assignee"]),
            "policies": _exports.query(view, [METRIC], by=["policy", "sla_metric"])}


def _interval_bounds(r: dict[str, Any]) -> tuple[float | None, float | None]:
    lo, hi = wilson(r["achieved"], r["n"])
    return (None, None) if lo is None or hi is None else (100 * lo, 100 * hi)


def _hi(r: dict[str, Any]) -> float | None:
    _, hi = _interval_bounds(r)
    return None if hi is None or r["value"] is None else hi - r["value"]


def _lo(r: dict[str, Any]) -> float | None:
    lo, _ = _interval_bounds(r)
    return None if lo is None or r["value"] is None else r["value"] - lo


__all__ = ["EXAMPLE", "WITHIN", "available", "sla", "sla_view", "status", "trend"]
