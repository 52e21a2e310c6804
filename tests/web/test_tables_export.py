"""Issue 11, items 7 (sorting and search on every table) and 9 (exports) in the dashboard:
the `/export/data.{csv,xlsx}` downloads beside each table and chart, the ticket list's Excel
download, and the tables' sort buttons and search box, in Debian's Chromium."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from web._web_helpers import SCREENSHOTS, Server

from test_export import read_sheet  # the xlsx reader of the library's tests


@pytest.fixture(scope="module")
def http(server: Server) -> Any:
    """An httpx client signed in to the dashboard (a viewer's session cookie)."""
    with httpx.Client(base_url=server.url, timeout=60) as c:
        r = c.post("/login", data={"key": server.viewer, "next": "/"}, follow_redirects=False)
        assert r.status_code == 303
        yield c


def export_links(page_html: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="(/export/data\.csv\?[^"]+)"', page_html)]


def rows_of(csv_text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(csv_text)))


def library(server: Server, link: str) -> list[dict[str, Any]]:
    """The library's answer to the query a link names (the reference: ws.metrics itself)."""
    q = {k: v for k, v in parse_qs(urlsplit(link).query).items()}
    where = {k: v for k, v in q.items() if k in ("channel", "team", "priority", "tier", "agent_type")}
    with server.cursor() as ws:
        return ws.metrics(q["metrics"][0].split(","), by=q["by"][0].split(",") if "by" in q else None,
                          grain=q.get("grain", [None])[0], where=where, start=date.fromisoformat(q["from"][0]),
                          end=date.fromisoformat(q["to"][0])).to_pylist()


# -- the routes ---------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "message"), [
    ("/export/data.csv", "give the metrics to export"),
    ("/export/data.csv?metrics=frt&by=chanel", "Unknown dimension 'chanel'. Did you mean 'channel'?"),
    ("/export/data.xlsx?metrics=csta", "Unknown metric 'csta'"),
    ("/export/data.csv?metrics=frt&grain=fortnight", "Unknown grain 'fortnight'"),
    ("/export/data.csv?metrics=frt&from=2026-02-30&to=2026-03-01", "'from=2026-02-30' is not a date"),
    ("/export/data.csv?metrics=frt&where=channel", "where 'channel' is not DIM=VALUE"),
    ("/export/data.pdf?metrics=frt", "Unknown export format 'pdf'"),
    ("/export/data.parquet?metrics=frt", "the dashboard exports csv or xlsx"),
    ("/export/data.csv?table=scorecard&rank_by=speed", "rank_by 'speed' is not one of"),
    ("/api/v1/tickets.xlsx?metric=frt&sort=nope", "Unknown sort column 'nope'"),
])
def test_bad_export_parameters_are_400s_with_the_apis_message(http: Any, query: str, message: str) -> None:
    r = http.get(query)
    assert r.status_code == 400, r.text
    body = r.json()["error"]
    assert body["status"] == 400 and message in body["message"]


def test_signed_out_downloads_go_to_the_sign_in(server: Server) -> None:
    r = httpx.get(server.url + "/export/data.csv?metrics=frt", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


PAGES_WITH_EXPORTS = {"/?period=90d": 1, "/trends?period=90d&by=channel": 1, "/channels?period=90d": 3,
                      "/agents?period=90d": 2, "/sla?period=90d": 4, "/surveys?period=90d": 1, "/topics?period=90d": 1}


@pytest.mark.parametrize("path", list(PAGES_WITH_EXPORTS))
def test_every_pages_downloads_answer_the_librarys_numbers(http: Any, server: Server, path: str) -> None:
    links = export_links(http.get(path).text)
    assert len(links) == PAGES_WITH_EXPORTS[path]
    for link in links:
        r = http.get(link)
        assert r.status_code == 200, (link, r.text[:300])
        assert r.headers["content-type"].startswith("text/csv") and "attachment" in r.headers["content-disposition"]
        if "table=scorecard" in link:
            continue  # the scorecard: checked in the browser test below
        got = rows_of(r.text)
        ref = library(server, link)
        assert len(got) == len(ref) > 0, link
        for g, e in zip(got, ref, strict=True):
            assert g["metric"] == e["metric"] and int(g["n"]) == e["n"]
            assert (g["value"] == "" and e["value"] is None) or float(g["value"]) == pytest.approx(e["value"])
        x = http.get(link.replace("/export/data.csv", "/export/data.xlsx"))
        assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxml")
        header, *cells = read_sheet(x.content)["rows"]
        value = [h[1] for h in header].index("value")
        assert [c[value][1] if len(c) > value and c[value] else None for c in cells] == \
            [pytest.approx(e["value"]) if e["value"] is not None else None for e in ref]


def test_the_channel_tables_download_equals_the_numbers_on_the_page(http: Any) -> None:
    page = http.get("/channels?period=90d").text
    table = page[page.index('id="channel-table"'):]
    table = table[:table.index("</table>")]
    # the page's numbers, as the page holds them (data-sort: the value behind each formatted cell)
    shown: dict[tuple[str, str], float] = {}
    for row in re.findall(r"<tr><td><b>(.*?)</b>(.*?)</tr>", table, re.S):
        channel, cells = html.unescape(row[0]), row[1]
        values = re.findall(r'data-sort="([^"]*)"', cells)
        for metric, v in zip(("frt", "frt_first_touch", "full_resolution_time"), values, strict=True):
            if v:
                shown[(metric, channel)] = float(v)
    link = next(link for link in export_links(page) if "frt_first_touch" in link)
    got = {(r["metric"], r["channel"]): float(r["value"]) for r in rows_of(http.get(link).text)
           if r["metric"] != "tickets" and r["value"]}
    assert got == pytest.approx(shown) and len(shown) >= 3


def test_the_ticket_lists_excel_download_holds_every_row(http: Any, server: Server) -> None:
    page = http.get("/tickets?metric=frt&period=90d&channel=email").text
    link = html.unescape(re.search(r'id="xlsx-link" href="([^"]+)"', page).group(1))
    assert link.startswith("/api/v1/tickets.xlsx?metric=frt")
    q = parse_qs(urlsplit(link).query)
    with server.cursor() as ws:  # by hand: email tickets customers opened in the period, with a first reply
        n = ws.sql("SELECT count(*) AS n FROM ticket_facts WHERE channel = 'email' AND created_by = 'customer' AND "
                   "frt_s IS NOT NULL AND created_at >= CAST(? AS TIMESTAMPTZ) AND created_at < CAST(? AS TIMESTAMPTZ)",
                   [q["from"][0], q["to"][0]]).to_pylist()[0]["n"]
    r = http.get(link)
    assert r.status_code == 200 and 'filename="frt-tickets.xlsx"' in r.headers["content-disposition"]
    header, *cells = read_sheet(r.content)["rows"]
    names = [h[1] for h in header]
    assert len(cells) == n > 10
    assert "metric_value (seconds)" in names and any(name.startswith("created_at (") for name in names)
    channel = names.index("channel")
    assert {c[channel][1] for c in cells} == {"email"}


# -- the browser: sort, search, download, and a live update -----------------------------


def column_values(page: Any, table: str, metric: str) -> list[float | None]:
    return [None if v == "" else float(v) for v in page.eval_on_selector_all(
        f"{table} tbody tr:not([hidden]) td[data-metric={metric}]", "cells => cells.map(c => c.dataset.sort)")]


def test_a_table_sorts_searches_downloads_and_survives_a_live_update(page: Any, server: Server) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(server.url + "/agents?period=365d")
    page.wait_for_selector("#live.on")
    header = page.locator("#scorecard thead th", has_text="First response")
    assert header.get_attribute("aria-sort") == "none"
    # a number column sorts largest first, then smallest first; agents without a value go last
    header.locator("button.sort-btn").click()
    assert header.get_attribute("aria-sort") == "descending"
    values = column_values(page, "#scorecard", "frt")
    known = [v for v in values if v is not None]
    assert known == sorted(known, reverse=True) and len(known) >= 5 and values[:len(known)] == known
    header.locator("button.sort-btn").click()
    assert header.get_attribute("aria-sort") == "ascending"
    known = [v for v in column_values(page, "#scorecard", "frt") if v is not None]
    assert known == sorted(known)
    # the same agents' FRT from the library's scorecard for this period
    start, end = page.get_attribute("#view-meta", "data-from"), page.get_attribute("#view-meta", "data-to")
    with server.cursor() as ws:
        card = ws.scorecard(start=start, end=end).to_pylist()
    assert sorted(known) == pytest.approx(sorted(r["frt"] for r in card if r["frt"] is not None))
    page.screenshot(path=str(SCREENSHOTS / "tables-1440.png"))

    # search: only the rows holding the text stay; the count says how many
    team = next(r["team"] for r in card if r["team"] and " " not in r["team"])  # one word: one search term
    expected = sum(1 for r in card if r["team"] == team)
    page.fill("#scorecard-search", team)
    visible = page.locator("#scorecard tbody tr:not([hidden])")
    assert visible.count() == expected
    assert all(team in t for t in visible.all_inner_texts())
    assert page.inner_text("#scorecard-count") == f"{expected} of {len(card)} rows"

    # the download beside the table: the scorecard of the page's period, the same numbers
    link = page.locator("a[data-export=csv][href*='table=scorecard']").get_attribute("href")
    got = rows_of(page.request.get(server.url + link).text())
    assert {r["agent_id"]: (float(r["frt"]) if r["frt"] else None) for r in got} == \
        pytest.approx({r["agent_id"]: r["frt"] for r in card})

    # a live update swaps the page's content: the sort and the search stay
    before = int(page.get_attribute("body", "data-refreshes"))
    r = httpx.post(server.url + "/api/v1/events", headers={"Authorization": f"Bearer {server.admin}"}, json=[
        {"event_id": "tables-live-c", "ticket_id": "TABLES-LIVE", "ts": "2020-01-06T09:00:00Z", "kind": "created",
         "actor_type": "customer", "actor_id": "C-tables", "channel": "email", "requester_id": "C-tables"}])
    assert r.status_code == 200, r.text
    page.wait_for_function("n => Number(document.body.dataset.refreshes) > n", arg=before, timeout=10_000)
    header = page.locator("#scorecard thead th", has_text="First response")
    assert header.get_attribute("aria-sort") == "ascending"
    assert page.input_value("#scorecard-search") == team
    assert page.locator("#scorecard tbody tr:not([hidden])").count() == expected
    known = [v for v in column_values(page, "#scorecard", "frt") if v is not None]
    assert known == sorted(known)
    page.fill("#scorecard-search", "")
    assert page.locator("#scorecard tbody tr:not([hidden])").count() == len(card)
    assert page.console.errors == []


def test_tables_at_laptop_size(page: Any, server: Server) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(server.url + "/sla?period=90d")
    page.wait_for_selector("#live.on")
    header = page.locator("#sla-agents thead th", has_text="Compliance")
    header.locator("button.sort-btn").click()
    values = [float(v) for v in page.eval_on_selector_all(
        "#sla-agents tbody tr td:nth-child(2)", "cells => cells.map(c => c.dataset.sort)") if v]
    assert values == sorted(values, reverse=True)
    page.locator("#sla-agents").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -160)")
    page.screenshot(path=str(SCREENSHOTS / "tables-1280.png"))
    assert page.console.errors == []
