"""Helpers for the hand-worked fact scenarios: small event files and reading facts back."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import cxmetrics
from cxmetrics.facts import refresh_facts

# the columns every scenario writes, in this order (blank = not given)
HEADER = (
    "event_id,ticket_id,ts,kind,actor_type,actor_id,public,status_to,requester_id,topic,team,"
    "assignee_id,created_by,channel,duration_s"
)
_SHORT_TS = re.compile(r"(?<![\d-])(\d{1,2})/(\d\d:\d\d(?::\d\d)?)")


def expand(text: str) -> str:
    """`3/08:00` is 2025-03-03T08:00Z: scenarios stay readable."""
    return _SHORT_TS.sub(lambda m: f"2025-03-{int(m.group(1)):02d}T{m.group(2)}Z", text)


def import_events(ws: cxmetrics.Workspace, path: Path, lines: str, header: str = HEADER) -> cxmetrics.ImportSummary:
    body = "\n".join(line.strip() for line in expand(lines).strip().splitlines() if line.strip())
    path.write_text(f"{header}\n{body}\n", encoding="utf-8")
    summary = ws.import_file("events", path)
    assert summary.quarantined == 0, ws.quarantine().to_pylist()
    return summary


def import_tickets(ws: cxmetrics.Workspace, path: Path, text: str) -> cxmetrics.ImportSummary:
    path.write_text(expand(text).strip() + "\n", encoding="utf-8")
    summary = ws.import_file("tickets", path)
    assert summary.quarantined == 0, ws.quarantine().to_pylist()
    return summary


def load(ws: cxmetrics.Workspace, tmp_path: Path, lines: str) -> int:
    """Import the scenario's events and refresh the facts; returns the tickets refreshed."""
    import_events(ws, tmp_path / "events.csv", lines)
    return refresh_facts(ws.con)


def facts(ws: cxmetrics.Workspace, ticket_id: str) -> dict[str, Any]:
    found = ws.sql("SELECT * FROM ticket_facts WHERE ticket_id = ?", [ticket_id]).to_pylist()
    assert len(found) == 1, (ticket_id, found)
    return found[0]


def pick(ws: cxmetrics.Workspace, ticket_id: str, *cols: str) -> tuple[Any, ...]:
    row = facts(ws, ticket_id)
    return tuple(row[c] for c in cols)


def intervals(ws: cxmetrics.Workspace, ticket_id: str) -> list[tuple[int, float]]:
    """(seq, seconds) of a ticket's reply intervals."""
    return [
        (r["seq"], r["seconds"])
        for r in ws.sql(
            "SELECT seq, seconds FROM reply_intervals WHERE ticket_id = ? ORDER BY seq", [ticket_id]
        ).to_pylist()
    ]


def snapshot(ws: cxmetrics.Workspace) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Every fact, reply interval and contact, sorted, as comparable tuples."""
    f = ws.sql("SELECT * EXCLUDE (_event_rows, _ticket_row) FROM ticket_facts ORDER BY source, ticket_id")
    r = ws.sql("SELECT * FROM reply_intervals ORDER BY source, ticket_id, seq")
    c = ws.sql("SELECT * FROM contacts ORDER BY source, ticket_id, contact_no")
    return tuple([tuple(x.values()) for x in t.to_pylist()] for t in (f, r, c))  # type: ignore[return-value]
