"""Helpers for the hand-worked SLA scenarios: events written one readable line each,
policy and schedule files, and a ticket's targets read back.

An event line is `TICKET TIME KIND ACTOR_TYPE [ACTOR_ID] [key=value ...]`:

    T1 3/08:00 created customer C1 priority=urgent tier=vip channel=email tags=a;b
    T1 3/08:30 message agent A1           (public; `note` is a private one)
    T1 3/08:30 pending agent A1           (a status event: new/open/pending/on-hold/solved/closed)

`3/08:00` is 2025-03-03T08:00Z. March 2025: the 3rd is a Monday, the 7th a Friday,
the 10th a Monday. Event ids follow the line order (events at one instant apply in the
order written).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import cxmetrics
from _engines import OnSpark
from cxmetrics.sla import refresh_sla

COLUMNS = (
    "event_id", "ticket_id", "ts", "kind", "actor_type", "actor_id", "public", "status_to", "requester_id",
    "priority", "customer_tier", "channel", "team", "tags", "assignee_id", "created_by",
)
KEYS = {"priority": "priority", "tier": "customer_tier", "channel": "channel", "team": "team", "tags": "tags",
        "assignee": "assignee_id", "created_by": "created_by"}
STATUSES = ("new", "open", "pending", "on-hold", "solved", "closed")
_SHORT_TS = re.compile(r"(?<![\d-])(\d{1,2})/(\d\d:\d\d(?::\d\d)?)")


def ts(short: str) -> str:
    """`3/08:00` -> '2025-03-03T08:00:00Z' (the spelling `when` compares against)."""
    day, clock = short.split("/")
    clock = clock if clock.count(":") == 2 else clock + ":00"
    return f"2025-03-{int(day):02d}T{clock}Z"


def event_rows(spec: str, start: int = 0) -> list[dict[str, str]]:
    out = []
    for n, raw in enumerate((line.split("#")[0].split() for line in spec.strip().splitlines()), start=start):
        if not raw:
            continue
        ticket, when, kind, actor_type, *rest = raw
        row = dict.fromkeys(COLUMNS, "")
        row.update(event_id=f"{ticket}.{n:03d}", ticket_id=ticket, ts=ts(when), kind=kind, actor_type=actor_type)
        if rest and "=" not in rest[0]:
            row["actor_id"] = rest.pop(0)
        if kind in STATUSES:
            row.update(kind="status", status_to=kind)
        elif kind == "note":
            row.update(kind="message", public="false")
        elif kind == "created":
            row.update(status_to="new", created_by=actor_type if actor_type != "bot" else "system")
            if actor_type == "customer":
                row["requester_id"] = row["actor_id"]
        for item in rest:
            key, value = item.split("=", 1)
            row[KEYS[key]] = value
        out.append(row)
    return out


_counter = {"n": 0}


def load(ws: cxmetrics.Workspace, spec: str) -> None:
    """Import the events of `spec` (a new file each time; nothing may be quarantined)."""
    _counter["n"] += 1
    path = Path(ws.path) / f"events_{_counter['n']}.csv"
    rows = event_rows(spec, start=_counter["n"] * 1000)
    lines = [",".join(COLUMNS)] + [",".join(r[c] for c in COLUMNS) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = ws.import_file("events", path)
    assert summary.quarantined == 0, ws.quarantine().to_pylist()


def policies(ws: cxmetrics.Workspace, text: str) -> None:
    (Path(ws.path) / "sla.toml").write_text(text, encoding="utf-8")


def schedules(ws: cxmetrics.Workspace, text: str) -> None:
    (Path(ws.path) / "schedules.toml").write_text(text, encoding="utf-8")


def refresh(ws: cxmetrics.Workspace | OnSpark, now: str) -> int:
    """Refresh at `now` (short form, e.g. '3/12:00', or ISO 8601); in the `[spark]` variant of a
    scenario marked `engines`, the clocks are derived on Spark (`OnSpark.refresh_sla`,
    tests/_engines.py)."""
    stamp = now if "T" in now else ts(now)
    if isinstance(ws, OnSpark):
        return ws.refresh_sla(stamp)
    return refresh_sla(ws, now=stamp)


def clocks(ws: cxmetrics.Workspace | OnSpark) -> str:
    """The table to read the SLA clocks from with `ws.sql`: the workspace's `sla_targets`, or on
    Spark what the last refresh on Spark wrote."""
    return ws.built("sla_targets") if isinstance(ws, OnSpark) else "sla_targets"


def reader(ws: cxmetrics.Workspace | OnSpark) -> Any:
    """What `compliance` and `breaches` read the clocks through: the workspace's connection, or
    on Spark a client over the export the last refresh on Spark wrote (as `--engine spark sla
    status` reads one)."""
    return ws.built_client() if isinstance(ws, OnSpark) else ws.con


_TS_COLS = ("started_at", "due_at", "completed_at", "breached_at", "settled_at", "evaluated_at")


def targets(ws: cxmetrics.Workspace | OnSpark, ticket: str, metric: str | None = None) -> list[dict[str, Any]]:
    """A ticket's targets (timestamps as ISO text in UTC, e.g. '2025-03-03T09:00:00Z'); on Spark,
    as the last refresh on Spark wrote them."""
    cols = ", ".join(
        f"strftime({c} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS {c}" if c in _TS_COLS else c
        for c in ("ticket_id", "policy", "metric", "cycle", "priority", "business", "schedule", "target_s",
                  *_TS_COLS, "elapsed_s", "seconds_left", "state")
    )
    where = "ticket_id = ?" + (" AND metric = ?" if metric else "")
    params = [ticket, metric] if metric else [ticket]
    return ws.sql(f"SELECT {cols} FROM {clocks(ws)} WHERE {where} ORDER BY metric, cycle", params).to_pylist()


def one(ws: cxmetrics.Workspace | OnSpark, ticket: str, metric: str, cycle: int = 1) -> dict[str, Any]:
    found = [t for t in targets(ws, ticket, metric) if t["cycle"] == cycle]
    assert len(found) == 1, (ticket, metric, cycle, targets(ws, ticket))
    return found[0]


def brief(ws: cxmetrics.Workspace | OnSpark, ticket: str, metric: str, cycle: int = 1) -> tuple[Any, ...]:
    """(state, due_at, completed_at, elapsed_s, seconds_left, breached_at) of one target."""
    t = one(ws, ticket, metric, cycle)
    return t["state"], t["due_at"], t["completed_at"], t["elapsed_s"], t["seconds_left"], t["breached_at"]
