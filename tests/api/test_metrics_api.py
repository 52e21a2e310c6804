"""GET /metrics, /compare, /catalogue, /dimensions, /agents, /benchmarks and their errors."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.api.conftest import Api, rows

MARCH = {"from": "2026-03-01", "to": "2026-04-01"}


def test_ticket_counts_by_channel_match_a_count_of_the_tickets_table(api: Api) -> None:
    r = api.get("/api/v1/metrics", params={"metrics": "tickets", "by": "channel", **MARCH})
    assert r.status_code == 200
    got = {row["channel"]: row["n"] for row in r.json()["rows"]}
    # by hand: tickets created in March (UTC workspace), not deleted or spam and not merged
    # away (a `merged` event), counted per channel from the raw tables
    expected = dict(rows(api.ws, """
        SELECT channel, count(*) FROM tickets t
        WHERE created_at >= TIMESTAMPTZ '2026-03-01 00:00:00+00' AND created_at < TIMESTAMPTZ '2026-04-01 00:00:00+00'
          AND status NOT IN ('deleted', 'spam')
          AND NOT EXISTS (SELECT 1 FROM events e WHERE e.source = t.source AND e.ticket_id = t.ticket_id
                          AND e.kind = 'merged')
        GROUP BY channel"""))
    assert got == expected and sum(got.values()) > 100


def test_csat_matches_a_hand_computed_top_box_share(api: Api) -> None:
    r = api.get("/api/v1/metrics", params={"metrics": "csat", **MARCH}).json()["rows"][0]
    answers = [x for x in api.ws.table("surveys").to_pylist()
               if x["kind"] == "csat" and x["score"] is not None
               and "2026-03-01" <= (x["responded_at"] or x["sent_at"]).strftime("%Y-%m-%d") < "2026-04-01"]
    assert {a["scale"] for a in answers} == {"1-5"}
    top = sum(1 for a in answers if a["score"] >= 4)
    assert r["n"] == len(answers) and r["value"] == pytest.approx(100 * top / len(answers))
    assert r["unit"] == "percent" and r["ci_low"] <= r["value"] <= r["ci_high"]


def test_rows_are_the_cli_json_records_with_grain_and_where(api: Api) -> None:
    params = {"metrics": "frt,tickets", "by": "channel", "grain": "month", "where": ["channel:email", "channel:chat"],
              **MARCH}
    body = api.get("/api/v1/metrics", params=params).json()
    assert body["request"]["where"] == {"channel": ["email", "chat"]}
    keys = {"metric", "channel", "period", "value", "n", "ci_low", "ci_high", "flags", "unit"}
    assert body["rows"] and all(set(r) == keys for r in body["rows"])
    assert {r["channel"] for r in body["rows"]} == {"email", "chat"} and {r["period"] for r in body["rows"]} == {"2026-03-01"}
    assert Counter(r["metric"] for r in body["rows"]) == {"frt": 2, "tickets": 2}


def test_compare_to_previous_tests_the_change_against_the_period_before(api: Api) -> None:
    body = api.get("/api/v1/metrics", params={"metrics": "tickets,csat", **MARCH, "compare_to": "previous"}).json()
    cmp = body["compare"]
    assert cmp["a"] == {"from": "2026-01-29", "to": "2026-03-01"}  # 31 days before March
    feb = {r["metric"]: r for r in api.get("/api/v1/metrics", params={
        "metrics": "tickets,csat", "from": "2026-01-29", "to": "2026-03-01"}).json()["rows"]}
    march = {r["metric"]: r for r in body["rows"]}
    for row in cmp["rows"]:
        m = row["metric"]
        assert row["a_n"] == feb[m]["n"] and row["b_n"] == march[m]["n"]
        assert row["change"] == pytest.approx(march[m]["value"] - feb[m]["value"])
        assert row["significant"] in (True, False) and row["test"]
    explicit = api.get("/api/v1/metrics", params={"metrics": "tickets,csat", **MARCH,
                                                   "compare_to": "2026-01-29..2026-03-01"}).json()
    assert explicit["compare"]["rows"] == cmp["rows"]


def test_benchmark_adds_target_reference_and_gap(api: Api) -> None:
    row = api.get("/api/v1/metrics", params={"metrics": "csat", "benchmark": "ecommerce", **MARCH}).json()["rows"][0]
    assert row["target"] is not None and row["benchmark"] is not None
    assert row["gap"] == pytest.approx(row["value"] - row["benchmark"])


@pytest.mark.parametrize(("params", "status", "words"), [
    ({"metrics": "csatt"}, 400, "Did you mean 'csat'"),
    ({"metrics": "csat", "by": "chanel"}, 400, "Did you mean 'channel'"),
    ({"metrics": "csat", "where": "chanel:email"}, 400, "Did you mean 'channel'"),
    ({"metrics": "csat", "where": "channel"}, 400, "DIM=VALUE"),
    ({"metrics": "csat", "grain": "fortnight"}, 422, "grain"),
    ({"metrics": "csat", "from": "2026-13-01"}, 400, "is not a date"),
    ({"metrics": "csat", "from": "2026-03-01", "to": "2026-02-01"}, 400, "must be after"),
    ({"metrics": "csat", "compare_to": "previous"}, 400, "give from and to"),
    ({"metrics": "csat", **MARCH, "compare_to": "last year"}, 400, "START..END"),
    ({"metrics": "csat", "benchmark": "mars"}, 400, "benchmark segment"),
    ({"metrics": ""}, 400, "at least one metric"),
    ({"metrics": "csat", "by": "segment"}, 400, "customer dimension"),
    ({"metrics": "csat", "where": "hour_of_day:9"}, 400, "grouped by but not filtered"),
    ({}, 422, "metrics"),
])
def test_bad_parameters_get_a_4xx_that_says_what_to_fix(api: Api, params: dict, status: int, words: str) -> None:
    r = api.get("/api/v1/metrics", params=params)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["status"] == status and words in err["message"], err


def test_unknown_names_carry_the_suggestion(api: Api) -> None:
    err = api.get("/api/v1/metrics", params={"metrics": "nsp"}).json()["error"]
    assert err["code"] == "unknown_name" and err["details"]["suggestion"] == "nps"


def test_compare_by_annotation(api: Api) -> None:
    label = rows(api.ws, "SELECT label FROM annotations ORDER BY ts LIMIT 1")[0][0]
    r = api.get("/api/v1/compare", params={"metrics": "tickets", "annotation": label, "days": 14})
    assert r.status_code == 200 and r.json()["rows"][0]["metric"] == "tickets"
    assert api.get("/api/v1/compare", params={"metrics": "tickets"}).status_code == 400
    assert api.get("/api/v1/compare", params={"metrics": "tickets", "annotation": "nope"}).status_code == 400


def test_catalogue_and_dimensions(api: Api) -> None:
    cat = api.get("/api/v1/catalogue").json()
    ids = {c["id"] for c in cat}
    assert {"csat", "nps", "frt", "fcr", "tickets", "backlog"} <= ids
    frt = api.get("/api/v1/catalogue/frt_p90").json()
    assert frt["id"] == "frt" and frt["requested"]["stat"] == "p90" and "frt_p90" in frt["names"]
    r = api.get("/api/v1/catalogue/frtt")
    assert r.status_code == 404 and "Did you mean 'frt'" in r.json()["error"]["message"]
    dims = {d["name"]: d for d in api.get("/api/v1/dimensions").json()}
    assert dims["channel"]["filter"] and not dims["hour_of_day"]["filter"]
    values = api.get("/api/v1/dimensions/channel/values").json()["values"]
    assert set(values) == {r[0] for r in rows(api.ws, "SELECT DISTINCT channel FROM ticket_facts")}
    assert api.get("/api/v1/dimensions/nope/values").status_code == 404


def test_agents_scorecard_and_benchmarks(api: Api) -> None:
    agents = api.get("/api/v1/agents", params={**MARCH, "min_n": 5}).json()["rows"]
    assert agents and {"agent_id", "rank", "csat", "frt", "type"} <= set(agents[0])
    assert {a["type"] for a in agents} >= {"human"}
    assert api.get("/api/v1/agents", params={"rank_by": "speed"}).status_code == 422
    refs = api.get("/api/v1/benchmarks", params={"metric": "frt"}).json()["rows"]
    assert refs and all(r["key"] == "frt" and r["url"].startswith("http") for r in refs)
    assert api.get("/api/v1/benchmarks", params={"metric": "nope"}).status_code == 400


def test_topics(api: Api) -> None:
    topics = api.get("/api/v1/topics", params={**MARCH, "limit": 3}).json()["rows"]
    assert 0 < len(topics) <= 3 and topics[0]["tickets"] >= topics[-1]["tickets"]
