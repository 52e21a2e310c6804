"""What the weekly report says, gathered from the library as plain dicts (JSON-ready).

- `kpis`: the dashboard overview's headline tiles for the week (web/_data.py `overview`:
  the same metrics, values, n, intervals and targets), each against its target in
  targets.toml (met / missed / no target).
- `changes`: the KPIs whose change against the week before the library's test of change
  (`ws.compare`, as the overview's tiles read it) calls real at the 5% level; the others
  are counted as noise or untested, never listed as changes.
- `sla`: the SLA targets breached in the week (`cxmetrics.sla.breaches`) by metric and
  policy, and the worst few (the latest past their due time).
- `topics`: the top topics by volume with their change against the week before
  (`ws.topics`, each change tested).

Nothing is computed here that the library does not compute: only picked and worded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from cxmetrics._workspace import Workspace
from cxmetrics.reports._period import Week
from cxmetrics.web import _format as fmt
from cxmetrics.web._data import overview
from cxmetrics.web._filters import Filters

#: the level the library's tests of change use (ws.compare: significant at 5%)
LEVEL = "5%"
TOP_TOPICS = 8
WORST_BREACHES = 5
SLA_METRICS = {"first_reply": "First reply", "next_reply": "Next reply", "periodic_update": "Periodic update",
               "pausable_update": "Pausable update", "requester_wait": "Requester wait",
               "agent_work_time": "Agent work time", "total_resolution": "Total resolution"}


def _kpi(tile: dict[str, Any]) -> dict[str, Any]:
    target = tile.get("target")
    met = None if target is None else target.get("met")
    return {
        "key": tile["key"], "metric": tile["metric"], "title": tile["title"], "caption": tile.get("caption", ""),
        "value": tile.get("value"), "value_text": tile.get("value_text") or "—", "suffix": tile.get("suffix", ""),
        "n": tile.get("n"), "sub_text": tile.get("sub_text", ""), "hidden": bool(tile.get("hidden")),
        "hidden_reason": tile.get("hidden_reason"), "note": tile.get("note"),
        "target_text": None if target is None else target["text"],
        # a value too uncertain to headline is not called met or missed either
        "status": ("no target" if target is None else "too few to tell" if tile.get("hidden")
                   else "no value" if met is None else ("met" if met else "missed")),
        # (the cost tile compares months, and says so in previous_label)
        "change": None if tile.get("change") is None else {"previous_label": None, **tile["change"]},
    }


def _changes(kpis: list[dict[str, Any]]) -> dict[str, Any]:
    real, noise, untested = [], [], []
    for k in kpis:
        c = k["change"]
        if not c or c.get("no_data"):
            continue
        if c.get("significant") is True:
            real.append({"title": k["title"], "metric": k["metric"], "from_text": c["previous_text"],
                         "to_text": k["value_text"], "change_text": c["text"], "tone": c["tone"],
                         "arrow": c["arrow"], "test": c["test"], "p_text": c["p_text"]})
        elif c.get("significant") is False:
            noise.append(k["title"])
        else:
            untested.append(k["title"])
    return {"real": real, "noise": noise, "untested": untested, "level": LEVEL}


def _sla_configured(ws: Workspace) -> bool:
    from cxmetrics.web import _sla as web_sla

    return web_sla.status(ws)[0]


def _sla(ws: Workspace, week: Week) -> dict[str, Any]:
    """Breaches whose breach time falls in the week (`configured` False when SLAs are not set up)."""
    from cxmetrics.sla import breaches
    from cxmetrics.web import _sla as web_sla

    ok, why = web_sla.status(ws)
    if not ok:
        return {"configured": False, "why": why, "total": 0, "groups": [], "worst": []}

    groups = breaches(ws.con, by=["metric", "policy"], start=week.start, end=week.end).to_pylist()
    groups.sort(key=lambda r: (-r["breaches"], r["metric"], r["policy"]))
    worst = ws.sql("""
        SELECT s.source, s.ticket_id, s.policy, s.metric, s.priority, s.channel, s.team, s.due_at, s.breached_at,
               s.completed_at, s.target_s,
               (epoch_us(coalesce(s.completed_at, s.evaluated_at)) - epoch_us(s.due_at)) / 1e6 AS late_s,
               t.subject
        FROM sla_targets s LEFT JOIN tickets t ON t.source = s.source AND t.ticket_id = s.ticket_id
        WHERE s.state = 'breached' AND s.breached_at >= CAST(? AS TIMESTAMPTZ)
          AND s.breached_at < CAST(? AS TIMESTAMPTZ)
        ORDER BY late_s DESC NULLS LAST, s.source, s.ticket_id, s.metric
        LIMIT ?
    """, [week.start.isoformat(), week.end.isoformat(), WORST_BREACHES]).to_pylist()
    for w in worst:
        w["metric_label"] = SLA_METRICS.get(w["metric"], w["metric"])
        w["late_text"] = fmt.value(w["late_s"], "seconds") if w["late_s"] is not None else "—"
        w["target_text"] = fmt.value(w["target_s"], "seconds")
        w["open"] = w["completed_at"] is None
    for g in groups:
        g["metric_label"] = SLA_METRICS.get(g["metric"], g["metric"])
    return {"configured": True, "why": "", "total": sum(g["breaches"] for g in groups), "groups": groups,
            "worst": worst}


def _topics(ws: Workspace, week: Week) -> list[dict[str, Any]]:
    rows = ws.topics(start=week.start, end=week.end, limit=TOP_TOPICS).to_pylist()
    out = []
    for r in rows:
        sig = r.get("significant")
        verdict = ("no data before" if r.get("flags") else "not tested" if sig is None
                   else "real change" if sig else "noise")
        change = r.get("change")
        out.append({"topic": r["topic"], "tickets": r["tickets"], "share_text": fmt.value(r["share"], "percent"),
                    "before": r.get("before"), "change": change,
                    "change_text": "" if change is None else f"{change:+,.0f}", "verdict": verdict,
                    "significant": sig is True, "emerging": r.get("emerging") is True})
    return out


def weekly(ws: Workspace, week: Week, *, evaluate_sla: Callable[[Workspace], None] | None = None,
           now: datetime | None = None) -> dict[str, Any]:
    """Everything the weekly report of `week` shows (see the module docstring)."""
    if evaluate_sla is not None and _sla_configured(ws):
        evaluate_sla(ws)  # the clocks brought to now: a target breached since the last evaluation counts
    f = Filters(start=week.start, end=week.end, period="custom")
    tiles = overview(ws, f)["tiles"]
    kpis = [_kpi(t) for t in tiles if t.get("available", True)]
    shown = [k for k in kpis if k["value"] is not None]
    missing = [k["title"] for k in kpis if k["value"] is None]
    sla = _sla(ws, week)
    return {
        "title": f"Weekly support report, {week.label}",
        "week": week.label, "start": week.start.isoformat(), "end": week.end.isoformat(),
        "period_text": f"{week.start:%a %d %b} – {week.end - timedelta(days=1):%a %d %b %Y}",
        "previous": week.previous().label, "timezone": ws.settings.timezone,
        "kpis": shown, "missing": missing,
        "targets_met": sum(k["status"] == "met" for k in shown),
        "targets_missed": sum(k["status"] == "missed" for k in shown),
        "changes": _changes(shown), "sla": sla, "topics": _topics(ws, week),
        "generated_at": (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC"),
    }
