"""Issue 14 item 5: the workforce endpoints (/api/v1/workforce/staffing, forecast, plan, backtest).

The single interval is checked by hand: METRICS.md's worked check (100 contacts in 30 min, AHT
180 s, 80% within 20 s -> 14 agents, SL 0.888, P(wait) 0.174, occupancy 0.714; 20 scheduled
after 30% shrinkage), with Erlang C's textbook factorial form computed here in exact
fractions. The forecast, plan and backtest answer what the library answers for the same
inputs; bad parameters are 4xx naming the parameter, in the one error shape, never 500s.
"""

from __future__ import annotations

import math
from datetime import datetime
from fractions import Fraction
from typing import Any

import pytest

from api.conftest import Api

BASE = "/api/v1/workforce"


def erlang_c_by_factorials(agents: int, load: int) -> Fraction:
    """P(wait) = (A^N / N!) (N / (N - A)) / (sum_{k<N} A^k / k! + (A^N / N!) (N / (N - A))), exactly."""
    top = Fraction(load**agents, math.factorial(agents)) * Fraction(agents, agents - load)
    return top / (sum(Fraction(load**k, math.factorial(k)) for k in range(agents)) + top)


def error(r: Any, status: int) -> str:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error"} and body["error"]["status"] == status
    return str(body["error"]["message"])


def test_single_interval_is_metrics_worked_check(api: Api) -> None:
    r = api.get(f"{BASE}/staffing?volume=100&interval=30m&aht=180&target=80/20&shrinkage=30%")
    assert r.status_code == 200, r.text
    s = r.json()
    # A = 100 x 180 / 1800 = 10 Erlangs; 13 agents miss 80/20, 14 meet it
    c14, c13 = erlang_c_by_factorials(14, 10), erlang_c_by_factorials(13, 10)
    sl14 = 1 - float(c14) * math.exp(-(14 - 10) * 20 / 180)
    assert 1 - float(c13) * math.exp(-(13 - 10) * 20 / 180) < 0.8 <= sl14
    assert (s["traffic"], s["agents"], s["scheduled"]) == (10.0, 14, 20)  # 14 / 0.7 = 20
    assert s["service_level"] == pytest.approx(sl14, abs=1e-12) and round(s["service_level"], 3) == 0.888
    assert s["p_wait"] == pytest.approx(float(c14), abs=1e-12) and round(s["p_wait"], 3) == 0.174
    assert s["asa_s"] == pytest.approx(float(c14) * 180 / 4, abs=1e-9)
    assert s["occupancy"] == pytest.approx(10 / 14) and s["model"] == "erlang_c" and s["p_abandon"] is None
    # the same answer with the AHT in minutes and the target as the default, for a viewer
    same = api.get(f"{BASE}/staffing?volume=100&aht=3m&shrinkage=0.3", api.viewer).json()
    assert {k: same[k] for k in ("agents", "scheduled", "service_level")} == \
        {k: s[k] for k in ("agents", "scheduled", "service_level")}


def test_targets_and_patience_as_the_library_computes_them(api: Api) -> None:
    from cxmetrics.workforce import erlang

    # at most 50% waiting at 15 calls per agent-hour (AHT 240 s): Miller's rule for the bank's hours
    r = api.get(f"{BASE}/staffing?volume=150&interval=1h&aht=240&target=none&max_pwait=50%").json()
    want = erlang.staff(150, 3600, 240, service_level=None, max_p_wait=0.5)
    assert r["agents"] == want.agents and r["p_wait"] <= 0.5
    assert erlang_c_by_factorials(want.agents - 1, 10) > Fraction(1, 2) >= erlang_c_by_factorials(want.agents, 10)
    # with customers' patience: Erlang A, fewer agents for the same service level
    a = api.get(f"{BASE}/staffing?volume=100&interval=30m&aht=180&patience=2m").json()
    want_a = erlang.staff(100, 1800, 180, patience_s=120)
    assert (a["model"], a["agents"], a["patience_s"]) == ("erlang_a", want_a.agents, 120.0)
    assert a["agents"] < 14 and a["p_abandon"] == pytest.approx(want_a.p_abandon)
    assert a["service_level"] == pytest.approx(want_a.service_level)


@pytest.mark.parametrize(("query", "status", "names"), [
    ("volume=100&aht=abc", 400, "aht 'abc'"),
    ("volume=100&aht=180&interval=half", 400, "interval 'half'"),
    ("volume=100&aht=180&target=80", 400, "target '80'"),
    ("volume=100&aht=180&shrinkage=lots", 400, "shrinkage 'lots'"),
    ("volume=100&aht=180&shrinkage=100%", 400, "shrinkage 1"),
    ("volume=100&aht=180&max_pwait=maybe", 400, "max_pwait 'maybe'"),
    ("volume=100&aht=180&max_occupancy=2", 400, "maximum occupancy 2"),
    ("volume=100&aht=180&patience=0", 400, "patience"),
    ("volume=-5&aht=180", 400, "volume -5"),
    ("volume=many&aht=180", 422, "query 'volume'"),
    ("aht=180", 422, "query 'volume'"),
    ("volume=100", 422, "query 'aht'"),
    ("volume=1e9&aht=180", 400, "more than the 50,000"),  # refused before a search of 10^8 agents
])
def test_bad_staffing_parameters_are_named(api: Api, query: str, status: int, names: str) -> None:
    assert names in error(api.get(f"{BASE}/staffing?{query}"), status)


def test_forecast_is_the_librarys(api: Api) -> None:
    from cxmetrics.workforce._forecast import forecast

    r = api.get(f"{BASE}/forecast?channel=email&interval=1h&horizon=2d&from=2026-10-01", api.viewer)
    assert r.status_code == 200, r.text
    got = r.json()["rows"]
    with api.ws.cursor(auto_refresh=False) as cur:
        want = forecast(cur, channel="email", interval="1h", horizon="2d", start="2026-10-01").to_pylist()
    assert len(got) == 48 and len(want) == 48  # two days of hours
    assert [datetime.fromisoformat(g["interval_start"]) for g in got] == [w["interval_start"] for w in want]
    for g, w in zip(got, want, strict=True):
        assert g["channel"] == "email" and g["day_type"] == w["day_type"]
        assert [g[k] for k in ("volume", "lo80", "hi80", "lo95", "hi95")] == \
            pytest.approx([w[k] for k in ("volume", "lo80", "hi80", "lo95", "hi95")])
        assert 0 <= g["lo95"] <= g["lo80"] <= g["hi80"] <= g["hi95"]
    assert {g["day_type"] for g in got} == {"thu", "fri"}  # 1 and 2 October 2026
    two = api.get(f"{BASE}/forecast?channel=email,chat&interval=1d&horizon=1w&from=2026-10-01").json()["rows"]
    assert sorted({(g["channel"]) for g in two}) == ["chat", "email"] and len(two) == 14


@pytest.mark.parametrize(("query", "names"), [
    ("interval=15m&horizon=60d", "5,760 intervals per channel, more than the 4,800"),
    ("interval=7m", "interval '7m'"),
    ("horizon=soon", "horizon 'soon'"),
    ("from=yesterday", "from 'yesterday'"),
    ("channel=fax", "channel 'fax'"),
])
def test_bad_forecast_parameters_are_named(api: Api, query: str, names: str) -> None:
    assert names in error(api.get(f"{BASE}/forecast?{query}"), 400)


def test_backtest_is_the_librarys(api: Api) -> None:
    from cxmetrics.workforce._forecast import backtest

    r = api.get(f"{BASE}/backtest?interval=1d&weeks=2&channel=email")
    assert r.status_code == 200, r.text
    got = r.json()
    with api.ws.cursor(auto_refresh=False) as cur:
        want = backtest(cur, channel="email", interval="1d", weeks=2).as_dict()
    assert got["n"] == want["n"] == 14  # two weeks of days, one channel
    assert got["mase"] == pytest.approx(want["mase"]) and got["coverage80"] == pytest.approx(want["coverage80"])
    assert (got["train_end"], got["test_end"]) == (want["train_end"], want["test_end"])
    assert [c["channel"] for c in got["channels"]] == ["email"]
    assert "weeks" in error(api.get(f"{BASE}/backtest?weeks=0"), 422)


def test_plan_is_the_librarys(api: Api) -> None:
    from cxmetrics.workforce._plan import plan

    r = api.get(f"{BASE}/plan?from=2026-10-01&to=2026-10-02&channel=phone&interval=1h&shrinkage=25%", api.viewer)
    assert r.status_code == 200, r.text
    got = r.json()["rows"]
    with api.ws.cursor(auto_refresh=False) as cur:
        want = plan(cur, start="2026-10-01", end="2026-10-02", channel="phone", interval="1h",
                    shrinkage=0.25).to_pylist()
    assert len(got) == len(want) == 24
    for g, w in zip(got, want, strict=True):
        assert datetime.fromisoformat(g["interval_start"]) == w["interval_start"]
        assert (g["agents"], g["scheduled"], g["model"], g["actual_volume"]) == \
            (w["agents"], w["scheduled"], w["model"], w["actual_volume"])
        assert g["scheduled"] == math.ceil(g["agents"] / 0.75 - 1e-9)  # after 25% shrinkage
        for k in ("volume", "aht_s", "service_level", "p_wait", "actual_service_level"):
            assert g[k] == pytest.approx(w[k]), k
    # Erlang C for every interval when asked, with the target as given
    c = api.get(f"{BASE}/plan?from=2026-10-01&to=2026-10-02&channel=phone&interval=1h&patience=none"
                "&target=90/30").json()["rows"]
    # (hours with no contact expected even at the 95% bound plan nobody: model "none")
    assert {g["model"] for g in c} <= {"erlang_c", "none"} and all(g["p_abandon"] is None for g in c)
    assert all((g["agents"] == 0) == (g["model"] == "none") and (g["hi95"] == 0) == (g["model"] == "none")
               for g in c)
    assert all(g["service_level"] >= 0.9 for g in c if g["agents"])


def test_plan_defaults_to_the_next_two_weeks(api: Api) -> None:
    sql = "SELECT CAST(max(created_at) AS DATE) AS d FROM ticket_facts WHERE NOT excluded"
    last = api.ws.sql(sql).to_pylist()[0]["d"]
    r = api.get(f"{BASE}/plan?channel=phone&interval=1d")
    assert r.status_code == 200, r.text
    body = r.json()
    first = last.toordinal() + 1
    assert body["request"]["from"] == type(last).fromordinal(first).isoformat()
    assert body["request"]["to"] == type(last).fromordinal(first + 14).isoformat()
    assert len(body["rows"]) == 14 and all(g["actual_volume"] is None for g in body["rows"])  # all ahead


@pytest.mark.parametrize(("query", "status", "names"), [
    # 364 days x 96 quarter-hours
    ("from=2026-01-01&to=2026-12-31&interval=15m", 400, "34,944 intervals per channel, more than the 4,800"),
    ("from=2026-10-02&to=2026-10-01", 400, "must be after from"),
    ("from=2026-10-01&to=2026-10-02&target=80", 400, "target '80'"),
    ("from=2026-10-01&to=2026-10-02&patience=-1", 400, "patience '-1'"),
    ("from=2026-10-01&to=2026-10-02&patience=0", 400, "patience '0' must be more than 0"),
    ("from=2026-10-01&to=2026-10-02&shrinkage=150%", 400, "shrinkage 1.5"),
    ("from=2026-10-01&to=2026-10-02&interval=50m", 400, "interval '50m'"),
    ("from=2026-10-01&to=2026-10-02&channel=email", 400, "no handle times in the history of channel(s) email"),
])
def test_bad_plan_parameters_are_named(api: Api, query: str, status: int, names: str) -> None:
    assert names in error(api.get(f"{BASE}/plan?{query}"), status)
