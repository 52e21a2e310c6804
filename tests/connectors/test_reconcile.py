"""Reconcile with the vendor's own numbers (issue 12, item 5): `cxmetrics reconcile VENDOR`
sets Zendesk ticket_metrics, Freshdesk stats and Intercom statistics beside our facts.

The vendors' numbers in the fixtures were worked out by hand from each fixture's own
events, with the vendor's documented definitions (fixtures/*/README.md), under Zendesk's
schedule Mon-Fri 09:00-17:00 Europe/London (UTC in March 2025). The expected agreement
counts below come from those hand values, never from our code's output.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from _connector_helpers import ny  # noqa: F401  (a fixture)
from conftest import rows, write

import cxmetrics
from cxmetrics.calendar import SCHEDULES_FILE
from cxmetrics.cli import main
from cxmetrics.connectors import import_freshdesk, import_intercom, import_zendesk
from cxmetrics.connectors.reconcile import RECONCILED, Reconciliation, reconcile

FIXTURES = Path(__file__).parent / "fixtures"
ZENDESK = FIXTURES / "zendesk"
# the Zendesk account's schedule the fixture's business minutes were worked out under
LONDON = """
[schedules.default]
timezone = "Europe/London"
hours = { mon-fri = ["09:00-17:00"] }
"""


def _counts(result: Reconciliation) -> dict[str, tuple[int, int, int, int, int]]:
    """(compared, agree, differ, only the vendor's, only ours) per metric."""
    return {m.metric: (m.compared, m.agree, m.differ, m.only_vendor, m.only_ours) for m in result.metrics}


def _listed(result: Reconciliation) -> dict[tuple[str, str], tuple[Any, ...]]:
    return {(d.ticket_id, d.metric): (d.vendor, d.ours, d.difference, d.status, d.reason) for d in result.differences}


def _with_schedule(ws: cxmetrics.Workspace) -> None:
    write(ws.path / SCHEDULES_FILE, LONDON)


def _zendesk_copy(tmp_path: Path, change: dict[int, dict[str, Any]]) -> Path:
    """The Zendesk fixture with some ticket_metrics values changed: {ticket: {field: value}},
    a field `a.b` inside an object."""
    folder = tmp_path / "zendesk"
    shutil.copytree(ZENDESK, folder)
    for name, key in (("ticket_metrics.json", "ticket_metrics"), ("ticket-103-metrics.json", "ticket_metric")):
        page = json.loads((folder / name).read_text())
        for m in page[key] if isinstance(page[key], list) else [page[key]]:
            for field, value in change.get(m["ticket_id"], {}).items():
                obj = m
                *path, last = field.split(".")
                for p in path:
                    obj = obj[p]
                obj[last] = value
        write(folder / name, json.dumps(page))
    return folder


def test_zendesk_fixture_agrees_with_zendesk_under_its_schedule(ny: cxmetrics.Workspace) -> None:
    _with_schedule(ny)
    import_zendesk(ny, ZENDESK)
    result = reconcile(ny, "zendesk")
    # metrics kept for 101, 102, 104 (list page) and 103 (single object); 105 (deleted) has none
    assert (result.tickets, result.not_in_ours, result.without_vendor_numbers) == (4, 0, 1)
    # durations: 101, 102, 104 solved (103 pending: no resolution or wait times on either side);
    # reply times: 101, 102, 103 (104's only comment is the private merge note)
    three, four = (3, 3, 0, 0, 0), (4, 4, 0, 0, 0)
    assert _counts(result) == {
        "reply_time": three, "reply_time_bh": three, "first_resolution": three, "first_resolution_bh": three,
        "full_resolution": three, "full_resolution_bh": three, "requester_wait": three, "requester_wait_bh": three,
        "agent_wait": three, "agent_wait_bh": three, "on_hold": three, "on_hold_bh": three,
        "reopens": four, "replies": four,
    }
    assert (result.differences, result.total_differences) == ((), 0)


def test_without_zendesk_schedule_business_minutes_differ_and_say_why(ny: cxmetrics.Workspace) -> None:
    # no schedules.toml: our business time is calendar time (24/7), Zendesk's is its schedule's
    import_zendesk(ny, ZENDESK)
    result = reconcile(ny, "zendesk")
    got = _counts(result)
    # calendar minutes all agree
    assert got["reply_time"] == got["full_resolution"] == got["requester_wait"] == (3, 3, 0, 0, 0)
    # 103: Sat 15:00 -> Mon 14:00 is 2820 calendar minutes, 300 business (Mon 09:00-14:00)
    assert got["reply_time_bh"] == (3, 2, 1, 0, 0)
    # 104 (merged): 08:00 -> 09:00 is before the schedule's hours, 0 business minutes
    assert got["first_resolution_bh"] == (3, 2, 1, 0, 0)
    # 101: Mon 09:00 -> Tue 12:00 = 1620 calendar, 480 + 180 = 660 business; and 104
    assert got["full_resolution_bh"] == (3, 1, 2, 0, 0)
    # 101 waits 300 minutes, 240 in business hours (the reopen Tue 08:00-09:00 is before 09:00); and 104
    assert got["requester_wait_bh"] == (3, 1, 2, 0, 0)
    assert got["agent_wait_bh"] == got["on_hold_bh"] == (3, 3, 0, 0, 0)
    listed = _listed(result)
    assert listed[("103", "reply_time_bh")] == (300.0, 2820.0, 2520.0, "differs",
                                                "other business hours (ours: default)")
    assert listed[("104", "first_resolution_bh")] == (0.0, 60.0, 60.0, "differs",
                                                      "other business hours (ours: default); merged away")
    vendor, ours, diff, status, reason = listed[("101", "full_resolution_bh")]
    assert (vendor, ours, diff, status) == (660.0, 1620.0, 960.0, "differs")
    assert reason == "other business hours (ours: default); reopened 1x; pending 30 min"
    assert result.total_differences == 6


def test_wrong_vendor_values_are_listed_with_both_numbers(tmp_path: Path, ny: cxmetrics.Workspace) -> None:
    _with_schedule(ny)
    folder = _zendesk_copy(tmp_path, {
        101: {"reply_time_in_minutes.calendar": 5},  # as if the AI agent's answer at 09:05 were the reply
        102: {"replies": 2,  # as if the agent's opening comment were a reply
              "full_resolution_time_in_minutes.calendar": None},  # and no full resolution given
        103: {"requester_wait_time_in_minutes.calendar": 100},  # a wait for a ticket not solved
    })
    import_zendesk(ny, folder)
    result = reconcile(ny, "zendesk")
    got = _counts(result)
    assert got["reply_time"] == (3, 2, 1, 0, 0)
    assert got["reply_time_bh"] == (3, 3, 0, 0, 0)  # 101's business minutes were left right
    assert got["replies"] == (4, 3, 1, 0, 0)
    assert got["full_resolution"] == (2, 2, 0, 0, 1)  # 102: only ours
    assert got["requester_wait"] == (3, 3, 0, 1, 0)  # 103: only Zendesk's
    listed = _listed(result)
    # ours - Zendesk's: 30 - 5
    assert listed[("101", "reply_time")] == (5.0, 30.0, 25.0, "differs", "bot message before the first human reply")
    assert listed[("102", "replies")] == (2.0, 1.0, -1.0, "differs", "agent-created ticket")
    assert listed[("102", "full_resolution")] == (None, 90.0, None, "only ours", "agent-created ticket")
    assert listed[("103", "requester_wait")] == (100.0, None, None, "only the vendor's", "not solved now")
    assert result.total_differences == 4
    # --metric narrows the report; --limit the list, not the counts
    narrow = reconcile(ny, "zendesk", metrics=["replies"], limit=0)
    assert (_counts(narrow), narrow.differences, narrow.total_differences) == ({"replies": (4, 3, 1, 0, 0)}, (), 1)


def test_metric_sets_side_load_and_bare_objects_are_kept(tmp_path: Path, ny: cxmetrics.Workspace) -> None:
    # the incremental ticket export with include=metric_sets: the same objects under another
    # name; a newer set (updated_at) of a ticket replaces the older one
    import_zendesk(ny, ZENDESK)
    page = json.loads((ZENDESK / "tickets-1.json").read_text())
    metrics = json.loads((ZENDESK / "ticket_metrics.json").read_text())["ticket_metrics"][0]
    newer = {**metrics, "updated_at": "2025-03-05T00:00:00Z", "reply_time_in_minutes": {"calendar": 45, "business": 45}}
    older = {**metrics, "updated_at": "2025-03-01T00:00:00Z", "reply_time_in_minutes": {"calendar": 1, "business": 1}}
    # (ticket 101 only: its requester submitted it, so the page needs no users page to say so)
    page["tickets"] = [t for t in page["tickets"] if t["id"] == 101]
    write(tmp_path / "export.json", json.dumps({**page, "metric_sets": [newer, older]}))
    # a bare metric set in JSON Lines, and one without its ticket
    bare = {**json.loads((ZENDESK / "ticket-103-metrics.json").read_text())["ticket_metric"], "replies": 7}
    write(tmp_path / "more.jsonl", json.dumps(bare) + "\n" + json.dumps({"ticket_metrics": [{"id": 1, "reopens": 0}]})
          + "\n")
    summary = import_zendesk(ny, tmp_path)
    assert summary.tables["tickets"].quarantined == 1
    assert rows(ny, "SELECT reason FROM quarantine") == [
        ("more.jsonl line 2, ticket_metrics[0]: ticket_id is missing",)]
    listed = _listed(reconcile(ny, "zendesk", metrics=["reply_time", "replies"]))
    assert listed == {("101", "reply_time"): (45.0, 30.0, -15.0, "differs", "bot message before the first human reply"),
                      ("103", "replies"): (7.0, 1.0, -6.0, "differs", None)}
    # stored once per ticket, whatever came twice
    assert rows(ny, "SELECT count(*) FROM connector_objects WHERE vendor = 'zendesk' AND kind = 'ticket_metrics'") == [
        (4,)]


def test_freshdesk_stats(ny: cxmetrics.Workspace) -> None:
    import_freshdesk(ny, FIXTURES / "freshdesk")
    result = reconcile(ny, "freshdesk")
    assert (result.tickets, result.without_vendor_numbers) == (6, 0)
    assert _counts(result) == {
        # first_responded_at - created_at: 201 30 min (the 09:10 private note is no response), 202 90
        # (an outbound ticket: the agent's reply after the customer's), 203 2820 (across DST), 204 20
        "first_response": (4, 4, 0, 0, 0),
        # resolved_at: 202 at 90 min agrees; 201 was resolved at 90 min but reopened and is open
        "resolution": (1, 1, 0, 1, 0),
        # reopened_at set only on 201; the spam and deleted tickets are compared too
        "reopened": (6, 6, 0, 0, 0),
    }
    assert _listed(result) == {("201", "resolution"): (90.0, None, None, "only the vendor's",
                                                       "reopened 1x; not solved now")}


def test_intercom_statistics(ny: cxmetrics.Workspace) -> None:
    import_intercom(ny, FIXTURES / "intercom")
    result = reconcile(ny, "intercom")
    # 102 was started by an admin: Intercom measures from the customer's first message (11:00),
    # ours from creation (10:00): every time of 102 differs by 60 minutes
    two_of_three = (3, 2, 1, 0, 0)
    assert _counts(result) == {
        "first_reply": two_of_three, "time_to_admin_reply": two_of_three,  # 101 20 min, 103 2820
        "first_close": two_of_three, "time_to_first_close": two_of_three,  # 101 90 min, 104 (Fin) 4
        "last_close": two_of_three, "time_to_last_close": two_of_three,  # 101 1440 min, 104 4
        # 101: replies after 20, 30 and 60 minutes: median 30; 103: 2820; ours keep reply
        # intervals for customer-started conversations only, so 102 is Intercom's alone
        "median_time_to_reply": (2, 2, 0, 1, 0),
        "count_reopens": (5, 5, 0, 0, 0),  # 101 reopened once by the customer's reply
    }
    listed = _listed(result)
    assert listed[("102", "first_reply")] == (30.0, 90.0, 60.0, "differs", "agent-created ticket")
    assert listed[("102", "median_time_to_reply")] == (30.0, None, None, "only the vendor's", "agent-created ticket")


def test_cli_reconcile(tmp_path: Path) -> None:
    runner = CliRunner()
    ws = str(tmp_path / "ws")
    folder = _zendesk_copy(tmp_path, {101: {"reply_time_in_minutes.calendar": 5}})
    assert runner.invoke(main, ["-w", ws, "import", "zendesk", str(folder)]).exit_code == 0
    write(Path(ws) / SCHEDULES_FILE, LONDON)
    out = runner.invoke(main, ["-w", ws, "reconcile", "zendesk"])
    assert out.exit_code == 0, out.output  # disagreements are data, not failures
    lines = out.output.splitlines()
    assert "reply_time: 2 of 3 tickets agree within a minute; 1 differs, 0 only zendesk's, 0 only ours" in lines
    assert "replies: 4 of 4 tickets agree exactly; 0 differ, 0 only zendesk's, 0 only ours" in lines
    header = next(i for i, line in enumerate(lines) if line.startswith("ticket_id"))
    assert lines[header].split() == ["ticket_id", "metric", "vendor", "ours", "difference", "unit", "status", "reason"]
    assert lines[header + 2].split() == ["101", "reply_time", "5", "30", "25", "minutes", "differs", "bot", "message",
                                         "before", "the", "first", "human", "reply"]
    as_json = json.loads(runner.invoke(main, ["-w", ws, "reconcile", "zendesk", "--format", "json",
                                              "--metric", "reply_time"]).output)
    assert [(m["metric"], m["compared"], m["agree"]) for m in as_json["metrics"]] == [("reply_time", 3, 2)]
    assert [(d["ticket_id"], d["vendor"], d["ours"]) for d in as_json["differences"]] == [("101", 5.0, 30.0)]
    csv = runner.invoke(main, ["-w", ws, "reconcile", "zendesk", "--format", "csv", "--metric", "reply_time"])
    assert "101,reply_time,5.0,30.0,25.0,minutes,differs,bot message before the first human reply" in csv.output
    # nothing kept for the vendor: how to import its numbers; an unknown metric: the nearest name
    none = runner.invoke(main, ["-w", ws, "reconcile", "freshdesk"])
    assert none.exit_code == 1
    assert "ConnectorError: No Freshdesk ticket stats in this workspace" in none.output
    assert "include=stats" in none.output and "cxmetrics import freshdesk PATH" in none.output
    bad = runner.invoke(main, ["-w", ws, "reconcile", "zendesk", "--metric", "reply"])
    assert bad.exit_code == 1 and "Did you mean 'reply_time'?" in bad.output
    chatwoot = runner.invoke(main, ["-w", ws, "reconcile", "chatwoot"])
    assert chatwoot.exit_code == 1 and "UserError: Chatwoot's API gives no per-conversation numbers" in chatwoot.output


@pytest.mark.parametrize("vendor", sorted(RECONCILED))
def test_every_compared_metric_is_documented(vendor: str) -> None:
    doc = (Path(__file__).parents[2] / "docs" / "connectors.md").read_text()
    section = doc[doc.index("## Reconcile with the vendor's numbers"):]
    for pair in RECONCILED[vendor].pairs:
        assert f"`{pair.metric}`" in section, (vendor, pair.metric)


def test_tickets_imported_under_another_source(ny: cxmetrics.Workspace) -> None:
    import_zendesk(ny, ZENDESK, source="zendesk-eu")
    default = reconcile(ny, "zendesk", metrics=["replies"])
    # our facts are under zendesk-eu: against source zendesk, every kept ticket is the vendor's alone
    assert (default.not_in_ours, _counts(default)) == (4, {"replies": (0, 0, 0, 4, 0)})
    assert "none of them in our data of source 'zendesk'" in default.summary()
    assert {d.reason for d in default.differences} == {"not in our data"}
    given = reconcile(ny, "zendesk", metrics=["replies"], source="zendesk-eu")
    assert (given.not_in_ours, _counts(given)) == (0, {"replies": (4, 4, 0, 0, 0)})


def test_api_reconcile(tmp_path: Path) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from cxmetrics.api import create_app
    from cxmetrics.api.auth import create_key

    folder = _zendesk_copy(tmp_path, {101: {"reply_time_in_minutes.calendar": 5}})
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        import_zendesk(ws, folder)
    app = create_app(tmp_path / "ws", watch_alerts=False)
    _, viewer = create_key(app.state.workspace, "viewer", "viewer")
    with TestClient(app) as client:
        h = {"Authorization": f"Bearer {viewer}"}
        got = client.get("/api/v1/reconcile/zendesk", headers=h, params={"metric": ["reply_time", "replies"]})
        assert got.status_code == 200, got.text
        body = got.json()
        assert [(m["metric"], m["compared"], m["agree"], m["differ"]) for m in body["metrics"]] == [
            ("reply_time", 3, 2, 1), ("replies", 4, 4, 0)]
        assert [(d["ticket_id"], d["vendor"], d["ours"], d["difference"], d["reason"])
                for d in body["differences"]] == [("101", 5.0, 30.0, 25.0, "bot message before the first human reply")]
        # errors in the API's one shape, never a 500
        for url, params, status in (("/api/v1/reconcile/freshdesk", {}, 400),
                                    ("/api/v1/reconcile/chatwoot", {}, 400),
                                    ("/api/v1/reconcile/zendesk", {"metric": "reply"}, 400),
                                    ("/api/v1/reconcile/zendesk", {"limit": -1}, 422)):
            bad = client.get(url, headers=h, params=params)
            assert bad.status_code == status, (url, bad.text)
            assert set(bad.json()["error"]) == {"status", "code", "message", "details"}, bad.json()
        none = client.get("/api/v1/reconcile/freshdesk", headers=h).json()["error"]["message"]
        assert none.startswith("No Freshdesk ticket stats in this workspace")
        assert client.get("/api/v1/reconcile/zendesk").status_code == 401  # a key is needed
