"""Erlang C staffing (issue 14, item 2): the worked check of METRICS.md, exact values against the
textbook factorial form computed with exact fractions, T. W. Miller's published staffing of the
Anonymous Bank's Wednesdays, properties, and the CLI."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmetrics.cli import main
from cxmetrics.errors import UserError
from cxmetrics.workforce import erlang_c, service_level, staff


def exact_erlang_c(agents: int, load: Fraction) -> Fraction:
    """The textbook form, A^N/N! N/(N-A) / (sum_{k<N} A^k/k! + A^N/N! N/(N-A)), in exact arithmetic."""
    top = load ** agents / math.factorial(agents) * Fraction(agents) / (agents - load)
    return top / (sum(load ** k / math.factorial(k) for k in range(agents)) + top)


def test_the_worked_check_of_metrics_md() -> None:
    # 100 contacts per 30 minutes, AHT 180 s, 80% in 20 s: 14 agents (SL 0.888, P(wait) 0.174,
    # occupancy 0.714), 20 with 30% shrinkage
    s = staff(volume=100, interval_s=1800, aht_s=180, service_level=0.8, answer_within_s=20, shrinkage=0.3)
    assert (s.agents, s.scheduled) == (14, 20)
    assert s.traffic == pytest.approx(10.0)
    assert round(s.service_level, 3) == 0.888
    assert round(s.p_wait, 3) == 0.174
    assert round(s.occupancy, 3) == 0.714
    # 13 agents fall short of 80/20: 14 is the smallest
    assert service_level(13, 10.0, 180, 20) < 0.8 <= service_level(14, 10.0, 180, 20)


@pytest.mark.parametrize("load", [Fraction(1, 2), Fraction(3), Fraction(10), Fraction(47, 2), Fraction(80)])
def test_erlang_c_equals_the_factorial_form_exactly(load: Fraction) -> None:
    for agents in range(math.floor(load) + 1, math.floor(load) + 15):
        assert erlang_c(agents, float(load)) == pytest.approx(float(exact_erlang_c(agents, load)), rel=1e-12)


def test_large_traffic_is_stable() -> None:
    # 20,000 calls an hour at 5 minutes each: 1,667 Erlangs (the factorial form overflows floats)
    s = staff(volume=20_000, interval_s=3600, aht_s=300, service_level=0.8, answer_within_s=20)
    assert s.agents > s.traffic and 0.8 <= s.service_level < 1 and 0 < s.p_wait < 1
    assert service_level(s.agents - 1, s.traffic, 300, 20) < 0.8
    # exact check at a load Fractions can still afford: 300 Erlangs
    assert erlang_c(320, 300.0) == pytest.approx(float(exact_erlang_c(320, Fraction(300))), rel=1e-9)


def test_millers_anonymous_bank_wednesday_staffing() -> None:
    # T. W. Miller, Modeling Techniques in Predictive Analytics (2015), chapter 6, as listed in the
    # data's README (../shared/data/anonymous_bank_callcenter_feb1999): Wednesday calls per hour,
    # and the Erlang C servers for P(wait) <= 0.5 at 15 calls per agent-hour
    calls = [6.75, 1.75, 1.25, 0, 0.5, 0.25, 4.75, 39.5, 97.25, 107.5, 124, 110.25, 95.5, 203.5, 115.75, 115.5,
             67.75, 75, 88.75, 85.5, 68, 61.5, 57.5, 44.25]
    servers = [1, 1, 1, 0, 1, 1, 1, 4, 8, 9, 10, 9, 8, 16, 10, 10, 6, 7, 8, 8, 6, 6, 5, 4]
    found = [staff(volume=c, interval_s=3600, aht_s=240, service_level=None, max_p_wait=0.5).agents for c in calls]
    assert found == servers


@settings(max_examples=200, deadline=None)
@given(volume=st.floats(0.1, 2000), aht=st.floats(10, 1200), level=st.floats(0.5, 0.95), within=st.floats(1, 120))
def test_the_answer_is_the_smallest_meeting_the_target_and_more_agents_never_hurt(volume: float, aht: float,
                                                                                  level: float, within: float) -> None:
    s = staff(volume=volume, interval_s=1800, aht_s=aht, service_level=level, answer_within_s=within)
    load = s.traffic
    assert service_level(s.agents, load, aht, within) >= level
    if s.agents - 1 > load:
        assert service_level(s.agents - 1, load, aht, within) < level
    levels = [service_level(n, load, aht, within) for n in range(s.agents, s.agents + 5)]
    assert levels == sorted(levels)
    waits = [erlang_c(n, load) for n in range(s.agents, s.agents + 5)]
    assert waits == sorted(waits, reverse=True)


def test_occupancy_cap_and_no_contacts() -> None:
    capped = staff(volume=100, interval_s=1800, aht_s=180, service_level=0.8, answer_within_s=20, max_occupancy=0.65)
    assert capped.agents == 16 and capped.occupancy <= 0.65  # 10 / 15 = 0.667 > 0.65; 10 / 16 = 0.625
    none = staff(volume=0, interval_s=1800, aht_s=180)
    assert (none.agents, none.scheduled, none.p_wait) == (0, 0, 0.0)


@pytest.mark.parametrize("kwargs, says", [
    ({"volume": -1}, "volume"), ({"aht_s": 0}, "handle time"), ({"service_level": 1.0}, "between 0 and 1"),
    ({"shrinkage": 1.0}, "shrinkage"), ({"service_level": None}, "give a target"),
])
def test_bad_input_says_what_to_fix(kwargs: dict, says: str) -> None:
    args = {"volume": 100, "interval_s": 1800, "aht_s": 180, **kwargs}
    with pytest.raises(UserError, match=says):
        staff(**args)


def test_cli_table_json_and_errors() -> None:
    runner = CliRunner()
    done = runner.invoke(main, ["staffing", "--volume", "100", "--interval", "30m", "--aht", "3m", "--target", "80/20",
                                "--shrinkage", "30%", "--format", "json"])
    assert done.exit_code == 0, done.output
    found = json.loads(done.output)
    assert (found["agents"], found["scheduled"], round(found["occupancy"], 3)) == (14, 20, 0.714)
    table = runner.invoke(main, ["staffing", "--volume", "100", "--aht", "180"])
    assert table.exit_code == 0 and "agents needed" in table.output and "14" in table.output
    bad = runner.invoke(main, ["staffing", "--volume", "100", "--aht", "180", "--target", "eighty"])
    assert bad.exit_code == 1 and "80/20" in bad.output
