"""Drill-down: the rows behind a number are exactly the metric's n, page by page and as CSV."""

from __future__ import annotations

import csv
import io

import pytest

from cxmetrics.api._drill import count_behind, tickets_behind
from tests.api.conftest import Api, rows

MARCH = {"from": "2026-03-01", "to": "2026-04-01"}


def _n(api: Api, metric: str, by: str | None = None, **params: object) -> dict[object, int]:
    q = {"metrics": metric, **MARCH, **params}
    if by:
        q["by"] = by
    out = api.get("/api/v1/metrics", params=q).json()["rows"]
    return {(r.get(by) if by else None): r["n"] for r in out}


@pytest.mark.parametrize("metric", ["frt", "csat", "fcr", "full_resolution_time", "tickets", "next_reply_time",
                                    "survey_response_rate", "bot_resolution_rate", "asa"])
def test_drill_down_count_per_channel_equals_the_metric_n(api: Api, metric: str) -> None:
    n_by_channel = _n(api, metric, by="channel")
    assert n_by_channel, metric
    for channel, n in n_by_channel.items():
        # a row without a channel is drilled into with an empty value
        page = api.get("/api/v1/tickets", params={"metric": metric, **MARCH, "where": f"channel:{channel or ''}",
                                                  "page_size": 5}).json()
        assert page["total"] == n, (metric, channel)
        assert all(r["channel"] == channel for r in page["rows"])


def test_frt_rows_are_answered_customer_tickets_in_the_period(api: Api) -> None:
    page = api.get("/api/v1/tickets", params={"metric": "frt", **MARCH, "page_size": 1000}).json()
    assert page["source"] == "tickets" and page["total"] == len(page["rows"]) > 50
    for r in page["rows"]:
        assert "2026-03-01" <= r["created_at"][:10] < "2026-04-01"
        assert r["frt_s"] is not None and r["metric_value"] == r["frt_s"] and r["created_by"] == "customer"
    # independently: customer tickets created in March with a first public human reply
    expected = rows(api.ws, """
        SELECT count(*) FROM ticket_facts WHERE NOT excluded AND created_by = 'customer' AND first_reply_at IS NOT NULL
          AND created_at >= TIMESTAMPTZ '2026-03-01 00:00:00+00' AND created_at < TIMESTAMPTZ '2026-04-01 00:00:00+00'""")
    assert page["total"] == expected[0][0]


def test_backlog_and_average_response_time_drill_down(api: Api) -> None:
    backlog = _n(api, "backlog")[None]
    assert api.get("/api/v1/tickets", params={"metric": "backlog", **MARCH}).json()["total"] == backlog
    art = _n(api, "avg_response_time")[None]
    assert api.get("/api/v1/tickets", params={"metric": "avg_response_time", **MARCH}).json()["total"] == art
    r = api.get("/api/v1/tickets", params={"metric": "churn_rate"})
    assert r.status_code == 400 and "no tickets behind" in r.json()["error"]["message"]


def test_survey_rows_are_answers_with_their_ticket(api: Api) -> None:
    page = api.get("/api/v1/tickets", params={"metric": "csat", **MARCH, "page_size": 1000}).json()
    assert page["source"] == "surveys" and page["total"] == len(page["rows"]) == _n(api, "csat")[None]
    assert all(r["kind"] == "csat" and r["ticket_id"] and r["metric_value"] == (r["score"] >= 4)
               for r in page["rows"])


def test_heatmap_cells_drill_down(api: Api) -> None:
    cells = api.get("/api/v1/metrics", params={"metrics": "tickets", "by": "hour_of_day,weekday", **MARCH}).json()["rows"]
    cell = max(cells, key=lambda c: c["n"])
    page = api.get("/api/v1/tickets", params={"metric": "tickets", **MARCH, "where": [
        f"hour_of_day:{cell['hour_of_day']}", f"weekday:{cell['weekday']}"]}).json()
    assert page["total"] == cell["n"] > 0
    assert api.get("/api/v1/tickets", params={"where": "hour_of_day:nine"}).status_code == 400


def test_pages_cover_every_row_once_in_order(api: Api) -> None:
    total = api.get("/api/v1/tickets", params={"metric": "fcr", **MARCH, "page_size": 1}).json()["total"]
    seen = []
    for page in range(1, total // 40 + 2):
        body = api.get("/api/v1/tickets", params={"metric": "fcr", **MARCH, "page": page, "page_size": 40,
                                                  "sort": "-full_resolution_s"}).json()
        seen += [(r["full_resolution_s"], r["ticket_id"]) for r in body["rows"]]
    assert len(seen) == total == len({t for _, t in seen})
    values = [v for v, _ in seen]
    assert values == sorted(values, reverse=True)
    r = api.get("/api/v1/tickets", params={"metric": "fcr", "sort": "nope"})
    assert r.status_code == 400 and "sort column" in r.json()["error"]["message"]


def test_csv_export_has_every_row(api: Api) -> None:
    r = api.get("/api/v1/tickets.csv", params={"metric": "frt", **MARCH, "where": "channel:email"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert len(table) == _n(api, "frt", by="channel")["email"]
    assert {"ticket_id", "frt_s", "subject", "tags"} <= set(table[0]) and table[0]["created_at"][10] == "T"
    empty = api.get("/api/v1/tickets.csv", params={"metric": "frt", "from": "2001-01-01", "to": "2001-02-01"})
    assert empty.status_code == 200 and empty.text.startswith('"source"') and empty.text.count("\n") == 1
    assert api.get("/api/v1/tickets.csv", params={"metric": "frt", "sort": "nope"}).status_code == 400


def test_one_ticket_with_its_events(api: Api) -> None:
    tid = api.get("/api/v1/tickets", params={"metric": "frt", **MARCH, "page_size": 1}).json()["rows"][0]["ticket_id"]
    body = api.get(f"/api/v1/tickets/demo/{tid}").json()
    assert body["ticket"]["ticket_id"] == tid and body["facts"]["ticket_id"] == tid
    n_events = rows(api.ws, "SELECT count(*) FROM events WHERE source = 'demo' AND ticket_id = ?", [tid])[0][0]
    assert len(body["events"]) == n_events and body["events"][0]["kind"] == "created"
    assert [e["ts"] for e in body["events"]] == sorted(e["ts"] for e in body["events"])
    r = api.get("/api/v1/tickets/demo/nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_library_function_returns_arrow(api: Api) -> None:
    with api.ws.cursor(auto_refresh=False) as cur:
        table = tickets_behind(cur, "frt", {"channel": ["chat"]}, "2026-03-01", "2026-04-01", limit=7)
        assert table.num_rows == 7 and "frt_s" in table.column_names
        assert count_behind(cur, "frt", {"channel": "chat"}, "2026-03-01", "2026-04-01") == _n(
            api, "frt", by="channel")["chat"]
