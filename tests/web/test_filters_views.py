"""Issue 11, items 7 and 8 (first half): the filters people expect and saved views.

- multi-select on every dimension (`?channel=email&channel=chat` is email OR chat), and the
  workspace's other dimensions (topic, product, region...) in the filter bar;
- the business-hours toggle (`?hours=business`): every duration read as its `_bh` twin;
- previous-period and same-period-last-year overlays on Trends;
- saved views: save, list, open by /v/NAME, rename, delete, names checked, sign-in and
  same-origin required.
"""

from __future__ import annotations

import html
import re
import shutil
import warnings
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from web._web_helpers import SCREENSHOTS, Server

import cxmetrics
from cxmetrics.api import create_app
from cxmetrics.api.auth import create_key
from cxmetrics.web import _data, _trends
from cxmetrics.web import _format as fmt
from cxmetrics.web._filters import FilterError, Filters

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ORIGIN = {"origin": "http://testserver"}  # what a browser sends with a form posted from our own page


def _tile(page_html: str, key: str) -> str:
    """The value shown in an overview tile of a rendered page."""
    block = page_html.split(f'id="tile-{key}"', 1)[1]
    return html.unescape(re.search(r'class="tile-value[^"]*"[^>]*>\s*([^<]+?)\s*<', block).group(1))


@pytest.fixture(scope="module")
def app(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str, str, Path]]:
    path = tmp_path_factory.mktemp("web-filters") / "ws"
    shutil.copytree(demo_path, path)
    application = create_app(path, watch_alerts=False)
    _, admin = create_key(application.state.workspace, "filters admin", "admin")
    _, viewer = create_key(application.state.workspace, "filters viewer", "viewer")
    with TestClient(application) as client:
        yield client, admin, viewer, path


def _sign_in(client: TestClient, key: str) -> TestClient:
    client.cookies.clear()
    r = client.post("/login", data={"key": key, "next": "/"}, follow_redirects=False)
    assert r.status_code == 303
    return client


# -- multi-select ----------------------------------------------------------------------


def test_two_channels_are_either_channel(demo_ws: cxmetrics.Workspace) -> None:
    f = Filters.parse({"period": ["90d"], "channel": ["email", "chat"]}, anchor=_data.anchor_day(demo_ws))
    tiles = {t["key"]: t for t in _data.overview(demo_ws, f)["tiles"]}
    both = demo_ws.metrics(["tickets"], where={"channel": ["email", "chat"]}, start=f.start, end=f.end).to_pylist()
    one = [demo_ws.metrics(["tickets"], where={"channel": c}, start=f.start, end=f.end).to_pylist()[0]["value"]
           for c in ("email", "chat")]
    # a hand count in SQL too (the demo workspace is in UTC)
    hand = demo_ws.sql("SELECT count(*) AS n FROM ticket_facts WHERE NOT excluded AND channel IN ('email', 'chat') "
                       "AND created_at >= CAST(? AS TIMESTAMPTZ) AND created_at < CAST(? AS TIMESTAMPTZ)",
                       [f.start.isoformat(), f.end.isoformat()]).to_pylist()[0]["n"]
    assert tiles["volume"]["value"] == both[0]["value"] == sum(one) == hand > max(one)


def test_the_page_shows_and_keeps_several_values(app: Any, demo_ws: cxmetrics.Workspace) -> None:
    client, _, viewer, _ = app
    _sign_in(client, viewer)
    r = client.get("/?period=90d&channel=email&channel=chat")
    assert r.status_code == 200
    page = r.text
    # both values ticked in the channel multi-select, the others not
    assert re.search(r'name="channel" value="email" checked', page)
    assert re.search(r'name="channel" value="chat" checked', page)
    assert not re.search(r'name="channel" value="phone" checked', page)
    f = Filters.parse({"period": ["90d"]}, anchor=_data.anchor_day(demo_ws))
    ref = demo_ws.metrics(["tickets"], where={"channel": ["email", "chat"]}, start=f.start, end=f.end).to_pylist()[0]
    assert _tile(page, "volume") == fmt.value(ref["value"], "count")
    # drill-down links and the nav carry both values
    assert "/tickets?metric=tickets&amp;from=" in page and "channel=email&amp;channel=chat" in page
    assert 'href="/trends?period=90d&amp;channel=email&amp;channel=chat"' in page


def test_the_workspace_s_other_dimensions_are_filters(app: Any, demo_ws: cxmetrics.Workspace) -> None:
    client, _, viewer, _ = app
    _sign_in(client, viewer)
    top = demo_ws.sql("SELECT topic, count(*) AS n FROM ticket_facts WHERE NOT excluded AND topic IS NOT NULL "
                      "GROUP BY ALL ORDER BY n DESC LIMIT 2").to_pylist()
    region = demo_ws.sql("SELECT region FROM ticket_facts WHERE region IS NOT NULL LIMIT 1").to_pylist()[0]["region"]
    r = client.get("/?period=90d")
    for dim in ("topic", "region", "product"):
        assert f'id="f-{dim}"' in r.text, dim  # shown: the demo has values of them
    assert 'id="f-discovered_topic"' not in r.text  # no topics discovered in the demo: not offered
    topics = [t["topic"] for t in top]
    r = client.get("/?period=90d&" + "&".join(f"topic={t}" for t in topics) + f"&region={region}")
    f = Filters.parse({"period": ["90d"]}, anchor=_data.anchor_day(demo_ws))
    ref = demo_ws.metrics(["tickets"], where={"topic": topics, "region": region}, start=f.start,
                          end=f.end).to_pylist()[0]
    assert _tile(r.text, "volume") == fmt.value(ref["value"], "count")
    assert 0 < ref["value"] < demo_ws.metrics(["tickets"], start=f.start, end=f.end).to_pylist()[0]["value"]


def test_tags_are_a_filter_of_every_ticket_metric(app: Any, demo_ws: cxmetrics.Workspace) -> None:
    from cxmetrics.errors import UserError

    f = Filters.parse({"period": ["90d"]}, anchor=_data.anchor_day(demo_ws))
    # by hand: tickets created in the period with the tag vip or refund (stored lower-case)
    hand = demo_ws.sql("SELECT count(*) AS n FROM ticket_facts WHERE NOT excluded "
                       "AND (list_contains(tags, 'vip') OR list_contains(tags, 'refund')) "
                       "AND created_at >= CAST(? AS TIMESTAMPTZ) AND created_at < CAST(? AS TIMESTAMPTZ)",
                       [f.start.isoformat(), f.end.isoformat()]).to_pylist()[0]["n"]
    lib = demo_ws.metrics(["tickets"], where={"tag": ["VIP", "refund"]}, start=f.start, end=f.end).to_pylist()[0]
    assert lib["value"] == hand > 0  # case-blind, either tag
    with pytest.raises(UserError, match="'tag' can be filtered on but not grouped by"):
        demo_ws.metrics(["tickets"], by=["tag"])
    client, _, viewer, _ = app
    _sign_in(client, viewer)
    r = client.get("/?period=90d&tag=vip&tag=refund")
    assert 'id="f-tag"' in r.text and re.search(r'name="tag" value="vip" checked', r.text)
    assert _tile(r.text, "volume") == fmt.value(hand, "count")
    # the tickets behind the number are the same tickets
    r = client.get(f"/tickets?metric=tickets&from={f.start}&to={f.end}&tag=vip&tag=refund")
    assert re.search(r'id="tickets-title"[^>]*>\s*' + re.escape(fmt.count(hand)) + " tickets", r.text)
    # the tags' options come from the data, with their ticket counts
    vip = demo_ws.sql("SELECT count(*) AS n FROM ticket_facts WHERE NOT excluded AND list_contains(tags, 'vip')"
                      ).to_pylist()[0]["n"]
    assert {"value": "vip", "n": vip} in _data.filter_options(demo_ws)["tag"]
    # the API says so too: a filter, not a group; its values are the tags themselves
    dims = {d["name"]: d for d in client.get("/api/v1/dimensions").json()}
    assert (dims["tag"]["filter"], dims["tag"]["group_by"]) == (True, False)
    assert "vip" in client.get("/api/v1/dimensions/tag/values").json()["values"]


def test_a_long_list_is_searchable() -> None:
    from cxmetrics.web._pages import _TEMPLATES  # rendered with the options a big workspace would have

    many = [{"value": f"agent-{i:03d}", "n": 100 - i} for i in range(40)]
    options = {d: [] for d in ("channel", "team", "priority", "tier", "agent_type")} | {"assignee": many}
    out = _render_bar(_TEMPLATES, options)
    box = out.split('id="f-assignee"', 1)[1].split("</details>", 1)[0]
    assert 'class="ms-search"' in box and box.count('type="checkbox"') == 40
    assert 'class="ms-search"' not in out.split('id="f-channel"', 1)[1].split("</details>", 1)[0]


def _render_bar(templates: Any, options: dict[str, list[dict[str, Any]]]) -> str:
    from cxmetrics.web._filters import CORE_DIMENSIONS, DIMENSIONS, HOURS, PRESETS

    f = Filters.parse({}, anchor=date(2026, 3, 1))
    status = {"latest": None, "counts": {}, "empty": True}
    return templates.get_template("trends.html").render(
        page="trends", title="x", f=f, d=None, status=status, options={d: options.get(d, []) for d in DIMENSIONS},
        error=None, principal=type("P", (), {"name": "a", "role": "admin", "key_id": "k"}), nav=(),
        dimensions=DIMENSIONS,
        presets=PRESETS, hidden=[], nav_query="", fmt=fmt, path="/", hours=HOURS, core_dimensions=CORE_DIMENSIONS,
        views=[], query="", fragment=False)


def test_bad_hours_value_is_a_clear_error() -> None:
    with pytest.raises(FilterError, match=r"hours 'office' is not one of calendar, business: use hours=business"):
        Filters.parse({"hours": ["office"]}, anchor=date(2026, 3, 1))


# -- business hours --------------------------------------------------------------------

SCHEDULES = """default = "office"
[schedules.office]
timezone = "UTC"
hours = { mon-fri = "09:00-17:00" }
"""
# Friday 16:00 -> Monday 10:00 is 66 h on the clock and 2 business hours (Fri 16-17, Mon 9-10);
# Monday 10:00 -> 11:00 is 1 h both ways. Medians over the two: 33.5 h and 1.5 h.
BH_CSV = """ticket_id,created_at,channel,priority,status,requester_id,assignee_id,team,first_reply_at,solved_at
B1,2026-03-06T16:00:00Z,email,normal,solved,C1,A1,Billing,2026-03-09T10:00:00Z,2026-03-09T12:00:00Z
B2,2026-03-09T10:00:00Z,email,normal,solved,C2,A1,Billing,2026-03-09T11:00:00Z,2026-03-09T12:00:00Z
"""


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    root = tmp_path_factory.mktemp("web-bh")
    path = root / "ws"
    path.mkdir()
    (path / "schedules.toml").write_text(SCHEDULES, encoding="utf-8")
    (root / "t.csv").write_text(BH_CSV, encoding="utf-8")
    with cxmetrics.open(path, create=True) as ws:
        ws.import_file("tickets", root / "t.csv")
        ws.refresh()
    application = create_app(path, watch_alerts=False)
    _, admin = create_key(application.state.workspace, "bh admin", "admin")
    with TestClient(application) as client:
        _sign_in(client, admin)
        yield client, path


def test_business_hours_toggle_reads_every_duration_in_business_time(office: Any) -> None:
    from cxmetrics.web._filters import for_view

    client, path = office
    view = "from=2026-03-01&to=2026-03-15&metric=frt&grain=week"
    calendar, business = client.get(f"/trends?{view}"), client.get(f"/trends?{view}&hours=business")
    assert calendar.status_code == business.status_code == 200
    # the week of 2 March holds B1 (created Friday 6 March); the week of 9 March B2
    assert html.escape(fmt.value(66 * 3600, "seconds")) in calendar.text
    assert html.escape(fmt.value(2 * 3600, "seconds")) in business.text
    assert html.escape(fmt.value(66 * 3600, "seconds")) not in business.text
    assert 'id="hours-badge"' in business.text and 'id="hours-badge"' not in calendar.text
    assert '<option value="business" selected>' in business.text
    # the overview's first-response figure over both tickets: medians 33.5 h and 1.5 h (a
    # difference of 32 h, which the page data carries whatever the tile hides below n = 30)
    with cxmetrics.open(path, read_only=True) as ws:
        f_cal = Filters.parse({"from": ["2026-03-01"], "to": ["2026-03-15"]}, anchor=date(2026, 3, 15))
        f_bh = Filters.parse({"from": ["2026-03-01"], "to": ["2026-03-15"], "hours": ["business"]},
                             anchor=date(2026, 3, 15))
        cal = {t["key"]: t for t in _data.overview(for_view(ws, f_cal), f_cal)["tiles"]}
        bh = {t["key"]: t for t in _data.overview(for_view(ws, f_bh), f_bh)["tiles"]}
    assert cal["frt"]["value"] == pytest.approx(33.5 * 3600)
    assert bh["frt"]["value"] == pytest.approx(1.5 * 3600)
    assert cal["volume"]["value"] == bh["volume"]["value"] == 2  # counts have no clock
    # the drill-down keeps the toggle
    assert bh["frt"]["href"].startswith("/tickets?metric=frt_bh&") and "hours=business" in bh["frt"]["href"]
    assert cal["frt"]["href"].startswith("/tickets?metric=frt&") and "hours" not in cal["frt"]["href"]


# -- overlays --------------------------------------------------------------------------


def test_overlays_are_the_metric_over_the_shifted_periods(demo_ws: cxmetrics.Workspace) -> None:
    anchor = _data.anchor_day(demo_ws)
    f = Filters.parse({"period": ["90d"]}, anchor=anchor)
    d = _trends.trends(demo_ws, f, "tickets", None, "week", ("previous", "year"))
    prev, year = d["overlays"]
    assert (prev["start"], prev["end"]) == ((f.start - timedelta(days=90)).isoformat(), f.start.isoformat())
    ref = demo_ws.metrics(["tickets"], grain="week", start=f.start - timedelta(days=90), end=f.start).to_pylist()
    got = prev["series"]["all"]
    assert [(p["period"][:10], p["value"]) for p in got] == sorted((str(r["period"])[:10], r["value"]) for r in ref)
    assert len(got) >= 12 and all(p["value"] > 0 for p in got)
    # drawn 90 days later, on the view's own dates
    assert [p["x"] for p in got] == [(date.fromisoformat(p["period"][:10]) + timedelta(days=90)).isoformat()
                                     for p in got]
    last_year = (date(f.start.year - 1, f.start.month, f.start.day), date(f.end.year - 1, f.end.month, f.end.day))
    assert (year["start"], year["end"]) == tuple(x.isoformat() for x in last_year)
    ref_y = demo_ws.metrics(["tickets"], grain="week", start=last_year[0], end=last_year[1]).to_pylist()
    by_period = sorted(ref_y, key=lambda r: str(r["period"]))
    assert [p["value"] for p in year["series"]["all"]] == [r["value"] for r in by_period]
    # a dashed trace per overlay with data, beside the line
    dashed = [t for t in d["figure"]["data"] if t.get("line", {}).get("dash") in ("longdash", "dot")]
    assert [t["name"] for t in dashed] == ["Tickets · previous period"] + (
        ["Tickets · same period last year"] if ref_y else [])
    # the demo spans November 2025 - October 2026: November 2026 against November 2025
    g = Filters.parse({"from": ["2026-11-01"], "to": ["2026-12-01"]}, anchor=anchor)
    year = _trends.trends(demo_ws, g, "tickets", None, "day", ("year",))["overlays"][0]
    ref = demo_ws.metrics(["tickets"], grain="day", start="2025-11-01", end="2025-12-01").to_pylist()
    got = year["series"]["all"]
    assert len(got) == 30 and [(p["period"][:10], p["value"]) for p in got] == sorted(
        (str(r["period"])[:10], r["value"]) for r in ref)
    assert (got[0]["x"], got[-1]["x"]) == ("2026-11-01", "2026-11-30")


def test_overlay_names_are_checked(app: Any) -> None:
    client, _, viewer, _ = app
    _sign_in(client, viewer)
    r = client.get("/trends?overlay=lastweek")
    assert r.status_code == 400
    assert "overlay &#39;lastweek&#39; is not one of previous, year" in r.text


# -- saved views -----------------------------------------------------------------------


def test_save_list_open_rename_and_delete_a_view(app: Any) -> None:
    client, admin, _, path = app
    _sign_in(client, admin)
    r = client.post("/views", data={"name": "Email and chat", "path": "/trends",
                                    "query": "period=90d&channel=email&channel=chat&metric=frt&overlay=previous"},
                    headers=ORIGIN, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/trends?period=90d&channel=email&channel=chat&metric=frt&overlay=previous"
    assert 'name = "Email and chat"' not in (path / "views.toml").read_text()  # a table per view, named by its key
    assert '[views."Email and chat"]' in (path / "views.toml").read_text()
    # listed in every page's menu, on the Saved views page and by the API
    assert 'href="/v/Email%20and%20chat"' in client.get("/?period=7d").text
    assert "Email and chat" in client.get("/views").text
    api = client.get("/api/v1/views").json()["views"]
    assert [(v["name"], v["path"], v["link"]) for v in api] == [("Email and chat", "/trends", "/v/Email%20and%20chat")]
    # the link opens the page with its filters (names compare case-blind)
    r = client.get("/v/email%20AND%20chat", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == api[0]["href"]
    # renamed, then deleted
    r = client.post("/views/Email%20and%20chat/rename", data={"new_name": "Email + chat"}, headers=ORIGIN,
                    follow_redirects=False)
    assert r.status_code == 400 and "characters a name cannot hold" in r.text  # '+' is not allowed
    r = client.post("/views/Email%20and%20chat/rename", data={"new_name": "Email & chat"}, headers=ORIGIN,
                    follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/v/Email%20%26%20chat", follow_redirects=False).headers["location"] == api[0]["href"]
    assert client.get("/v/Email%20and%20chat", follow_redirects=False).status_code == 404
    r = client.post("/views/Email%20%26%20chat/delete", headers=ORIGIN, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/api/v1/views").json() == {"views": []}
    r = client.get("/v/Email%20%26%20chat", follow_redirects=False)
    assert r.status_code == 404 and "no saved view is named" in r.text


@pytest.mark.parametrize(("name", "path", "message"), [
    ("", "/", "give the view a name"),
    ("x" * 61, "/", "is 61 characters long: use at most 60"),
    ("<script>", "/", "characters a name cannot hold"),
    ("../etc", "/", "characters a name cannot hold"),
    ("Fine name", "https://evil.example/", "is not a dashboard page"),
    ("Fine name", "/views", "is not a dashboard page"),
    ("Fine name", "/agents//evil.example", "is not a dashboard page"),
    ("Fine name", "/teams/", "is not a dashboard page"),
])
def test_bad_views_are_refused_with_the_fix(app: Any, name: str, path: str, message: str) -> None:
    client, admin, _, ws_path = app
    _sign_in(client, admin)
    r = client.post("/views", data={"name": name, "path": path, "query": "period=7d"}, headers=ORIGIN,
                    follow_redirects=False)
    assert r.status_code == 400
    assert message in html.unescape(r.text)
    assert not (ws_path / "views.toml").exists() or "Fine name" not in (ws_path / "views.toml").read_text()


def test_saving_needs_a_session_from_our_own_pages(app: Any) -> None:
    client, admin, viewer, path = app
    client.cookies.clear()
    form = {"name": "Sneaky", "path": "/", "query": "channel=email"}
    r = client.post("/views", data=form, headers=ORIGIN, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    _sign_in(client, admin)
    for headers in ({"origin": "https://evil.example"}, {}):  # another site's form; no Origin at all
        r = client.post("/views", data=form, headers=headers, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), headers
    assert client.get("/api/v1/views").json() == {"views": []}
    client.cookies.clear()
    assert client.get("/v/Sneaky", follow_redirects=False).headers["location"].startswith("/login?next=")
    assert client.get("/api/v1/views").status_code == 401
    # a viewer may save a view, but not delete an admin's
    _sign_in(client, admin)
    assert client.post("/views", data={**form, "name": "Admin's"}, headers=ORIGIN,
                       follow_redirects=False).status_code == 400  # an apostrophe is not allowed
    assert client.post("/views", data={**form, "name": "Admin view"}, headers=ORIGIN,
                       follow_redirects=False).status_code == 303
    _sign_in(client, viewer)
    assert client.post("/views", data={**form, "name": "Mine"}, headers=ORIGIN,
                       follow_redirects=False).status_code == 303
    r = client.post("/views/Admin%20view/delete", headers=ORIGIN, follow_redirects=False)
    assert r.status_code == 403 and "only its author or an admin" in html.unescape(r.text)
    assert client.post("/views/Mine/delete", headers=ORIGIN, follow_redirects=False).status_code == 303
    _sign_in(client, admin)
    assert client.post("/views/Admin%20view/delete", headers=ORIGIN, follow_redirects=False).status_code == 303


# -- in the browser --------------------------------------------------------------------


def test_filters_in_the_browser(page: Any, server: Server) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(server.url + "/?period=90d")
    page.click("#f-channel > summary")
    page.check("#f-channel input[value=email]")
    page.check("#f-channel input[value=chat]")
    page.screenshot(path=str(SCREENSHOTS / "filters-1440.png"))
    page.click("#f-channel .ms-apply")
    page.wait_for_url(re.compile(r".*channel=email&channel=chat"))
    start, end = page.input_value("#f-from"), page.input_value("#f-to")
    with server.cursor() as ws:
        ref = ws.metrics(["tickets", "frt_bh"], where={"channel": ["email", "chat"]}, start=start,
                         end=end).to_pylist()
    values = {r["metric"]: r for r in ref}
    assert page.inner_text("#tile-volume .tile-value").strip() == fmt.value(values["tickets"]["value"], "count")
    assert page.inner_text("#f-channel > summary").strip() == "email, chat"
    # business hours: the first response tile is the business-hours twin, and the page says so
    page.select_option("#f-hours", "business")
    page.wait_for_url(re.compile(r".*channel=email&channel=chat&hours=business"))
    assert page.is_visible("#hours-badge")
    assert page.inner_text("#tile-frt .tile-value").strip() == fmt.value(values["frt_bh"]["value"], "seconds")
    # save the view, then open it by its link
    shown = page.url
    page.click("#views-menu > summary")
    page.fill("#view-name", "Email and chat, business hours")
    page.click("#save-view button[type=submit]")
    page.wait_for_load_state()
    page.goto(server.url + "/channels")
    page.click("#views-menu > summary")
    link = page.get_attribute("#views-menu a[href^='/v/']", "href")
    assert link == "/v/Email%20and%20chat%2C%20business%20hours"
    page.goto(server.url + link)
    assert page.url == shown
    assert page.inner_text("#tile-volume .tile-value").strip() == fmt.value(values["tickets"]["value"], "count")
    page.set_viewport_size({"width": 1280, "height": 720})
    page.click("#views-menu > summary")
    page.screenshot(path=str(SCREENSHOTS / "filters-1280.png"))
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(server.url + "/views")
    assert page.inner_text("#views-table tbody tr td:first-child a") == "Email and chat, business hours"
    page.screenshot(path=str(SCREENSHOTS / "views-1440.png"))
    page.click("#views-table button[data-view='Email and chat, business hours']")  # delete it: the server is shared
    page.wait_for_url(server.url + "/views")
    assert page.locator("#views-table").count() == 0
    assert page.console.errors == []


def test_trend_overlays_in_the_browser(page: Any, server: Server) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(server.url + "/trends?period=90d&metric=tickets&grain=week")
    page.check("#t-overlay-previous")
    page.wait_for_url(re.compile(r".*overlay=previous"))
    page.wait_for_selector("#trend-chart .main-svg")
    names = page.evaluate("() => document.querySelector('#trend-chart .plot').data.map(t => t.name)")
    assert "Tickets · previous period" in names
    page.screenshot(path=str(SCREENSHOTS / "trends-overlay-1440.png"), full_page=False)
    assert page.console.errors == []


@pytest.mark.parametrize("path", ["/queue", "/distributions", "/agents/A%200001", "/teams/Tier%201",
                                  "/tickets/demo/T0000001"])
def test_a_view_of_any_dashboard_page_is_saved(app: Any, path: str) -> None:
    # the pages issue 11 added, and the page of one agent, team or ticket, are dashboard pages too
    client, admin, _, _ = app
    _sign_in(client, admin)
    r = client.post("/views", data={"name": "Mine", "path": path, "query": "period=7d"}, headers=ORIGIN,
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{path}?period=7d"
    assert client.get("/v/Mine", follow_redirects=False).headers["location"] == f"{path}?period=7d"
