"""SLA endpoints (when the `cxmetrics.sla` package is installed): targets at risk and
compliance, read from `sla_targets`.

The targets are evaluated at the current time before they are read: by the alert
watcher when it runs, else here, at most every `SLA_FRESH_S` seconds and after every
write (the hub's version moved), under the workspace's write lock.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from cxmetrics._workspace import Workspace
from cxmetrics.api._auth import api_viewer, workspace_cursor
from cxmetrics.api._errors import COMMON_ERRORS, JSON
from cxmetrics.api._models import Table
from cxmetrics.api._params import FromQuery, ToQuery, check_period, parse_instant, split
from cxmetrics.errors import UnknownNameError, UserError

router = APIRouter(dependencies=[Depends(api_viewer)], responses=COMMON_ERRORS, tags=["sla"])

log = logging.getLogger("cxmetrics.api")

SLA_FRESH_S = 10.0
_state_lock = threading.Lock()


def available() -> bool:
    """Whether the SLA package provides what these endpoints read."""
    if importlib.util.find_spec("cxmetrics.sla") is None:
        return False
    from cxmetrics import sla

    return all(hasattr(sla, n) for n in ("at_risk", "compliance", "refresh_sla", "parse_duration"))


def fresh(owner: Any, ws: Workspace) -> None:
    """Evaluate the SLA clocks now unless that was done moments ago with the same data.
    `owner` is a request or the app's state (its hub version says whether data changed);
    the dashboard pages call this too."""
    from cxmetrics.sla import refresh_sla

    state = owner.app.state if hasattr(owner, "app") else owner
    if getattr(state, "alert_watcher", None) is not None:
        return  # the watcher evaluates the clocks on its own schedule (and after each write)
    version = state.hub.version
    with _state_lock:
        last = getattr(state, "sla_refreshed", None)
        if last is not None and last[0] == version and time.monotonic() - last[1] < SLA_FRESH_S:
            return
    with state.derive_lock:  # not the write lock: imports go on (they write no SLA or fact tables)
        refresh_sla(ws)
    with _state_lock:
        state.sla_refreshed = (version, time.monotonic())


def warm_up(state: Any) -> threading.Thread:
    """Evaluate the SLA targets once in the background at startup (the first evaluation
    of a large workspace takes seconds; the SLA page should not wait for it)."""

    def run() -> None:
        try:
            with state.workspace.cursor(auto_refresh=False) as ws:
                fresh(state, ws)
        except Exception:
            log.exception("the SLA targets could not be evaluated at startup")

    thread = threading.Thread(target=run, name="cxmetrics-sla-warm-up", daemon=True)
    thread.start()
    return thread


def _within(text: str) -> float:
    from cxmetrics.sla import parse_duration

    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise UserError(f"within: {exc}.") from None
    if seconds > 366 * 86400:
        raise UserError(f"within '{text}' is over a year; at-risk looks ahead minutes to days.")
    return seconds


@router.get("/sla/at-risk", response_model=Table,
            summary="Active SLA targets due within a time from now, soonest first, with the time left")
def get_at_risk(request: Request,
                within: str = Query("30m", max_length=50, description="How far ahead: 30m, 4h, 1h30m, 2d"),
                ws: Workspace = Depends(workspace_cursor)) -> JSON:
    from cxmetrics.sla import at_risk

    seconds = _within(within)
    fresh(request.app.state, ws)
    rows = at_risk(ws.con, within_s=seconds).to_pylist()
    return JSON({"rows": rows, "within_s": seconds})


@router.get("/sla/compliance", response_model=Table,
            summary="SLA compliance (achieved / settled targets) per group, with a Wilson interval")
def get_compliance(request: Request,
                   by: list[str] = Query([], description="policy, metric, priority, channel, team, agent, tier, "
                                         "source, business; comma-separated or repeated"),
                   start: str | None = FromQuery, end: str | None = ToQuery,
                   ws: Workspace = Depends(workspace_cursor)) -> JSON:
    from cxmetrics.sla import GROUPS, compliance

    a, b = parse_instant(start, "from"), parse_instant(end, "to")
    check_period(a, b)
    groups = split(by)
    for g in groups:
        if g not in GROUPS:
            raise UnknownNameError("SLA grouping", g, GROUPS)
    fresh(request.app.state, ws)
    rows: list[dict[str, Any]] = compliance(ws.con, by=groups, start=a, end=b).to_pylist()
    return JSON({"rows": rows})
