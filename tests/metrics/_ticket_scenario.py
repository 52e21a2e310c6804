"""Helpers for the hand-worked ticket-metric scenarios (test_speed_metrics.py,
test_quality_metrics.py): small event files written one readable line per event, flat
ticket files, and one metric's (value, n) read back through `ws.metrics`.

An event line is `TICKET TIME KIND ACTOR_TYPE [ACTOR_ID] [key=value ...]`, e.g.

    T1 3/08:00    created customer C1 topic=billing channel=chat
    T1 3/08:00:05 message bot B1
    T1 3/08:03    note    agent A7          (a private note: message with public=false)
    T1 3/09:00    solved  agent A7          (a status event: new/open/pending/on-hold/solved/closed)

`3/08:00:05` is 2025-03-03T08:00:05Z (day of March 2025, UTC). A `created` event by a
customer names that customer as requester, and says who created the ticket
(created_by = its actor type), unless keys say otherwise. Event ids follow the line order,
so events at the same instant apply in the order written.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from conftest import write

COLUMNS = (
    "event_id", "ticket_id", "ts", "kind", "actor_type", "actor_id", "public", "status_to", "requester_id", "topic",
    "team", "assignee_id", "created_by", "channel", "duration_s",
)
KEYS = {"requester": "requester_id", "topic": "topic", "team": "team", "assignee": "assignee_id",
        "created_by": "created_by", "channel": "channel", "dur": "duration_s", "public": "public",
        "status": "status_to"}
STATUSES = ("new", "open", "pending", "on-hold", "solved", "closed")
_SHORT_TS = re.compile(r"(?<![\d-])(\d{1,2})/(\d\d:\d\d(?::\d\d(?:\.\d+)?)?)")


def expand(text: str) -> str:
    """`3/08:00` is 2025-03-03T08:00Z."""
    return _SHORT_TS.sub(lambda m: f"2025-03-{int(m.group(1)):02d}T{m.group(2)}Z", text)


def event_rows(spec: str) -> list[dict[str, str]]:
    out = []
    for n, raw in enumerate(line.split("#")[0].split() for line in spec.strip().splitlines()):
        if not raw:
            continue
        ticket, ts, kind, actor_type, *rest = raw
        row = dict.fromkeys(COLUMNS, "")
        row.update(event_id=f"{ticket}.{n:03d}", ticket_id=ticket, ts=expand(ts), kind=kind, actor_type=actor_type)
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


def load(ws: Any, tmp_path: Path, spec: str, name: str = "events.csv") -> None:
    """Import the events of `spec` (see the module doc); nothing may be quarantined."""
    lines = [",".join(COLUMNS)] + [",".join(r[c] for c in COLUMNS) for r in event_rows(spec)]
    summary = ws.import_file("events", write(tmp_path / name, "\n".join(lines) + "\n"))
    assert summary.quarantined == 0, ws.quarantine().to_pylist()


def flat(ws: Any, tmp_path: Path, text: str, name: str = "tickets.csv") -> None:
    """Import a flat tickets CSV (short timestamps expanded, lines stripped)."""
    body = "\n".join(line.strip() for line in expand(text).strip().splitlines() if line.strip())
    summary = ws.import_file("tickets", write(tmp_path / name, body + "\n"))
    assert summary.quarantined == 0, ws.quarantine().to_pylist()


def got(ws: Any, metric: str, **kw: Any) -> tuple[float | None, int]:
    """(value, n) of the one row a metric request without groups answers."""
    rows = ws.metrics([metric], **kw).to_pylist()
    assert len(rows) == 1, rows
    return rows[0]["value"], rows[0]["n"]


def per_day(ws: Any, metric: str, **kw: Any) -> dict[str, tuple[float | None, int]]:
    """{day: (value, n)} of a metric by grain day."""
    return {r["period"].isoformat(): (r["value"], r["n"]) for r in ws.metrics([metric], grain="day", **kw).to_pylist()}


def by(ws: Any, metric: str, dim: str, **kw: Any) -> dict[str, tuple[float | None, int]]:
    """{group: (value, n)} of a metric grouped by one dimension."""
    return {r[dim]: (r["value"], r["n"]) for r in ws.metrics([metric], by=[dim], **kw).to_pylist()}
