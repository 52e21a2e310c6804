"""survey_fatigue (migration 0020): each survey send's ordinal among its customer's sends, the
fatigue band `surveys_received`, kept by the facts refresh (issue 11: the Surveys page read it
as a window over every send on each request). Each step is checked by hand, and against a
full recompute: the incremental refresh must leave exactly what a full one writes."""

from __future__ import annotations

from pathlib import Path

import cxmetrics
from cxmetrics.facts import refresh_facts

TICKETS = "ticket_id,created_at,channel,status,requester_id\n"
SENDS = "send_id,ticket_id,customer_id,kind,sent_at\n"


def put(ws: cxmetrics.Workspace, path: Path, table: str, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    assert ws.import_file(table, path).quarantined == 0, ws.quarantine().to_pylist()


def ordinals(ws: cxmetrics.Workspace) -> dict[str, tuple[str, int]]:
    return {r["send_id"]: (r["customer"], r["nth"])
            for r in ws.sql("SELECT send_id, customer, nth FROM survey_fatigue").to_pylist()}


def bands(ws: cxmetrics.Workspace) -> dict[str, str]:
    from cxmetrics.metrics._sources import SOURCES

    return {r["send_id"]: r["surveys_received"]
            for r in ws.sql(f"SELECT send_id, surveys_received FROM ({SOURCES['survey_sends'].sql})").to_pylist()}


def same_as_full(ws: cxmetrics.Workspace) -> dict[str, tuple[str, int]]:
    """The ordinals now; and a full refresh writes the same."""
    now = ordinals(ws)
    refresh_facts(ws.con, full=True)
    assert ordinals(ws) == now
    return now


def test_ordinals_follow_new_sends_and_changed_requesters(tmp_path: Path) -> None:
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        put(ws, tmp_path / "t.csv", "tickets", TICKETS + "T1,2025-03-01T08:00:00Z,email,solved,C2\n"
                                                          "T2,2025-03-01T08:00:00Z,email,solved,\n")
        put(ws, tmp_path / "s.csv", "survey_sends", SENDS + (
            "S1,,C1,csat,2025-03-02T10:00:00Z\n"
            "S2,,C1,csat,2025-03-03T10:00:00Z\n"
            "S3,,C1,nps,2025-03-03T10:00:00Z\n"      # same time as S2: by send id, after it
            "S4,T1,,csat,2025-03-02T12:00:00Z\n"     # no customer: its ticket's requester, C2
            "S5,T2,,csat,2025-03-02T12:00:00Z\n"))   # no customer, no requester: unknown
        ws.refresh()
        assert same_as_full(ws) == {"S1": ("C1", 1), "S2": ("C1", 2), "S3": ("C1", 3), "S4": ("C2", 1)}
        assert bands(ws) == {"S1": "1", "S2": "2", "S3": "3", "S4": "1", "S5": "unknown"}

        # an earlier send of C1 arrives: C1's sends move up one; C2's are untouched
        put(ws, tmp_path / "s2.csv", "survey_sends", SENDS + "S0,,C1,csat,2025-03-01T09:00:00Z\n")
        ws.refresh()
        assert same_as_full(ws) == {"S0": ("C1", 1), "S1": ("C1", 2), "S2": ("C1", 3), "S3": ("C1", 4),
                                    "S4": ("C2", 1)}
        assert bands(ws)["S3"] == "4-5"

        # T1's requester becomes C1: its send counts for C1 now (between S1 and S2), C2 has none
        put(ws, tmp_path / "t2.csv", "tickets", TICKETS + "T1,2025-03-01T08:00:00Z,email,solved,C1\n")
        ws.refresh()
        assert same_as_full(ws) == {"S0": ("C1", 1), "S1": ("C1", 2), "S4": ("C1", 3), "S2": ("C1", 4),
                                    "S3": ("C1", 5)}
        # and T2 gets one: S5 is no longer unknown
        put(ws, tmp_path / "t3.csv", "tickets", TICKETS + "T2,2025-03-01T08:00:00Z,email,solved,C3\n")
        ws.refresh()
        assert same_as_full(ws)["S5"] == ("C3", 1)
        assert bands(ws) == {"S0": "1", "S1": "2", "S4": "3", "S2": "4-5", "S3": "4-5", "S5": "1"}

        # a send moved to another customer leaves its former one's order too
        put(ws, tmp_path / "s3.csv", "survey_sends", SENDS + "S1,,C3,csat,2025-03-02T10:00:00Z\n")
        ws.refresh()
        assert same_as_full(ws) == {"S0": ("C1", 1), "S4": ("C1", 2), "S2": ("C1", 3), "S3": ("C1", 4),
                                    "S1": ("C3", 1), "S5": ("C3", 2)}
