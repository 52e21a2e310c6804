"""Every stored row counts in some metric, or is quarantined with a reason: nothing is
stored and then silently invisible (issue 10, item 1). One test per import kind, over
the README's own example rows (so the documented formats are what is tested); expected
values are worked out by hand from those rows."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from conftest import write

import cxmetrics



@pytest.fixture
def ws(tmp_path: Path):
    # versions before `create` made the folder on open (so this runs on older checkouts too)
    create = {"create": True} if "create" in inspect.signature(cxmetrics.open).parameters else {}
    with cxmetrics.open(tmp_path / "ws", **create) as workspace:
        yield workspace


README = Path(__file__).resolve().parents[2] / "README.md"

# the header of each kind's example block in the README's formats section
HEADERS = {
    "tickets": "ticket_id,created_at,",
    "events": "event_id,ticket_id,ts,kind,",
    "calls": "call_id,ticket_id,arrived_at,",
    "surveys": "response_id,",
    "survey_sends": "send_id,",
    "agents": "agent_id,",
    "customers": "customer_id,created_at,",
    "activity": "customer_id,ts,action",
    "funnel": "period,segment,",
    "costs": "period,category,",
    "annotations": "annotation_id,",
    "shifts": "start,end,agent_id,",
}


def readme_rows(kind: str) -> str:
    """The README's ```csv example of a kind (the test fails if the README loses it)."""
    blocks = re.findall(r"```csv\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    found = [b for b in blocks if b.startswith(HEADERS[kind])]
    assert len(found) == 1, f"README.md should show one {kind} example, found {len(found)}"
    return found[0]


def imp(ws: cxmetrics.Workspace, tmp_path: Path, kind: str, text: str | None = None) -> cxmetrics.ImportSummary:
    path = write(tmp_path / f"{kind}-{len(list(tmp_path.iterdir()))}.csv", text or readme_rows(kind))
    return ws.import_file(kind, path)


def one(ws: cxmetrics.Workspace, metric: str, start: str, end: str, **kw: object) -> tuple[float | None, int]:
    got = ws.metrics([metric], start=start, end=end, **kw).table.to_pylist()
    assert len(got) == 1, got
    return got[0]["value"], got[0]["n"]


def test_readme_survey_answer_without_times_counts_at_its_ticket(ws, tmp_path):
    """The issue's case: R-3 (no sent_at, no responded_at) was stored and never counted."""
    imp(ws, tmp_path, "tickets")
    s = imp(ws, tmp_path, "surveys")
    assert (s.read, s.inserted, s.quarantined) == (3, 3, 0)
    # T-1001's own csat 5 (at its solve), R-1's 4 and R-3's bad: 2 satisfied of 3
    value, n = one(ws, "csat", "2025-01-01", "2026-01-01")
    assert (round(value, 1), n) == (66.7, 3)
    # T-1002 is open with no events after its creation (2025-03-03 08:15): R-3 is there
    assert one(ws, "csat", "2025-03-03", "2025-03-04") == (0.0, 1)
    # solving T-1002 later moves its untimed answer to the solve
    solved = readme_rows("tickets").replace(
        "T-1002,2025-03-03T08:15:00Z,chat,high,open,C-78,,,Tier 1,login,customer,,,",
        "T-1002,2025-03-03T08:15:00Z,chat,high,solved,C-78,,,Tier 1,login,customer,,2025-03-10T12:00:00Z,",
    )
    assert solved != readme_rows("tickets")
    imp(ws, tmp_path, "tickets", solved)
    assert one(ws, "csat", "2025-03-10", "2025-03-11") == (0.0, 1)
    assert one(ws, "csat", "2025-03-03", "2025-03-04")[1] in (0, None)


def test_untimed_answer_that_nothing_can_place_is_quarantined(ws, tmp_path):
    imp(ws, tmp_path, "tickets")
    text = ("response_id,ticket_id,kind,score,sent_at,responded_at\n"
            "R-4,,csat,5,,\n"
            "R-5,T-9999,csat,5,,\n"
            "R-6,,csat,5,2025-03-01T09:00:00Z,\n")
    s = imp(ws, tmp_path, "surveys", text)
    assert (s.read, s.inserted, s.quarantined) == (3, 1, 2)
    reasons = {r["line"]: r["reason"] for r in ws.quarantine().to_pylist()}
    assert reasons[2] == "no responded_at, sent_at or ticket to place it in time"
    assert reasons[3].startswith("no responded_at or sent_at, and its ticket T-9999 is not stored")
    # an answer whose ticket exists only as events is placed too
    imp(ws, tmp_path, "events")
    s = imp(ws, tmp_path, "surveys", "response_id,ticket_id,kind,score\nR-7,T-1,csat,1\n")
    assert s.inserted == 1
    # T-1 was solved 2025-03-03 09:00 (E7)
    assert one(ws, "csat", "2025-03-03T09:00:00Z", "2025-03-03T09:01:00Z") == (0.0, 1)


def test_readme_tickets_count(ws, tmp_path):
    s = imp(ws, tmp_path, "tickets")
    assert (s.inserted, s.quarantined) == (2, 0)
    assert one(ws, "tickets", "2025-03-01", "2025-04-01") == (2, 2)


def test_readme_events_count_even_without_a_created_event(ws, tmp_path):
    s = imp(ws, tmp_path, "events")
    assert (s.inserted, s.quarantined) == (7, 0)
    # E1 08:00 created -> E6 08:05 first public human reply (E2 is a bot, E5 a private note)
    assert one(ws, "frt", "2025-03-03", "2025-03-04") == (300.0, 1)
    # a ticket known only from later events is created at its first event
    text = "\n".join(
        line.replace("T-1,", "T-2,").replace("E", "F", 1) for line in readme_rows("events").splitlines()
        if ",created," not in line
    ) + "\n"
    s = imp(ws, tmp_path, "events", text)
    assert (s.inserted, s.quarantined) == (6, 0)
    assert one(ws, "tickets", "2025-03-03", "2025-03-04") == (2, 2)
    # T-2 starts at F2 (08:00:05): its first human reply is 295 s later
    got = ws.metrics(["frt"], by=["channel"], start="2025-03-03", end="2025-03-04").table.to_pylist()
    assert sorted(r["value"] for r in got) in ([295.0, 300.0], [297.5])


def test_readme_calls_count(ws, tmp_path):
    s = imp(ws, tmp_path, "calls")
    assert (s.inserted, s.quarantined) == (3, 0)
    assert one(ws, "tickets", "2025-03-03", "2025-03-04") == (3, 3)
    # CL-1 waits 09:00:12 -> 09:00:40 (28 s), CL-3 is queued at its arrival and waits 20 s
    assert one(ws, "asa", "2025-03-03", "2025-03-04") == (24.0, 2)
    # CL-1 talks 300 s + 30 hold + 60 wrap; CL-3 talks 95 s
    assert one(ws, "aht", "2025-03-03", "2025-03-04") == (242.5, 2)
    # CL-2 hangs up after 66 s in the queue: 1 of 3 offered calls
    assert one(ws, "abandonment_rate", "2025-03-03", "2025-03-04") == (pytest.approx(100 / 3), 3)


def test_readme_survey_sends_count(ws, tmp_path):
    imp(ws, tmp_path, "tickets")
    imp(ws, tmp_path, "surveys")
    s = imp(ws, tmp_path, "survey_sends")
    assert (s.inserted, s.quarantined) == (2, 0)
    # S-1 (T-1001, csat) is answered; S-2 (customer C-79, nps) is not
    assert one(ws, "survey_response_rate", "2025-03-01", "2025-04-01")[:2] == (50.0, 2)


def test_readme_agents_count(ws, tmp_path):
    s = imp(ws, tmp_path, "agents")
    assert (s.inserted, s.quarantined) == (2, 0)
    # A-12 is the one human (B-1 is a bot): employed all of 2025, left never
    assert one(ws, "employee_turnover", "2025-01-01", "2026-01-01") == (0.0, 1)
    # an agent without hired_at counts as employed since ever
    imp(ws, tmp_path, "agents", "agent_id,name,left_at\nA-13,Bo,2025-06-01\n")
    value, n = one(ws, "employee_turnover", "2025-01-01", "2026-01-01")
    # 1 left / mean headcount ((2 at start + 1 at end) / 2) = 66.7%
    assert (round(value, 1), n) == (66.7, 2)
    # an agent's row names it on the scorecard of the tickets it handled
    imp(ws, tmp_path, "tickets")
    names = {r["agent_id"]: (r["name"], r["type"], r["team"]) for r in ws.scorecard(min_n=1).to_pylist()}
    assert names["A-12"] == ("Ana Ruiz", "human", "Tier 1")


def test_readme_customers_and_activity_count(ws, tmp_path):
    assert imp(ws, tmp_path, "customers").inserted == 1
    # C-77 signed up 2024-06-01 and never churned: retained through 2025
    assert one(ws, "crr", "2025-01-01", "2026-01-01") == (100.0, 1)
    # a customer without created_at is a customer since ever
    imp(ws, tmp_path, "customers", "customer_id,churned_at\nC-80,2025-05-01T00:00:00Z\n")
    assert one(ws, "churn_rate", "2025-01-01", "2026-01-01") == (50.0, 2)
    assert imp(ws, tmp_path, "activity").inserted == 1
    assert one(ws, "dau", "2025-03-01", "2025-03-02") == (1.0, 1)


def test_readme_funnel_and_costs_count(ws, tmp_path):
    assert imp(ws, tmp_path, "funnel").inserted == 1
    value, n = one(ws, "conversion_rate", "2025-03-01", "2025-04-01")
    assert (round(value, 3), n) == (round(100 * 340 / 12000, 3), 12000)
    imp(ws, tmp_path, "tickets")  # T-1001 is solved on 2025-03-04
    assert imp(ws, tmp_path, "costs").inserted == 2
    # 182000 salaries (March) + 9000 tools (Q1), over 1 solved ticket
    got = ws.metrics(["cost_per_resolution"], grain="quarter", start="2025-01-01", end="2025-04-01").table.to_pylist()
    assert [(r["value"], r["n"]) for r in got] == [(191000.0, 1)]


def test_readme_annotations_count(ws, tmp_path):
    assert imp(ws, tmp_path, "annotations").inserted == 1
    imp(ws, tmp_path, "tickets")
    # the annotation (2025-04-01) anchors a before/after comparison by its label: the 30
    # days before it hold both README tickets (created 2025-03-03), the 30 after none
    got = ws.compare(["tickets"], annotation="Chat Assistant launched", days=30).to_pylist()
    assert [(r["a_value"], r["b_value"]) for r in got] == [(2, 0)]


def test_readme_shifts_count(ws, tmp_path):
    from cxmetrics.workforce._shifts import staffed

    assert imp(ws, tmp_path, "shifts").inserted == 3
    # maria 09:00-17:00 less her lunch 12:00-12:30 = 7.5 h; li 22:00-06:00 over midnight: 2 h, then 6 h
    got = staffed(ws, interval="1d", start="2025-03-03", end="2025-03-05").to_pylist()
    assert [(r["channel"], r["staffed"] * 24) for r in got] == [(None, 2.0), (None, 6.0), ("phone", 7.5), ("phone", 0.0)]
