"""Requests: names checked with suggestions, filters and groups consistent, SQL shown."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import cxmetrics
from cxmetrics.cli import main
from conftest import write

EVENTS = "event_id,ticket_id,ts,kind,actor_type,actor_id,public,status_to,channel,team,topic,requester_id\n"


@pytest.fixture
def tickets_ws(ws, tmp_path):
    """Six tickets: email ones answered after 1h, 2h, 3h; chat ones after 60 s, 120 s; one unanswered chat."""
    rows = []
    for i, (channel, delay) in enumerate([("email", 3600), ("email", 7200), ("email", 10800),
                                          ("chat", 60), ("chat", 120), ("chat", None)]):
        t = f"T{i}"
        rows.append(f"{t}-c,{t},2025-03-03T08:00:00Z,created,customer,C{i},,new,{channel},Tier 1,billing,C{i}\n")
        if delay is not None:
            ts = f"2025-03-03T{8 + delay // 3600:02d}:{delay % 3600 // 60:02d}:00Z"
            rows.append(f"{t}-r,{t},{ts},message,agent,A1,true,,,,,\n")
    ws.import_file("events", write(tmp_path / "e.csv", EVENTS + "".join(rows)))
    return ws


@pytest.mark.engines  # on DuckDB and on Spark (tests/_engines.py)
def test_groups_add_up_and_filters_apply(tickets_ws):
    ws = tickets_ws
    overall = ws.metrics(["frt", "tickets", "unanswered"]).to_pylist()
    by = ws.metrics(["frt", "tickets"], by="channel").to_pylist()
    assert {r["metric"]: r["n"] for r in overall} == {"frt": 5, "tickets": 6, "unanswered": 1}
    assert sum(r["n"] for r in by if r["metric"] == "frt") == 5
    assert sum(r["n"] for r in by if r["metric"] == "tickets") == 6
    # medians by hand: email 1h, 2h, 3h -> 7200 s; chat 60, 120 -> 90 s
    assert {r["channel"]: r["value"] for r in by if r["metric"] == "frt"} == {"email": 7200.0, "chat": 90.0}
    email = ws.metrics(["frt_mean"], where={"channel": "email"}).to_pylist()[0]
    assert email["value"] == pytest.approx(7200.0) and email["n"] == 3


def test_hours_of_the_day_come_in_clock_order(ws, tmp_path):
    """Hours sorted as numbers, not as text ("10" came before "2"): regression."""
    rows = "".join(f"T{h},2025-03-03T{h:02d}:15:00Z,email\n" for h in (23, 2, 10, 0, 9))
    ws.import_file("tickets", write(tmp_path / "t.csv", "ticket_id,created_at,channel\n" + rows))
    hours = [int(r["hour_of_day"]) for r in ws.metrics(["tickets"], by=["hour_of_day"]).to_pylist()]
    assert hours == [0, 2, 9, 10, 23]


@pytest.mark.engines  # on DuckDB and on Spark (tests/_engines.py)
def test_period_bounds_are_half_open(tickets_ws):
    assert tickets_ws.metrics(["tickets"], start="2025-03-03", end="2025-03-04").to_pylist()[0]["value"] == 6
    assert tickets_ws.metrics(["tickets"], start="2025-03-04").to_pylist()[0]["value"] == 0


def test_unknown_names_suggest_the_closest(ws):
    with pytest.raises(cxmetrics.UnknownNameError, match="Did you mean 'csat'"):
        ws.metrics(["cast"])
    with pytest.raises(cxmetrics.UnknownNameError, match="Did you mean 'channel'"):
        ws.metrics(["csat"], by=["chanel"])
    with pytest.raises(cxmetrics.UnknownNameError, match="Did you mean 'week'"):
        ws.metrics(["csat"], grain="weak")
    with pytest.raises(cxmetrics.UnknownNameError, match="Did you mean 'frt_p90'"):
        ws.metrics(["frt_p99"])


@pytest.mark.engines  # on DuckDB and on Spark (tests/_engines.py)
def test_filter_values_are_literals_not_sql(tickets_ws):
    # an injection attempt is just a value no ticket has
    rows = tickets_ws.metrics(["tickets"], where={"channel": "email' OR '1'='1"}).to_pylist()
    assert rows[0]["value"] == 0


def test_requests_differing_in_their_dates_share_one_compile_and_keep_their_own_dates(tickets_ws, monkeypatch):
    from cxmetrics.metrics import _compile

    compiles = []
    real = _compile._compile
    monkeypatch.setattr(_compile, "_compile", lambda *a, **k: compiles.append(k) or real(*a, **k))
    monkeypatch.setattr(_compile, "_COMPILED", type(_compile._COMPILED)())
    # the six tickets were all created on 3 March at 08:00 (UTC workspace)
    windows = {("2025-03-03", "2025-03-04"): 6, ("2025-03-03T08:00:01Z", "2025-03-05"): 0,
               ("2025-03-01", "2025-03-03T08:00:01Z"): 6, ("2025-03-04", "2025-03-05"): 0}
    for (a, b), n in windows.items():
        assert tickets_ws.metrics(["tickets"], start=a, end=b).to_pylist()[0]["value"] == n, (a, b)
    assert len(compiles) == 1  # one shape: a start and an end
    assert tickets_ws.metrics(["tickets"], start="2025-03-04").to_pylist()[0]["value"] == 0
    assert len(compiles) == 2  # no end: another shape
    # a filter value that looks like a bound slot is not taken for one
    rows = tickets_ws.metrics(["tickets"], where={"team": "__cx_bound_0__"}, start="2025-03-03", end="2025-03-04")
    assert rows.to_pylist()[0]["value"] == 0


def test_cli_json_has_one_key_per_dimension_and_period(tickets_ws, tmp_path):
    res = CliRunner().invoke(main, ["--workspace", str(tickets_ws.path), "metrics", "frt,tickets", "--by", "channel",
                                    "--grain", "day", "--format", "json"])
    tickets_ws.close()
    assert res.exit_code == 0, res.output
    records = json.loads(res.output)
    assert {tuple(sorted(r)) for r in records} == {
        ("channel", "ci_high", "ci_low", "flags", "metric", "n", "period", "unit", "value")}
    assert {(r["metric"], r["channel"], r["period"], r["n"]) for r in records} >= {("frt", "email", "2025-03-03", 3)}


def test_explain_prints_the_sql(ws):
    res = CliRunner().invoke(main, ["--workspace", str(ws.path), "metrics", "csat,frt_p90", "--by", "channel", "--explain"])
    assert res.exit_code == 0
    assert "quantile_cont" in res.output.lower() and "top_box" in res.output and "GROUP BY" in res.output


def test_catalogue_lists_every_metric_with_its_declaration():
    res = CliRunner().invoke(main, ["catalogue", "--format", "json"])
    specs = {s["id"]: s for s in json.loads(res.output)}
    assert specs["csat"]["numerator"] == "top_box" and specs["csat"]["unit"] == "percent"
    assert specs["frt"]["kind"] == "duration" and "human agent" in specs["frt"]["description"]


@pytest.mark.engines  # on DuckDB and on Spark (tests/_engines.py)
def test_volume_by_hour_of_day_and_weekday(ws, tmp_path):
    # Monday 2025-03-03 08:xx (two tickets) and Tuesday 09:xx (one), in Europe/Berlin:
    # 07:10Z and 07:50Z are 08:10 and 08:50 local; 08:30Z Tuesday is 09:30 local
    ws.configure(timezone="Europe/Berlin")
    rows = EVENTS + "".join(f"E{i},T{i},{ts},created,customer,C{i},,new,email,,,C{i}\n" for i, ts in
                            enumerate(["2025-03-03T07:10:00Z", "2025-03-03T07:50:00Z", "2025-03-04T08:30:00Z"]))
    ws.import_file("events", write(tmp_path / "e.csv", rows))
    got = {(r["hour_of_day"], r["weekday"]): r["value"] for r in ws.metrics(["tickets"], by=["hour_of_day", "weekday"]).to_pylist()}
    assert got == {("8", "1"): 2.0, ("9", "2"): 1.0}


def test_top_topics_with_tested_change(ws, tmp_path):
    # week before: 10 billing, 10 login; this week: 10 billing, 40 login
    lines = [EVENTS]
    for i in range(70):
        day = "2025-03-03" if i < 20 else "2025-03-10"
        topic = "billing" if i % 2 == 0 and (i < 20 or i < 40) else "login"
        lines.append(f"E{i},T{i},{day}T10:00:00Z,created,customer,C{i},,new,email,,{topic},C{i}\n")
    ws.import_file("events", write(tmp_path / "e.csv", "".join(lines)))
    top = {r["topic"]: r for r in ws.topics(start="2025-03-10", end="2025-03-17").to_pylist()}
    assert (top["login"]["tickets"], top["login"]["before"], top["login"]["change"]) == (40, 10.0, 30.0)
    assert top["login"]["significant"] is True and top["login"]["share"] == pytest.approx(80.0)
    assert (top["billing"]["tickets"], top["billing"]["change"], top["billing"]["significant"]) == (10, 0.0, False)


@pytest.mark.engines  # on DuckDB and on Spark (tests/_engines.py)
def test_none_asks_for_the_rows_without_a_value(ws, tmp_path):
    """`(none)` filters the group a breakdown shows without a value: no team, unassigned, no tags."""
    ws.import_file("tickets", write(tmp_path / "t.csv", (
        "ticket_id,created_at,channel,status,team,assignee_id,tags\n"
        "T1,2025-03-03T08:00:00Z,email,open,Billing,A1,vip\n"
        "T2,2025-03-03T09:00:00Z,email,open,,,\n"
        "T3,2025-03-03T10:00:00Z,chat,open,Support,A2,x;vip\n"
        "T4,2025-03-03T11:00:00Z,chat,open,,A2,x\n")))

    def count(**where: object) -> int:
        rows = ws.metrics(["tickets"], where=where).to_pylist()
        return int(rows[0]["n"]) if rows else 0

    assert count(team="(none)") == 2                       # T2, T4
    assert count(team=["(none)", "billing"]) == 3          # and T1 (case-blind, as every filter)
    assert count(assignee="(none)") == 1                   # T2
    assert count(tag="(none)") == 1                        # T2 has no tags
    assert count(tag=["(none)", "x"]) == 3                 # T2, T3, T4
    by_team = {r["team"]: r["n"] for r in ws.metrics(["tickets"], by=["team"]).to_pylist()}
    assert by_team[None] == count(team="(none)")           # the breakdown's "no team" row
