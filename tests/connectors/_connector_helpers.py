"""What the vendor file-import tests share: a New York workspace (each fixture has a ticket
across the 2025-03-09 DST change), the reconciliation check and per-ticket facts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import cxmetrics
from conftest import rows


@pytest.fixture
def ny(tmp_path: Path) -> Iterator[cxmetrics.Workspace]:
    """A workspace in New York time, so a fixture's DST ticket spans the 2025-03-09 change."""
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        ws.configure(timezone="America/New_York")
        yield ws


def reconciles(summary: cxmetrics.connectors.ConnectorSummary) -> None:
    for s in summary.tables.values():
        assert s.read == s.inserted + s.updated + s.unchanged + s.quarantined, s


def facts_by_ticket(ws: cxmetrics.Workspace, cols: tuple[str, ...]) -> dict[str, dict[str, object]]:
    """These ticket_facts columns (the first is ticket_id) per ticket, after a refresh."""
    ws.refresh()
    got = rows(ws, f"SELECT {', '.join(cols)} FROM ticket_facts ORDER BY ticket_id")
    return {r[0]: dict(zip(cols, r)) for r in got}
