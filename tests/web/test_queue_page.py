"""The Queue page (issue 11, items 1-2): the queue now, created vs solved and backlog ageing,
checked against a hand-made workspace whose every number is worked out by hand below, and
against the registry (`backlog`, `tickets`, `solved_tickets`) for the same filters.

The scenario ends on Monday 10 March 2025 (UTC); that is long past, so 'now' is the end of
its last day with data, 2025-03-11 00:00 UTC (the dashboard's anchor day). At that instant:

ticket  created        channel team     assignee  status   waiting since (for)       age      bucket
A1      10 Mar 20:00   email   Billing  -         new      10 Mar 20:00 (4h)          4h      < 1 day
A2       8 Mar 09:00   chat    Billing  AG1       open      9 Mar 10:00 (1d 14h)      2d 15h  1-3
A3       5 Mar 12:00   email   Support  AG2       pending  - (the agent replied last) 5d 12h  3-7
A4       1 Mar 08:00   email   Support  AG2       on-hold  -                          9d 16h  7-30
A5      15 Jan 10:00   chat    Support  -         open     -                          54d     > 30
A6       7 Mar 10:00   email   Billing  AG1       open     10 Mar 23:00 (1h)          3d 14h  3-7   (solved, reopened)
A7      10 Mar 12:00   web     Support  -         new      10 Mar 12:00 (12h)         12h     < 1 day
S1, S2 solved on 10 Mar: not open.

A2's second customer message (11:00) belongs to the same wait (it started at 10:00); A1 has a
bot message and an agent's private note, neither a public human reply. Agents: AG1 replied
at 23:30 (S1), in the last hour; AG3 at 22:50 (70 minutes before): not active; AG2 wrote a
private note only. Shifts: AG2 is available from 16:00 to 01:00, AG3's shift ended at 16:00.
SLA: first reply due 4h30m after creation: A1's is due at 00:30 (30 minutes left), A7's was
due at 16:30 (breached, still open); every other first reply was given.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

import cxmetrics
from cxmetrics.errors import UserError
from cxmetrics.web import _queue
from cxmetrics.web._data import anchor_day
from cxmetrics.web._filters import Filters
from web._web_helpers import SCREENSHOTS

NOW = datetime(2025, 3, 11, tzinfo=UTC)
COLUMNS = ("event_id", "ticket_id", "ts", "kind", "actor_type", "actor_id", "public", "status_to", "requester_id",
           "team", "assignee_id", "created_by", "channel")
# ticket, time, kind, actor type, actor id, extra columns
EVENTS = """
A1 2025-03-10T20:00 created customer C1 channel=email team=Billing
A1 2025-03-10T20:01 message bot B1
A1 2025-03-10T23:45 note agent AG2
A2 2025-03-08T09:00 created customer C2 channel=chat team=Billing assignee=AG1
A2 2025-03-08T09:10 message agent AG1
A2 2025-03-08T09:10 open agent AG1
A2 2025-03-09T10:00 message customer C2
A2 2025-03-09T11:00 message customer C2
A3 2025-03-05T12:00 created customer C3 channel=email team=Support assignee=AG2
A3 2025-03-05T13:00 message agent AG2
A3 2025-03-05T13:00 pending agent AG2
A4 2025-03-01T08:00 created customer C4 channel=email team=Support assignee=AG2
A4 2025-03-01T09:00 message agent AG2
A4 2025-03-02T09:00 on-hold agent AG2
A5 2025-01-15T10:00 created customer C5 channel=chat team=Support
A5 2025-01-15T11:00 message agent AG3
A5 2025-01-15T11:00 open agent AG3
A6 2025-03-07T10:00 created customer C6 channel=email team=Billing assignee=AG1
A6 2025-03-07T10:30 message agent AG1
A6 2025-03-07T11:00 solved agent AG1
A6 2025-03-10T23:00 message customer C6
A6 2025-03-10T23:00 open customer C6
A7 2025-03-10T12:00 created customer C7 channel=web team=Support
S1 2025-03-10T22:00 created customer C8 channel=email team=Billing assignee=AG1
S1 2025-03-10T23:30 message agent AG1
S1 2025-03-10T23:30 solved agent AG1
S2 2025-03-09T08:00 created customer C9 channel=chat team=Support assignee=AG3
S2 2025-03-10T22:50 message agent AG3
S2 2025-03-10T22:55 solved agent AG3
"""
SHIFTS = """agent_id,start_at,end_at,activity,team,channel
AG2,2025-03-10T16:00:00Z,2025-03-11T01:00:00Z,available,Support,
AG3,2025-03-10T08:00:00Z,2025-03-10T16:00:00Z,available,Support,
"""
SLA = """[[policy]]
name = "Standard"
[policy.targets]
first_reply = { default = "4h30m", hours = "calendar" }
"""
KEYS = {"channel": "channel", "team": "team", "assignee": "assignee_id"}
STATUSES = ("open", "pending", "on-hold", "solved")


def _events_csv() -> str:
    lines = [",".join(COLUMNS)]
    for n, line in enumerate(x for x in EVENTS.strip().splitlines() if x.strip()):
        ticket, ts, kind, actor_type, actor_id, *rest = line.split()
        row = dict.fromkeys(COLUMNS, "")
        row.update(event_id=f"e{n:03d}", ticket_id=ticket, ts=ts + ":00Z", kind=kind, actor_type=actor_type,
                   actor_id=actor_id)
        if kind in STATUSES:
            row.update(kind="status", status_to=kind)
        elif kind == "note":
            row.update(kind="message", public="false")
        elif kind == "created":
            row.update(status_to="new", created_by=actor_type, requester_id=actor_id)
        for item in rest:
            key, value = item.split("=", 1)
            row[KEYS[key]] = value
        lines.append(",".join(row[c] for c in COLUMNS))
    return "\n".join(lines) + "\n"


@pytest.fixture
def queue_ws(tmp_path: Path) -> Iterator[cxmetrics.Workspace]:
    (tmp_path / "events.csv").write_text(_events_csv(), encoding="utf-8")
    (tmp_path / "shifts.csv").write_text(SHIFTS, encoding="utf-8")
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        assert ws.import_file("events", tmp_path / "events.csv").quarantined == 0, ws.quarantine().to_pylist()
        assert ws.import_file("shifts", tmp_path / "shifts.csv").quarantined == 0
        (ws.path / "sla.toml").write_text(SLA, encoding="utf-8")
        ws.refresh()
        yield ws


def _view(ws: cxmetrics.Workspace, **params: str) -> Filters:
    return Filters.parse({k: [v] for k, v in params.items()}, anchor=anchor_day(ws))


def _rows(table: list[dict[str, Any]], *keys: str) -> dict[str, tuple[int, ...]]:
    return {r["value"]: tuple(r[k] for k in keys) for r in table}


def test_now_is_the_end_of_the_data_when_that_is_past(queue_ws):
    now = _queue.queue_now(queue_ws)
    assert (now.at, now.live, now.anchor.isoformat()) == (NOW, False, "2025-03-11")
    d = _queue.queue(queue_ws, _view(queue_ws))
    assert d["now"]["live"] is False and d["now"]["label"].startswith("11 Mar 2025 00:00")


def test_open_unassigned_pending_by_channel_and_team_by_hand(queue_ws):
    f = _view(queue_ws)
    c = _queue.counts(queue_ws, f, _queue.queue_now(queue_ws))
    keys = ("open", "unassigned", "pending", "on_hold")
    assert tuple(c["total"][k] for k in keys) == (7, 3, 1, 1)
    assert _rows(c["by_channel"], *keys) == {"email": (4, 1, 1, 1), "chat": (2, 1, 0, 0), "web": (1, 1, 0, 0)}
    assert _rows(c["by_team"], *keys) == {"Billing": (3, 1, 0, 0), "Support": (4, 2, 1, 1)}
    # the open tickets are the registry's backlog at that instant, per channel too
    backlog = queue_ws.metrics(["backlog"], by=["channel"], end=NOW).to_pylist()
    assert {r["channel"]: r["value"] for r in backlog} == {"email": 4, "chat": 2, "web": 1}
    # each number lists its tickets
    from cxmetrics.web import _tickets

    def listed(href: str) -> set[str]:
        params = parse_qs(urlparse(href).query)
        view = Filters.parse(params, anchor=anchor_day(queue_ws))
        return {r["ticket_id"] for r in _tickets.tickets(queue_ws, view, "backlog", _tickets.extra_where(params))["rows"]}

    assert listed(c["total"]["open_href"]) == {"A1", "A2", "A3", "A4", "A5", "A6", "A7"}
    assert (listed(c["total"]["pending_href"]), listed(c["total"]["on_hold_href"])) == ({"A3"}, {"A4"})
    chat = next(r for r in c["by_channel"] if r["value"] == "chat")
    assert listed(chat["open_href"]) == {"A2", "A5"}
    # unassigned opens its tickets too (assignee=(none)), in all and per team
    unassigned = queue_ws.sql("SELECT ticket_id FROM ticket_facts WHERE assignee_id IS NULL AND status NOT IN "
                              "('solved', 'closed')").to_pylist()
    assert listed(c["total"]["unassigned_href"]) == {r["ticket_id"] for r in unassigned} and len(unassigned) == 3
    support = next(r for r in c["by_team"] if r["value"] == "Support")
    assert len(listed(support["unassigned_href"])) == support["unassigned"] == 2
    # a filter applies: email only
    e = _queue.counts(queue_ws, _view(queue_ws, channel="email"), _queue.queue_now(queue_ws))
    assert tuple(e["total"][k] for k in keys) == (4, 1, 1, 1)


def test_waiting_customers_longest_first_by_hand(queue_ws):
    w = _queue.waiting(queue_ws, _view(queue_ws), _queue.queue_now(queue_ws))
    assert w["count"] == 4
    assert [(r["ticket_id"], r["waited_s"]) for r in w["rows"]] == [
        ("A2", 38 * 3600.0), ("A7", 12 * 3600.0), ("A1", 4 * 3600.0), ("A6", 3600.0)]
    assert (w["oldest"]["waited"], w["oldest"]["href"]) == ("1d 14h", "/tickets/default/A2")
    assert [r["ticket_id"] for r in _queue.waiting(queue_ws, _view(queue_ws, channel="email"),
                                                  _queue.queue_now(queue_ws))["rows"]] == ["A1", "A6"]


def test_waits_read_from_the_facts_equal_those_read_from_the_messages(queue_ws, monkeypatch):
    """The facts keep each open ticket's wait (ticket_facts.waiting_since); when an event is
    dated after "now" the waits are read from the messages up to then. Both give the same list."""
    now = _queue.queue_now(queue_ws)
    assert not _queue._events_after(queue_ws, now)  # the hand-worked answers above came from the facts
    views = (_view(queue_ws), _view(queue_ws, channel="email"), _view(queue_ws, team="Support"))
    from_facts = [_queue.waiting(queue_ws, v, now) for v in views]
    tiles = [_queue.tile(queue_ws, v) for v in views]  # (one pass over the open tickets)
    monkeypatch.setattr(_queue, "_events_after", lambda ws, now: True)
    assert [_queue.waiting(queue_ws, v, now) for v in views] == from_facts
    assert [_queue.tile(queue_ws, v) for v in views] == tiles


def test_breaching_soon_and_breached_by_hand(queue_ws):
    b = _queue.breaching(queue_ws, _view(queue_ws), _queue.queue_now(queue_ws))
    assert b["configured"] and (b["soon"], b["breached"]) == (1, 1)
    assert [(r["ticket_id"], r["late"], r["left_s"]) for r in b["rows"]] == [("A1", False, 1800.0),
                                                                            ("A7", True, -7.5 * 3600)]
    assert [r["left"] for r in b["rows"]] == ["30m 00s", "overdue 7h 30m"]


def test_agents_active_and_on_shift_by_hand(queue_ws):
    a = _queue.active_agents(queue_ws, _view(queue_ws), _queue.queue_now(queue_ws))
    assert (a["replying"], a["has_shifts"], a["on_shift"]) == (1, True, 1)
    assert [(r["agent_id"], r["replies"], r["shift"]) for r in a["rows"]] == [("AG1", 1, ""), ("AG2", 0, "available")]
    assert a["rows"][0]["last"] == "30m 00s ago"


def test_backlog_ageing_buckets_by_hand_and_their_lists(queue_ws):
    f = _view(queue_ws)
    g = _queue.ageing(queue_ws, f, _queue.queue_now(queue_ws))
    cells = {r["channel"]: [c["n"] for c in r["cells"]] for r in g["rows"]}
    assert cells == {"email": [1, 0, 2, 1, 0], "chat": [0, 1, 0, 0, 1], "web": [1, 0, 0, 0, 0]}
    assert [t["n"] for t in g["totals"]] == [2, 1, 2, 1, 1]
    # each bucket's link lists exactly its tickets (the drill-down's `age` filter)
    from cxmetrics.web import _tickets

    expected = {0: {"A1", "A7"}, 1: {"A2"}, 2: {"A3", "A6"}, 3: {"A4"}, 4: {"A5"}}
    for i, cell in enumerate(g["totals"]):
        params = parse_qs(urlparse(cell["href"]).query)
        view = Filters.parse(params, anchor=anchor_day(queue_ws))
        listed = _tickets.tickets(queue_ws, view, params["metric"][0], _tickets.extra_where(params))
        assert {r["ticket_id"] for r in listed["rows"]} == expected[i], params["age"]
    email = next(r for r in g["rows"] if r["channel"] == "email")["cells"][2]["href"]
    params = parse_qs(urlparse(email).query)
    listed = _tickets.tickets(queue_ws, Filters.parse(params, anchor=anchor_day(queue_ws)), "backlog",
                              _tickets.extra_where(params))
    assert ({r["ticket_id"] for r in listed["rows"]}, params["channel"]) == ({"A3", "A6"}, ["email"])


def test_age_filter_errors_name_the_value_and_the_fix(queue_ws):
    from cxmetrics.api._drill import count_behind

    with pytest.raises(UserError, match=r"age 'old' is not a range of days open: use LO-HI or LO-"):
        count_behind(queue_ws, "backlog", {"age": ["old"]}, end="2025-03-11")
    with pytest.raises(UserError, match=r"'age' \(days open\) narrows the open tickets of backlog only, not frt"):
        count_behind(queue_ws, "frt", {"age": ["1-3"]})
    assert count_behind(queue_ws, "backlog", {"age": ["30-"]}, end="2025-03-11") == 1


def test_created_vs_solved_per_day_equal_hand_counts_and_the_registry(queue_ws):
    f = _view(queue_ws)  # the last 28 days: 11 Feb .. 10 Mar
    flow = _queue.created_solved(queue_ws, f)
    assert flow["grain"] == "day" and len(flow["points"]) == 28
    by_day = {p["period"]: (p["created"], p["solved"]) for p in flow["points"] if p["created"] or p["solved"]}
    # A6 was solved on the 7th but is open again: it is not a solved ticket
    assert by_day == {"2025-03-01": (1, 0), "2025-03-05": (1, 0), "2025-03-07": (1, 0), "2025-03-08": (1, 0),
                      "2025-03-09": (1, 0), "2025-03-10": (3, 2)}
    reg = queue_ws.metrics(["tickets", "solved_tickets"], grain="day", start=f.start, end=f.end).to_pylist()
    for r in reg:
        day = str(r["period"])[:10]
        assert by_day.get(day, (0, 0))[0 if r["metric"] == "tickets" else 1] == int(r["value"] or 0), r
    split = _queue.created_solved(queue_ws, f, "team")
    assert {r["group"]: (r["created"], r["solved"], r["net"]) for r in split["table"]} == {
        "Billing": (4, 1, 3), "Support": (4, 1, 3)}
    with pytest.raises(UserError, match="split 'agent' is not one of channel, team"):
        _queue.created_solved(queue_ws, f, "agent")


def test_live_now_is_the_clock(tmp_path):
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    csv = tmp_path / "t.csv"
    csv.write_text("ticket_id,created_at,channel,status,requester_id\n"
                   f"L1,{start.isoformat().replace('+00:00', 'Z')},email,open,C1\n", encoding="utf-8")
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        ws.import_file("tickets", csv)
        ws.refresh()
        now = _queue.queue_now(ws)
        assert now.live and abs((datetime.now(UTC) - now.at).total_seconds()) < 5
        w = _queue.waiting(ws, _view(ws), now)
        assert w["count"] == 1 and 7200 <= w["oldest"]["waited_s"] < 7200 + 60



def test_a_quiet_night_does_not_freeze_the_queue_at_midnight_but_older_data_does(tmp_path):
    """The last ticket came in yesterday evening (and the test may run just after midnight, as
    it once did): the queue is still live. Data that ends three days ago shows the queue at the
    midnight after its last day."""
    today = datetime.now(UTC).date()
    for days_ago, live in ((1, True), (3, False)):
        created = datetime.combine(today - timedelta(days=days_ago), datetime.min.time(), UTC) + timedelta(hours=22)
        csv = tmp_path / f"t{days_ago}.csv"
        csv.write_text("ticket_id,created_at,channel,status,requester_id\n"
                       f"L1,{created.isoformat().replace('+00:00', 'Z')},email,open,C1\n", encoding="utf-8")
        with cxmetrics.open(tmp_path / f"ws{days_ago}", create=True) as ws:
            ws.import_file("tickets", csv)
            ws.refresh()
            now = _queue.queue_now(ws)
        assert now.live is live
        if live:
            assert abs((datetime.now(UTC) - now.at).total_seconds()) < 5
        else:  # the midnight after the last day with data (UTC here)
            assert now.at == datetime.combine(today - timedelta(days=2), datetime.min.time(), UTC)

def test_overview_tile(queue_ws):
    t = _queue.tile(queue_ws, _view(queue_ws, team="Support"))
    assert (t["open"], t["unassigned"], t["pending"], t["waiting"], t["oldest"]) == (4, 2, 2, 1, "12h 00m")
    assert t["href"] == "/queue?team=Support"


# -- in the browser ----------------------------------------------------------------------


def _int(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text))


def test_queue_page_in_the_browser(server, page):
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(server.url + "/queue")
    for section in ("#q-open", "#q-unassigned", "#q-oldest", "#q-breaching", "#q-agents", "#q-by-channel",
                    "#q-by-team", "#q-flow .plot", "#q-ageing"):
        assert page.locator(section).count() == 1, section
    page.wait_for_selector("#q-flow .plot .main-svg")
    nav = page.locator("nav.nav a.nav-link").all_inner_texts()
    assert nav[:2] == ["Overview", "Queue"]
    # the open count is the registry's backlog now
    with server.cursor() as ws:
        now = _queue.queue_now(ws)
        backlog = ws.metrics(["backlog"], end=now.at).to_pylist()[0]["value"]
    assert _int(page.locator("#q-open .tile-value").inner_text()) == backlog
    page.screenshot(path=str(SCREENSHOTS / "queue-1440.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 720})
    page.screenshot(path=str(SCREENSHOTS / "queue-1280.png"))
    # a bucket's number leads to a list of that many tickets (the smallest bucket that has any)
    links = page.locator("#q-ageing tbody tr:not([data-fixed]) td[data-bucket] a")
    counts = [(_int(links.nth(i).inner_text()), links.nth(i).get_attribute("href")) for i in range(links.count())]
    n, href = min(c for c in counts if c[0] <= 50)
    page.goto(server.url + href)
    assert page.locator("#tickets-table tbody tr").count() == n
    assert "open" in page.locator("main").inner_text()
    # the overview's Queue tile says the same and leads here
    page.goto(server.url + "/")
    tile = page.locator("#tile-queue")
    assert _int(tile.locator(".tile-value").inner_text()) == backlog
    assert tile.get_attribute("href") == "/queue"
    tile.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "queue-overview-tile.png"))
    assert page.console.errors == [], page.console.errors


def test_queue_routes_answer_bad_input_with_the_fix(server):
    import httpx

    with httpx.Client(base_url=server.url, timeout=60) as c:
        assert c.post("/login", data={"key": server.viewer, "next": "/"}).status_code in (200, 303)
        ok = c.get("/queue?split=team", headers={"X-CXM-Fragment": "1"})
        assert ok.status_code == 200 and 'id="q-flow-table"' in ok.text and "Split by" in ok.text
        bad = c.get("/queue?split=agent")
        assert bad.status_code == 400 and "split &#39;agent&#39; is not one of channel, team" in bad.text
        age = c.get("/tickets?metric=backlog&age=old")
        assert age.status_code == 400 and "use LO-HI or LO- (e.g. age=3-7 or age=30-)" in age.text
        api = c.get("/api/v1/tickets", params={"metric": "backlog", "where": "age:30-"})
        assert api.status_code == 200, api.text


def test_waits_tick_in_the_browser_when_now_is_the_clock(browser, tmp_path):
    """A workspace whose data reaches today: 'now' is the clock and the longest wait counts
    up in the page between refreshes."""
    from cxmetrics.api import create_app
    from cxmetrics.api.auth import create_key
    from web._web_helpers import serving

    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    csv = tmp_path / "t.csv"
    csv.write_text("ticket_id,created_at,channel,status,requester_id\n"
                   f"L1,{start.isoformat().replace('+00:00', 'Z')},email,open,C1\n", encoding="utf-8")
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        ws.import_file("tickets", csv)
        ws.refresh()
    app = create_app(tmp_path / "ws", watch_alerts=False)
    _, key = create_key(app.state.workspace, "tick viewer", "viewer")
    with serving(app, "cxmetrics-queue-tick") as url:
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        try:
            assert context.request.post(url + "/login", form={"key": key, "next": "/favicon.ico"}).ok
            page = context.new_page()
            page.goto(url + "/queue")
            assert "the clock" in page.inner_text("#queue-now")
            first = page.inner_text("#q-oldest .ago")
            assert re.fullmatch(r"5m \d\ds", first), first
            page.wait_for_function("t => document.querySelector('#q-oldest .ago').textContent !== t", arg=first,
                                   timeout=15000)
            later = page.inner_text("#q-oldest .ago")
            assert re.fullmatch(r"[56]m \d\ds", later) and later > first, (first, later)
        finally:
            context.close()
