"""Issue 11 items 3 and 4: the Distributions page (first response and resolution times in
buckets, calendar or business hours, CSAT and NPS by score, each count opening exactly its
tickets) and the calls and chats tiles on the overview.

The workspace is made by hand (UTC; schedule Mon-Fri 09:00-17:00 UTC), every number below
worked out from this plan (week of Monday 2 March 2026):

    ticket  channel created         first reply       FRT (calendar)   FRT (business)  solved         resolution  CSAT
    A       email   Mon 09:00       Mon 09:30         30m     <= 1h    30m    <= 1h    Mon 10:00      1h  <= 1h   5
    B       email   Mon 10:00       Mon 11:00         1h      <= 1h    1h     <= 1h    Mon 20:00      10h 8-24h   4
    C       email   Mon 10:00       Mon 11:00:01      1h 1s   1-8h     1h 1s  1-8h     Tue 10:00      24h 8-24h   2
    D       email   Mon 09:00       Mon 17:00         8h      1-8h     8h     1-8h     Mon 17:00      8h  1-8h    5
    E       chat    Mon 16:00       Tue 10:00         18h     8-24h    2h     1-8h     Wed 16:00      48h > 24h   1
    F       chat    Mon 12:00       Tue 12:00         24h     8-24h    8h     1-8h     Tue 12:00      24h 8-24h   3
    G       chat    Fri 16:00       Mon 9 Mar 09:30   65h 30m > 24h    1h 30m 1-8h     Mon 9 10:00    66h > 24h   5
    H       chat    Sat 10:00       Sat 10:20         20m     <= 1h    0      <= 1h    Sat 10:20      20m <= 1h   4
    I       email   Tue 08:00       (none)            not counted                      (open)
    S       email   Mon 09:00       Mon 09:10         spam: excluded from everything                               1

Buckets include their upper edge: exactly 1 h (B) is "<= 1h", exactly 8 h (D) "1-8h",
exactly 24 h (F) "8-24h". NPS answers (0-10): 0, 6, 6 (detractors), 7, 8 (passives), 9, 10,
10, 10 (promoters): NPS = (4 - 3) / 9 = +11; S's answer (a 10) is left out with its ticket.
"""

from __future__ import annotations

import shutil
import time
import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import cxmetrics
from cxmetrics.errors import UserError
from cxmetrics.web._data import overview
from cxmetrics.web._distributions import distributions, parse_edges
from cxmetrics.web._filters import Filters
from cxmetrics.web._tickets import extra_where, tickets
from web._web_helpers import SCREENSHOTS

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TICKETS = """ticket_id,created_at,channel,priority,status,requester_id,assignee_id,team,first_reply_at,solved_at,csat
A,2026-03-02T09:00:00Z,email,normal,solved,C1,A1,Billing,2026-03-02T09:30:00Z,2026-03-02T10:00:00Z,5
B,2026-03-02T10:00:00Z,email,normal,solved,C2,A1,Billing,2026-03-02T11:00:00Z,2026-03-02T20:00:00Z,4
C,2026-03-02T10:00:00Z,email,normal,solved,C3,A1,Billing,2026-03-02T11:00:01Z,2026-03-03T10:00:00Z,2
D,2026-03-02T09:00:00Z,email,normal,solved,C4,A2,Tier 1,2026-03-02T17:00:00Z,2026-03-02T17:00:00Z,5
E,2026-03-02T16:00:00Z,chat,normal,solved,C5,A2,Tier 1,2026-03-03T10:00:00Z,2026-03-04T16:00:00Z,1
F,2026-03-02T12:00:00Z,chat,normal,solved,C6,A2,Tier 1,2026-03-03T12:00:00Z,2026-03-03T12:00:00Z,3
G,2026-03-06T16:00:00Z,chat,normal,solved,C7,A2,Tier 1,2026-03-09T09:30:00Z,2026-03-09T10:00:00Z,5
H,2026-03-07T10:00:00Z,chat,normal,solved,C8,A1,Billing,2026-03-07T10:20:00Z,2026-03-07T10:20:00Z,4
I,2026-03-03T08:00:00Z,email,normal,open,C9,A1,Billing,,,
S,2026-03-02T09:00:00Z,email,normal,spam,C10,A1,Billing,2026-03-02T09:10:00Z,2026-03-02T09:20:00Z,1
"""
NPS = """response_id,ticket_id,kind,score,responded_at
N1,A,nps,0,2026-03-05T12:00:00Z
N2,B,nps,6,2026-03-05T12:00:00Z
N3,C,nps,6,2026-03-05T12:00:00Z
N4,D,nps,7,2026-03-05T12:00:00Z
N5,E,nps,8,2026-03-05T12:00:00Z
N6,F,nps,9,2026-03-05T12:00:00Z
N7,G,nps,10,2026-03-10T12:00:00Z
N8,H,nps,10,2026-03-10T12:00:00Z
N9,I,nps,10,2026-03-10T12:00:00Z
N10,S,nps,10,2026-03-05T12:00:00Z
"""
SCHEDULES = """[schedules.office]
timezone = "UTC"
hours = { mon-fri = "09:00-17:00" }
"""
VIEW = {"from": ["2026-03-02"], "to": ["2026-03-16"]}


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> Iterator[cxmetrics.Workspace]:
    tmp = tmp_path_factory.mktemp("dist-hand")
    (tmp / "t.csv").write_text(TICKETS, encoding="utf-8")
    (tmp / "n.csv").write_text(NPS, encoding="utf-8")
    with cxmetrics.open(tmp / "ws", create=True) as ws:
        (tmp / "ws" / "schedules.toml").write_text(SCHEDULES, encoding="utf-8")
        ws.import_file("tickets", tmp / "t.csv")
        ws.import_file("surveys", tmp / "n.csv")
        ws.refresh()
        yield ws


def view(**extra: list[str]) -> Filters:
    return Filters.parse({**VIEW, **extra}, anchor=date(2026, 3, 16))


def counts(table: dict[str, Any], group: str | None = None) -> list[int]:
    row = table["rows"][0] if group is None else next(r for r in table["rows"] if r["group"] == group)
    return [c["n"] for c in row["cells"]]


def listed(ws: cxmetrics.Workspace, href: str) -> tuple[int, set[str]]:
    """What the tickets page shows behind a link: its total and the ids on its first page."""
    params = {k: v for k, v in parse_qs(urlsplit(href).query).items()}
    f = Filters.parse(params, anchor=date(2026, 3, 16))
    data = tickets(ws, f, params["metric"][-1], extra_where(params), page_size=500)
    return data["total"], {r["ticket_id"] for r in data["rows"]}


def n_of(ws: cxmetrics.Workspace, metric: str, **where: str) -> int:
    return ws.metrics([metric], where=where, start="2026-03-02", end="2026-03-16").to_pylist()[0]["n"]


# -- durations -------------------------------------------------------------------------


def test_first_response_buckets_by_hand_with_their_edges(hand: cxmetrics.Workspace) -> None:
    d = distributions(hand, view())
    frt = d["durations"][0]
    assert frt["metric"] == "frt" and frt["buckets"] == ["≤ 1h", "1h – 8h", "8h – 1d", "> 1d"]
    assert counts(frt) == [3, 2, 2, 1]
    # the total is the metric's n (I is unanswered, S is spam: neither counts)
    assert frt["rows"][0]["total"] == 8 == n_of(hand, "frt")
    # each bucket opens exactly its tickets: exactly 1 h (B) is in "<= 1h", 1 h 1 s (C) is not
    expected = [{"A", "B", "H"}, {"C", "D"}, {"E", "F"}, {"G"}]
    for cell, ids in zip(frt["rows"][0]["cells"], expected, strict=True):
        assert listed(hand, cell["href"]) == (len(ids), ids)
    assert [c["share_text"] for c in frt["rows"][0]["cells"]] == ["37.5%", "25.0%", "25.0%", "12.5%"]


def test_resolution_buckets_by_hand(hand: cxmetrics.Workspace) -> None:
    res = distributions(hand, view())["durations"][1]
    assert res["metric"] == "full_resolution_time"
    assert counts(res) == [2, 1, 3, 2]  # A H | D | B C F (F exactly 24 h) | E G
    assert res["rows"][0]["total"] == 8 == n_of(hand, "full_resolution_time")
    expected = [{"A", "H"}, {"D"}, {"B", "C", "F"}, {"E", "G"}]
    for cell, ids in zip(res["rows"][0]["cells"], expected, strict=True):
        assert listed(hand, cell["href"]) == (len(ids), ids)


def test_business_hours_use_the_schedule(hand: cxmetrics.Workspace) -> None:
    d = distributions(hand, view(), hours="business")
    frt = d["durations"][0]
    assert frt["metric"] == "frt_bh"
    # E (Mon 16:00 -> Tue 10:00) is 2 business hours, F 8, G (Fri 16:00 -> Mon 09:30) 1 h 30 m
    assert counts(frt) == [3, 5, 0, 0]
    assert frt["rows"][0]["total"] == 8 == n_of(hand, "frt_bh")
    assert listed(hand, frt["rows"][0]["cells"][1]["href"]) == (5, {"C", "D", "E", "F", "G"})


def test_edges_in_the_address(hand: cxmetrics.Workspace) -> None:
    frt = distributions(hand, view(), edges=parse_edges("30m,1d"))["durations"][0]
    assert frt["buckets"] == ["≤ 30m", "30m – 1d", "> 1d"]
    assert counts(frt) == [2, 5, 1]  # A (exactly 30 m) and H | B C D E F (exactly 1 d) | G
    assert listed(hand, frt["rows"][0]["cells"][0]["href"]) == (2, {"A", "H"})


def test_split_by_channel(hand: cxmetrics.Workspace) -> None:
    frt = distributions(hand, view(), by="channel")["durations"][0]
    assert [r["group"] for r in frt["rows"]] == ["All", "chat", "email"]  # 4 each: by name
    assert counts(frt, "email") == [2, 2, 0, 0] and counts(frt, "chat") == [1, 0, 2, 1]
    assert counts(frt, "All") == [3, 2, 2, 1]
    assert [r["total"] for r in frt["rows"]] == [8, n_of(hand, "frt", channel="chat"), n_of(hand, "frt", channel="email")]
    assert listed(hand, frt["rows"][0]["cells"][3]["href"]) == (1, {"G"})  # All: no channel filter
    chat = next(r for r in frt["rows"] if r["group"] == "chat")
    assert listed(hand, chat["cells"][2]["href"]) == (2, {"E", "F"})
    # the page's own filters hold too: email only
    email = distributions(hand, view(channel=["email"]))["durations"][0]
    assert counts(email) == [2, 2, 0, 0]


@pytest.mark.parametrize(("text", "fix"), [
    ("1h,30m", "'30m' is not after 1h"), ("0,1h", "'0' is not a duration of more than 0"),
    ("soon", "'soon' is not a duration"), ("1h,,2h", "'' is not a duration"),
])
def test_bad_edges_name_the_fix(text: str, fix: str) -> None:
    with pytest.raises(UserError) as err:
        parse_edges(text)
    assert fix in str(err.value) and "edges=1h,8h,1d" in str(err.value)


# -- scores ----------------------------------------------------------------------------


def test_csat_and_nps_scores_by_hand(hand: cxmetrics.Workspace) -> None:
    d = distributions(hand, view())
    csat, nps = d["scores"]
    (table,) = csat["tables"]
    assert table["scale"] == "1-5" and table["columns"] == ["1", "2", "3", "4", "5"]
    assert counts(table) == [1, 1, 1, 2, 3]  # S's 1 is spam: left out
    assert table["total"] == 8 == n_of(hand, "csat")
    assert listed(hand, table["rows"][0]["cells"][4]["href"]) == (3, {"A", "D", "G"})
    (table,) = nps["tables"]
    assert table["columns"] == [str(s) for s in range(11)]
    assert counts(table) == [1, 0, 0, 0, 0, 0, 2, 1, 1, 1, 3]
    row = table["rows"][0]
    assert [(s["label"], s["n"]) for s in row["sides"]] == [("Detractors", 3), ("Passives", 2), ("Promoters", 4)]
    assert row["nps_text"] == "+11" and row["total"] == 9 == n_of(hand, "nps")
    assert listed(hand, row["sides"][0]["href"]) == (3, {"A", "B", "C"})
    assert listed(hand, row["sides"][2]["href"]) == (4, {"F", "G", "H", "I"})
    assert listed(hand, row["cells"][10]["href"]) == (3, {"G", "H", "I"})


def test_scores_per_team(hand: cxmetrics.Workspace) -> None:
    csat = distributions(hand, view(), by="team")["scores"][0]["tables"][0]
    # Billing: A 5, B 4, C 2, H 4; Tier 1: D 5, E 1, F 3, G 5
    assert counts(csat, "Billing") == [0, 1, 0, 2, 1] and counts(csat, "Tier 1") == [1, 0, 1, 0, 2]
    billing = next(r for r in csat["rows"] if r["group"] == "Billing")
    assert listed(hand, billing["cells"][3]["href"]) == (2, {"B", "H"})


# -- the page over HTTP ----------------------------------------------------------------


@pytest.fixture(scope="module")
def client(hand: cxmetrics.Workspace, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from cxmetrics.api import create_app
    from cxmetrics.api.auth import create_key

    path = tmp_path_factory.mktemp("dist-http") / "ws"
    shutil.copytree(hand.path, path)
    app = create_app(path, watch_alerts=False)
    _, key = create_key(app.state.workspace, "dist viewer", "viewer")
    with TestClient(app) as c:
        assert c.post("/login", data={"key": key, "next": "/"}, follow_redirects=False).status_code == 303
        c.key = key  # type: ignore[attr-defined]
        yield c


def test_the_page_and_its_errors(client: TestClient) -> None:
    r = client.get("/distributions?from=2026-03-02&to=2026-03-16&edges=1h,30m")
    assert r.status_code == 400 and "edges: &#39;30m&#39; is not after 1h" in r.text
    r = client.get("/distributions?from=2026-03-02&to=2026-03-16&by=planet")
    assert r.status_code == 400 and "by &#39;planet&#39; is not a split" in r.text
    r = client.get("/distributions?from=2026-03-02&to=2026-03-16&hours=business")
    assert r.status_code == 200 and "(business hours)" in r.text
    assert 'data-bucket="1h – 8h" data-n="5"' in r.text
    # in the left bar, after Trends
    nav = r.text[r.text.index('class="nav"'):]
    assert nav.index('href="/trends') < nav.index('href="/distributions') < nav.index('href="/channels')
    # a bucket's link opens the tickets page with its count
    page = client.get("/tickets?metric=frt&from=2026-03-02&to=2026-03-16&value_gt=3600&value_le=28800")
    assert page.status_code == 200 and "2 tickets behind First response time" in page.text


def test_value_filters_over_the_api(client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {client.key}"}  # type: ignore[attr-defined]
    base = "/api/v1/tickets?metric=nps&from=2026-03-02&to=2026-03-16"
    r = client.get(base + "&where=score:9&where=score:10", headers=auth)
    assert r.status_code == 200 and r.json()["total"] == 4
    assert {row["ticket_id"] for row in r.json()["rows"]} == {"F", "G", "H", "I"}
    r = client.get("/api/v1/tickets?metric=frt&from=2026-03-02&to=2026-03-16&where=value_gt:3600", headers=auth)
    assert r.json()["total"] == 5
    r = client.get(base + "&where=value_gt:soon", headers=auth)
    assert r.status_code == 400 and "value_gt takes a number" in r.json()["error"]["message"]


def test_value_filters_refuse_what_they_cannot_filter(hand: cxmetrics.Workspace) -> None:
    from cxmetrics.api._drill import count_behind

    with pytest.raises(UserError, match="value_gt filters a metric's value: csat is a proportion"):
        count_behind(hand, "csat", {"value_gt": "3"})
    with pytest.raises(UserError, match="score filters survey answers: frt's rows"):
        count_behind(hand, "frt", {"score": "5"})
    with pytest.raises(UserError, match="value_le takes a number"):
        count_behind(hand, "frt", {"value_le": "1h"})
    assert count_behind(hand, "frt", {"value_le": "3600"}, "2026-03-02", "2026-03-16") == 3


# -- calls and chats on the overview ---------------------------------------------------

CALL_METRICS = {"aht": "aht", "asa": "asa", "service_level": "service_level", "abandonment": "abandonment_rate"}


def test_overview_without_calls_or_chats_is_unchanged(hand: cxmetrics.Workspace, tmp_path: Path) -> None:
    # the hand-made workspace has chats (E-H): its overview has the tiles and tabs
    d = overview(hand, view())
    assert set(CALL_METRICS) <= {t["key"] for t in d["tiles"]}
    assert [t["label"] for t in d["channel_tabs"]] == ["All", "Email", "Chat"]  # 5 email tickets, 4 chats (S is spam)
    # its email tickets alone have neither calls nor chats: the overview of before
    (tmp_path / "t.csv").write_text("".join(line + "\n" for line in TICKETS.splitlines() if ",chat," not in line))
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        ws.import_file("tickets", tmp_path / "t.csv")
        ws.refresh()
        d = overview(ws, view())
    assert [t["key"] for t in d["tiles"]] == ["csat", "nps", "ces", "frt", "resolution", "fcr", "sla", "volume",
                                               "backlog", "bot", "cost"]
    assert d["channel_tabs"] == []


def test_calls_tiles_equal_the_library(demo_ws: cxmetrics.Workspace) -> None:
    from cxmetrics.web._data import anchor_day

    f = Filters.parse({"period": ["90d"]}, anchor=anchor_day(demo_ws))
    d = overview(demo_ws, f)
    tiles = {t["key"]: t for t in d["tiles"]}
    lib = {r["metric"]: r for r in demo_ws.metrics(list(CALL_METRICS.values()), start=f.start, end=f.end).to_pylist()}
    for key, metric in CALL_METRICS.items():
        t, r = tiles[key], lib[metric]
        assert r["n"] > 30, metric  # the demo has calls and chats in the period
        assert (t["metric"], t["n"]) == (metric, r["n"])
        assert t["value"] == pytest.approx(r["value"])
        assert t["ci_text"] and t["change"] is not None
    # the calls tiles come after the others, in this order
    keys = [t["key"] for t in d["tiles"]]
    assert keys[-4:] == list(CALL_METRICS)
    # the channel tab filters the whole overview: phone's AHT is the library's for channel=phone
    tabs = {t["label"]: t for t in d["channel_tabs"]}
    assert list(tabs)[0] == "All" and tabs["All"]["active"] and {"Email", "Chat", "Phone"} <= set(tabs)
    params = parse_qs(urlsplit(tabs["Phone"]["href"]).query)
    assert params["channel"] == ["phone"] and params["period"] == ["90d"]
    phone = Filters.parse(params, anchor=anchor_day(demo_ws))
    d = overview(demo_ws, phone)
    tiles = {t["key"]: t for t in d["tiles"]}
    r = demo_ws.metrics(["aht"], where={"channel": "phone"}, start=f.start, end=f.end).to_pylist()[0]
    assert (tiles["aht"]["n"], tiles["aht"]["value"]) == (r["n"], pytest.approx(r["value"]))
    assert tiles["volume"]["value"] == demo_ws.metrics(["tickets"], where={"channel": "phone"}, start=f.start,
                                                       end=f.end).to_pylist()[0]["value"]
    assert [t["label"] for t in d["channel_tabs"] if t["active"]] == ["Phone"]


# -- in the browser, on the demo server ------------------------------------------------


def test_distributions_in_the_browser(page: Any, server: Any) -> None:
    import re

    page.goto(server.url + "/distributions?period=90d")
    page.wait_for_selector("#live.on")
    assert page.locator("a.nav-link.active").inner_text().strip() == "Distributions"
    # the first response table's "1h – 8h" bucket: its count is the number of tickets it opens
    cell = page.locator('#table-frt tbody tr').first.locator('td[data-bucket="1h – 8h"]')
    n = int(cell.get_attribute("data-n"))
    assert n > 0
    for width, height in ((1440, 900), (1280, 720)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(200)
        page.screenshot(path=str(SCREENSHOTS / f"distributions-{width}.png"), full_page=True)
    # split by channel through the page's control: 'All' first, then the channels, adding up to it
    page.select_option("#d-by", "channel")
    page.wait_for_url(re.compile(r".*/distributions\?.*by=channel"))
    rows = page.locator("#table-frt tbody tr")
    assert rows.first.get_attribute("data-group") == "All" and rows.count() > 3
    per_row = [int(rows.nth(i).locator('td[data-bucket="1h – 8h"]').get_attribute("data-n")) for i in range(rows.count())]
    assert per_row[0] == n == sum(per_row[1:])
    page.screenshot(path=str(SCREENSHOTS / "distributions-by-channel-1280.png"), full_page=True)
    page.go_back()
    page.wait_for_selector("#table-frt")
    cell = page.locator('#table-frt tbody tr').first.locator('td[data-bucket="1h – 8h"]')
    cell.locator("a").click()
    page.wait_for_url(re.compile(r".*/tickets\?metric=frt&.*value_gt=3600&value_le=28800"))
    assert page.locator("#tickets-title").inner_text().startswith(f"{n:,} tickets behind First response time")
    assert "Value over: 1h 00m" in page.locator(".card-head p").first.inner_text()
    # the overview has the calls and chats tiles and the channel tabs (the demo has calls)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(server.url + "/?period=90d")
    page.wait_for_selector("#tile-aht")
    assert page.locator("#channel-tabs a").first.inner_text() == "All"
    page.locator('#channel-tabs a[data-channel="phone"]').click()
    page.wait_for_url(re.compile(r".*/\?period=90d&channel=phone"))
    page.wait_for_selector("#live.on")
    page.screenshot(path=str(SCREENSHOTS / "overview-calls-1440.png"), full_page=True)
    assert page.locator('#channel-tabs a[aria-current="page"]').inner_text() == "Phone"
    assert page.console.errors == [], page.console.errors
