"""The ticket page (`/tickets/{source}/{ticket_id}`, issue 11 item 6): a hand-made ticket whose
timeline, local times, gaps and facts (calendar and business hours) are worked out by hand;
the 404 page; ids with `/`, spaces, HTML and unicode; the links from every ticket list; and
the page in a browser over the demo, with screenshots.

The ticket T-1 (events in UTC; the workspace's time zone is Europe/Berlin, UTC+1 in March
2026; business hours Mon-Fri 09:00-17:00 Berlin; 6 March 2026 is a Friday):

    Fri 15:45Z (16:45 Berlin) created by customer C1, and the customer's first message
    Fri 16:15Z (17:15)  A1 replies publicly, status new -> pending     first response 30 min
    Fri 16:20Z (17:20)  A1 writes a private note
    Mon 08:30Z (09:30)  the customer writes again, status pending -> open
    Mon 09:00Z (10:00)  A1 replies publicly, status open -> solved
    Mon 09:05Z (10:05)  CSAT survey sent; 09:20Z (10:20) answered 5 with a comment
    SLA policy Standard: first reply 15m (due 16:00Z, breached; replied late at 16:15Z),
    total resolution 3d (due Mon 15:45Z, met at 09:00Z).

By hand: first response 1,800 s calendar, 900 s business (16:45-17:00 Berlin); time in new
16:45-17:15 = 1,800 s (900 s business), in pending Fri 17:15 -> Mon 09:30 = 231,300 s (1,800 s
business: Mon 09:00-09:30), in open 09:30-10:00 = 1,800 s (1,800 s). So requester wait = agent
work = 3,600 s (2,700 s business), agent wait 231,300 s (1,800 s), full resolution 234,900 s
(2d 17h 15m; business 900 + 3,600 = 4,500 s); two public agent replies: two-touch, not FCR.
"""

from __future__ import annotations

import html
import time
import warnings
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

import cxmetrics
from cxmetrics.api import create_app
from cxmetrics.api.auth import create_key
from cxmetrics.facts._columns import BUSINESS_TWINS
from cxmetrics.sla import refresh_sla
from web._web_helpers import SCREENSHOTS

ODD_ID = "a/b <b>x</b> ü"  # a slash, spaces, HTML and a non-ASCII letter
LONG = "The bank says nothing is wrong on their side. " * 8
HEADER = ("event_id,ticket_id,ts,kind,actor_type,actor_id,public,status_from,status_to,body,channel,requester_id,"
          "assignee_id,team,priority,topic,tags,subject")
EVENTS = HEADER + f"""
E1,T-1,2026-03-06T15:45:00Z,created,customer,C1,,,new,,email,C1,A1,Billing,high,billing,card;refund,Card declined <b>twice</b>
E2,T-1,2026-03-06T15:45:00Z,message,customer,C1,true,,,"Hello,
my card was declined twice <script>alert(1)</script> when I paid. {LONG}
Thanks",,,,,,,,
E3,T-1,2026-03-06T16:15:00Z,message,agent,A1,true,,,We are looking into it & will refund the second charge.,,,,,,,,
E4,T-1,2026-03-06T16:15:00Z,status,agent,A1,,new,pending,,,,,,,,,
E5,T-1,2026-03-06T16:20:00Z,message,agent,A1,false,,,Internal: check the PSP log.,,,,,,,,
E6,T-1,2026-03-09T08:30:00Z,message,customer,C1,true,,,Any news?,,,,,,,,
E7,T-1,2026-03-09T08:30:00Z,status,customer,C1,,pending,open,,,,,,,,,
E8,T-1,2026-03-09T09:00:00Z,message,agent,A1,true,,,Refunded: you will see it in 3 days.,,,,,,,,
E9,T-1,2026-03-09T09:00:00Z,status,agent,A1,,open,solved,,,,,,,,,
X1,{ODD_ID},2026-03-06T10:00:00Z,created,customer,C2,,,new,,chat,C2,,Billing,normal,,,Slash & HTML
X2,{ODD_ID},2026-03-06T10:00:00Z,message,customer,C2,true,,,hi,,,,,,,,
Y1,T 3,2026-03-05T10:00:00Z,created,customer,C3,,,new,,email,C3,A1,Billing,normal,billing,,Refund please
Y2,T 3,2026-03-05T10:00:00Z,message,customer,C3,true,,,Where is my refund?,,,,,,,,
Y3,T 3,2026-03-05T12:00:00Z,message,agent,A1,true,,,Sent.,,,,,,,,
Y4,T 3,2026-03-05T12:00:00Z,status,agent,A1,,new,solved,,,,,,,,,
"""
SURVEYS = ("response_id,ticket_id,customer_id,kind,score,comment,sent_at,responded_at\n"
           "R1,T-1,C1,csat,5,Quick & <i>kind</i>,2026-03-09T09:05:00Z,2026-03-09T09:20:00Z\n"
           "R3,T 3,C3,csat,1,Too slow,2026-03-05T13:00:00Z,2026-03-05T14:00:00Z\n")
SENDS = "send_id,ticket_id,customer_id,kind,sent_at,channel\nS1,T-1,C1,csat,2026-03-09T09:05:00Z,email\n"
SCHEDULES = '[schedules.default]\ntimezone = "Europe/Berlin"\nhours = { mon-fri = ["09:00-17:00"] }\n'
SLA = ('[[policy]]\nname = "Standard"\n[policy.targets]\n'
       'first_reply = { default = "15m", hours = "calendar" }\ntotal_resolution = { default = "3d", hours = "calendar" }\n')

# (local time, gap since the item before, what) for T-1, worked out by hand from the story above
TIMELINE = [
    ("06 Mar 2026 16:45:00", "", "Ticket created"),
    ("06 Mar 2026 16:45:00", "+0s", "Customer message"),
    ("06 Mar 2026 17:00:00", "+15m 00s", "SLA due: First reply"),
    ("06 Mar 2026 17:00:00", "+0s", "SLA breached: First reply"),
    ("06 Mar 2026 17:15:00", "+15m 00s", "Agent message"),
    ("06 Mar 2026 17:15:00", "+0s", "Status"),
    ("06 Mar 2026 17:15:00", "+0s", "SLA completed late: First reply"),
    ("06 Mar 2026 17:20:00", "+5m 00s", "Agent private note"),
    ("09 Mar 2026 09:30:00", "+2d 16h", "Customer message"),  # Fri 16:20Z -> Mon 08:30Z = 2d 16h 10m
    ("09 Mar 2026 09:30:00", "+0s", "Status"),
    ("09 Mar 2026 10:00:00", "+30m 00s", "Agent message"),
    ("09 Mar 2026 10:00:00", "+0s", "Status"),
    ("09 Mar 2026 10:00:00", "+0s", "SLA met: Total resolution"),
    ("09 Mar 2026 10:05:00", "+5m 00s", "CSAT survey sent"),
    ("09 Mar 2026 10:20:00", "+15m 00s", "CSAT answer"),
    ("09 Mar 2026 16:45:00", "+6h 25m", "SLA due: Total resolution"),  # Mon 15:45Z, 3 days after creation
]


class Tables(HTMLParser):
    """The rows of every table with an id: {table id: [(row attributes, [cell text])]}, and
    the text of elements with an id."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables: dict[str, list[tuple[dict[str, str], list[str]]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.links: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "table" and a.get("id"):
            self._table = a["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append((a, []))
        elif tag in ("td", "th") and self._table is not None and self.tables[self._table]:
            self._cell = []
        elif tag == "a" and "href" in a:
            self.links.append(a["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1][1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def ws_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ticket-page") / "ws"
    with cxmetrics.open(path, create=True) as ws:
        ws.configure(timezone="Europe/Berlin")
        (path / "schedules.toml").write_text(SCHEDULES, encoding="utf-8")
        (path / "sla.toml").write_text(SLA, encoding="utf-8")
        for kind, text in (("events", EVENTS), ("surveys", SURVEYS), ("survey_sends", SENDS)):
            (path / f"{kind}.csv").write_text(text, encoding="utf-8")
            summary = ws.import_file(kind, path / f"{kind}.csv")
            assert summary.quarantined == 0, ws.quarantine().to_pylist()
        ws.refresh()
        refresh_sla(ws, now="2026-03-12T00:00Z")
    return path


@pytest.fixture(scope="module")
def app(ws_path: Path) -> Iterator[tuple[TestClient, str]]:
    application = create_app(ws_path, watch_alerts=False)
    _, viewer = create_key(application.state.workspace, "ticket viewer", "viewer")
    with TestClient(application) as client:
        r = client.post("/login", data={"key": viewer, "next": "/"}, follow_redirects=False)
        assert r.status_code == 303
        yield client, viewer


@pytest.fixture
def client(app: tuple[TestClient, str]) -> TestClient:
    return app[0]


def get_page(client: TestClient, path: str, status: int = 200) -> tuple[str, Tables]:
    r = client.get(path)
    assert r.status_code == status, (path, r.status_code, r.text[:2000])
    return r.text, Tables(r.text)


def timeline_rows(page: Tables) -> list[tuple[str, str, str]]:
    out = []
    for attrs, cells in page.tables["timeline"]:
        if "data-kind" not in attrs:
            continue  # the heading row
        when, gap, what = cells[0], cells[1], cells[2]
        out.append((when, gap, what))
    return out


def test_the_timeline_lists_every_event_in_order_with_local_times_and_gaps(client: TestClient) -> None:
    text, page = get_page(client, "/tickets/default/T-1")
    rows = timeline_rows(page)
    assert [(w, g) for w, g, _ in rows] == [(w, g) for w, g, _ in TIMELINE]
    for (_, _, what), (_, _, expected) in zip(rows, TIMELINE, strict=True):
        assert what.startswith(expected), (what, expected)  # then its badges, detail and body
    whats = [what for _, _, what in rows]
    # status changes from -> to, public and private, the survey's score, the SLA policy and target
    assert "Status new → pending" in whats[5] and "Status pending → open" in whats[9]
    assert "Status open → solved" in whats[11]
    assert "public" in whats[4] and "private" in whats[7]
    assert "score 5 on 1–5" in whats[14] and "Quick & <i>kind</i>" in whats[14]  # the comment, as text
    assert "policy Standard · target 15m calendar" in whats[3] and "breached" in whats[3]
    assert "took 2d 17h" in whats[12]  # total resolution completed after 234,900 s
    who = [cells[3] for attrs, cells in page.tables["timeline"] if "data-kind" in attrs]
    assert who[4] == "agent A1" and who[1] == "customer C1"


def test_facts_in_calendar_and_business_hours_match_the_hand_count(client: TestClient) -> None:
    _, page = get_page(client, "/tickets/default/T-1")
    facts = {attrs["data-column"]: cells for table in ("facts", "outcomes") for attrs, cells in page.tables[table]
             if "data-column" in attrs}
    name = {k: v[0] for k, v in facts.items()}
    value = {k: v[1:] for k, v in facts.items()}
    assert name["frt_s"].startswith("First response time")
    assert value["frt_s"] == ["30m 00s", "15m 00s"]
    assert value["frt_first_touch_s"] == ["30m 00s", "15m 00s"]
    assert value["requester_wait_s"] == ["1h 00m", "45m 00s"]  # 3,600 s | 2,700 s
    assert value["agent_work_s"] == ["1h 00m", "45m 00s"]
    assert value["agent_wait_s"] == ["2d 16h", "30m 00s"]  # 231,300 s | 1,800 s
    assert value["on_hold_s"] == ["0s", "0s"]
    assert value["full_resolution_s"] == ["2d 17h", "1h 15m"]  # 234,900 s | 4,500 s
    assert value["first_resolution_s"] == ["2d 17h", "1h 15m"]
    assert value["frt_after_handoff_s"] == ["—", "—"]  # no bot, no hand-off
    assert name["public_agent_replies"].startswith("Public agent replies") and value["public_agent_replies"] == ["2"]
    assert value["reopens"] == ["0"]
    assert name["fcr"].startswith("First contact resolution") and value["fcr"] == ["no"]  # two replies
    assert value["one_touch"] == ["no"] and value["two_touch"] == ["yes"] and value["multi_touch"] == ["no"]
    assert value["resolver_id"] == ["A1"] and value["resolved_by_type"] == ["human"]


def test_every_business_twin_is_shown_beside_its_calendar_duration(client: TestClient) -> None:
    _, page = get_page(client, "/tickets/default/T-1")
    columns = {attrs["data-column"] for attrs, _ in page.tables["facts"] if "data-column" in attrs}
    assert set(BUSINESS_TWINS) <= columns


def test_the_header_and_texts_are_escaped(client: TestClient) -> None:
    text, page = get_page(client, "/tickets/default/T-1")
    assert "<title>Ticket T-1 · cxmetrics</title>" in text
    assert "Card declined &lt;b&gt;twice&lt;/b&gt;" in text and "<b>twice</b>" not in text
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "Quick &amp; &lt;i&gt;kind&lt;/i&gt;" in text
    for label, value in (("channel", "email"), ("priority", "high"), ("team", "Billing"), ("assignee", "A1"),
                         ("requester", "C1"), ("status", "solved"), ("created", "06 Mar 2026 16:45"),
                         ("topic", "billing"), ("tags", "card, refund")):
        assert f'data-field="{label}">{value}</dd>' in text, label
    # the long first message shows its start and the whole on demand; short ones whole
    assert text.count("show all</summary>") == 1
    assert html.escape(LONG.strip()[:60]) in text


def test_sla_targets_are_listed_with_due_and_completion(client: TestClient) -> None:
    _, page = get_page(client, "/tickets/default/T-1")
    rows = [cells for attrs, cells in page.tables["sla-targets"]][1:]
    assert rows == [
        ["First reply 15m calendar · Standard", "06 Mar 2026 17:00 completed 06 Mar 2026 17:15", "breached"],
        ["Total resolution 3d calendar · Standard", "09 Mar 2026 16:45 completed 09 Mar 2026 10:00", "achieved"],
    ]


def test_an_unknown_ticket_is_a_404_page_naming_source_and_id(client: TestClient) -> None:
    text, _ = get_page(client, "/tickets/default/NOPE-9", 404)
    assert "No ticket &#39;NOPE-9&#39; in source &#39;default&#39;" in text
    assert 'class="nav"' in text and "Back to the list" in text  # the dashboard's layout
    text, _ = get_page(client, "/tickets/zendesk/T-1", 404)  # the right id in another source
    assert "No ticket &#39;T-1&#39; in source &#39;zendesk&#39;" in text
    text, _ = get_page(client, "/tickets/default/" + quote("<b>bold</b> ü", safe=""), 404)
    assert "<b>bold</b>" not in text and "&lt;b&gt;bold&lt;/b&gt; ü" in text


def test_an_id_with_a_slash_html_spaces_and_unicode_opens(client: TestClient) -> None:
    from cxmetrics.web._ticket import href

    assert href("default", ODD_ID) == "/tickets/default/a%2Fb%20%3Cb%3Ex%3C%2Fb%3E%20%C3%BC"
    text, page = get_page(client, href("default", ODD_ID))
    assert '<h2 id="ticket-id">a/b &lt;b&gt;x&lt;/b&gt; ü' in text
    assert "<b>x</b>" not in text
    # its two events at 10:00Z, and the SLA: first reply 15m (due and breached 10:15Z, never
    # answered), total resolution 3d (due and breached 9 Mar 10:00Z, unsolved at the SLA's now)
    assert [(w, what.split(":")[0].split(" · ")[0]) for w, _, what in timeline_rows(page)] == [
        ("06 Mar 2026 11:00:00", "Ticket created chat"), ("06 Mar 2026 11:00:00", "Customer message public hi"),
        ("06 Mar 2026 11:15:00", "SLA due"), ("06 Mar 2026 11:15:00", "SLA breached"),
        ("09 Mar 2026 11:00:00", "SLA due"), ("09 Mar 2026 11:00:00", "SLA breached")]
    # a slash left unquoted reaches the same ticket (the id is the rest of the path)
    assert client.get("/tickets/default/a/b%20%3Cb%3Ex%3C/b%3E%20%C3%BC").status_code == 200


def test_the_list_links_each_ticket_here_and_still_works(client: TestClient) -> None:
    from cxmetrics.web._ticket import href

    list_path = "/tickets?period=custom&from=2026-03-01&to=2026-03-31"
    text, page = get_page(client, list_path)
    rows = [cells for attrs, cells in page.tables["tickets-table"]][1:]
    assert sorted(r[0] for r in rows) == sorted(["T-1", ODD_ID, "T 3"])
    back = "/tickets?period=custom&from=2026-03-01&to=2026-03-31"
    assert href("default", "T-1", back) in page.links
    assert href("default", ODD_ID, back) in page.links
    # the link opens the ticket, whose way back is the list it came from
    text, page = get_page(client, href("default", "T-1", back))
    assert f'id="back-link" href="{html.escape(back)}"' in text
    # no way back given, or one off this server: the list
    for given in ("", "?back=https://evil.example/x", "?back=//evil.example"):
        assert 'id="back-link" href="/tickets"' in client.get("/tickets/default/T-1" + given).text


def test_two_tickets_never_share_a_cached_page(client: TestClient) -> None:
    from cxmetrics.web._ticket import href

    first = client.get("/tickets/default/T-1").text
    second = client.get(href("default", ODD_ID)).text
    assert 'id="ticket-id">T-1' in first and 'id="ticket-id">a/b' in second


def test_the_api_answer_is_unchanged(app: tuple[TestClient, str]) -> None:
    client, key = app
    r = client.get("/api/v1/tickets/default/T-1", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"ticket", "facts", "events", "surveys"}
    assert [e["event_id"] for e in body["events"]] == [f"E{i}" for i in range(1, 10)]
    assert body["facts"]["frt_s"] == 1800.0 and body["ticket"]["subject"] == "Card declined <b>twice</b>"
    assert [s["response_id"] for s in body["surveys"]] == ["R1"]
    r = client.get("/api/v1/tickets/default/NOPE", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 404 and r.json()["error"]["message"] == "no ticket 'NOPE' in source 'default'."


def test_other_lists_link_their_ticket_ids(client: TestClient) -> None:
    from cxmetrics.web._ticket import href

    # the CSAT answers behind the number, and the SLA targets behind compliance
    for metric in ("csat", "sla_compliance"):
        _, page = get_page(client, f"/tickets?metric={metric}&period=custom&from=2026-03-01&to=2026-03-31")
        assert any(link.startswith(href("default", "T-1") + "?back=") for link in page.links), metric
    view = "period=custom&from=2026-03-01&to=2026-03-31"
    # the comments behind low scores (T 3's CSAT 1), and the topics' example tickets
    _, page = get_page(client, f"/surveys?{view}")
    assert href("default", "T 3", "/surveys") in page.links
    _, page = get_page(client, f"/topics?{view}")
    assert href("default", "T-1", "/topics") in page.links


# -- in a browser, over the demo --------------------------------------------------------


def test_browser_opens_a_ticket_from_the_list(page: Any, server: Any) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    # answers with a comment lead to tickets with a survey on their timeline
    page.goto(server.url + "/tickets?metric=csat&period=90d", wait_until="networkidle")
    link = page.locator("#tickets-table a.ticket-link").first
    ticket_id = link.inner_text().strip()
    link.click()
    page.wait_for_url("**/tickets/demo/**")
    assert page.title() == f"Ticket {ticket_id} · cxmetrics"
    assert page.locator("#ticket-id").inner_text().startswith(ticket_id)
    with server.cursor() as ws:
        n_events = ws.sql("SELECT count(*) AS n FROM events WHERE source = 'demo' AND ticket_id = ?",
                          [ticket_id]).to_pylist()[0]["n"]
        n_answers = ws.sql("SELECT count(*) AS n FROM surveys WHERE source = 'demo' AND ticket_id = ?",
                           [ticket_id]).to_pylist()[0]["n"]
        frt = ws.sql("SELECT frt_s FROM ticket_facts WHERE source = 'demo' AND ticket_id = ?",
                     [ticket_id]).to_pylist()[0]["frt_s"]
    assert page.locator("#timeline tr.tl-event").count() == n_events
    assert page.locator("#timeline tr.tl-survey_answer").count() == n_answers >= 1
    times = page.locator("#timeline tr[data-ts]").evaluate_all("rows => rows.map(r => r.dataset.ts)")
    assert times == sorted(times, key=lambda t: (t == "", t))  # in time order (ISO, one offset)
    if frt is not None:
        from cxmetrics.web._format import duration

        assert page.locator('#facts tr[data-column="frt_s"] td.cal').inner_text() == duration(frt)
    page.screenshot(path=str(SCREENSHOTS / "ticket-1440.png"))
    page.set_viewport_size({"width": 1280, "height": 720})
    page.screenshot(path=str(SCREENSHOTS / "ticket-1280.png"))
    # back to the list it came from
    page.locator("#back-link").click()
    page.wait_for_url("**/tickets?metric=csat*")
    # an unknown ticket: the dashboard's 404 page, naming it, escaped
    response = page.goto(server.url + "/tickets/demo/" + quote("<b>T/none</b>", safe=""))
    assert response is not None and response.status == 404
    assert page.locator("#ticket-missing h2").inner_text() == "No ticket '<b>T/none</b>' in source 'demo'"
    page.screenshot(path=str(SCREENSHOTS / "ticket-404-1280.png"))
    assert [e for e in page.console.errors if "404" not in e] == []  # the page's own status is no error


def test_ticket_page_builds_fast(client: TestClient) -> None:
    """The page's data are lookups by key: well under a second on a small workspace (the 1M
    figures are in docs/dashboard.md)."""
    from cxmetrics.web._ticket import ticket

    with client.app.state.workspace.cursor(auto_refresh=False) as ws:
        ticket(ws, "default", "T-1")
        start = time.perf_counter()
        ticket(ws, "default", "T-1")
        assert time.perf_counter() - start < 1.0
