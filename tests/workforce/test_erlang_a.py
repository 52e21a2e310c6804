"""Erlang A (M/M/N+M, issue 14 item 2): exact against the birth-death chain solved in exact
fractions (the service level by uniformising the waiting caller's chain in 60-digit decimals),
its known special cases, a seeded simulation, stability at thousands of agents, properties,
and `staff(..., patience_s=...)` / `cxmetrics staffing --patience`."""

from __future__ import annotations

import heapq
import json
import math
import random
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmetrics.cli import main
from cxmetrics.errors import UserError
from cxmetrics.workforce.erlang import erlang_a, erlang_b, erlang_c, service_level, staff


def chain(n: int, load: Fraction, theta: Fraction, top: int) -> list[Fraction]:
    """Stationary distribution of the number in system (service rate 1, abandonment rate theta
    per waiting caller), truncated `top` states above n, in exact fractions."""
    weights = [Fraction(1)]
    for k in range(1, n + top + 1):
        weights.append(weights[-1] * load / (min(k, n) + max(k - n, 0) * theta))
    total = sum(weights)
    return [w / total for w in weights]


def answered_within(ahead: int, n: int, theta: Fraction, t: Fraction) -> Decimal:
    """P(a caller finding `ahead` callers waiting is answered within t): the caller's own chain
    (callers ahead leave at n + i theta, the caller hangs up at theta), uniformised."""
    with localcontext() as ctx:
        ctx.prec = 60
        rate = {i: Decimal(n) + i * Decimal(theta.numerator) / theta.denominator for i in range(ahead + 1)}
        hang_up = Decimal(theta.numerator) / theta.denominator
        top = max(rate.values()) + hang_up
        lt = top * Decimal(t.numerator) / t.denominator
        p = {i: Decimal(0) for i in range(ahead + 1)}
        p[ahead] = Decimal(1)
        served, weight, seen, total, k = Decimal(0), (-lt).exp(), Decimal(0), Decimal(0), 0
        while not (k > lt and 1 - seen < Decimal("1e-40")):
            total += weight * served
            seen += weight
            moved = {i: v * (1 - (rate[i] + hang_up) / top) for i, v in p.items()}
            for i, v in p.items():
                if i == 0:
                    served += v * rate[0] / top
                else:
                    moved[i - 1] += v * rate[i] / top
            p, k = moved, k + 1
            weight = weight * lt / k
        return total


def exact(n: int, load: Fraction, patience: Fraction, t: Fraction, top: int = 150) -> dict[str, float]:
    """Times in AHTs. P(wait) = P(all busy) (arrivals see time averages), P(abandon) =
    theta E[queue] / lambda, service level = no wait + sum_j P(j waiting) P(answered within t | j)."""
    theta = 1 / patience
    pi = chain(n, load, theta, top)
    p_wait = sum(pi[n:])
    p_ab = theta * sum((k - n) * pi[k] for k in range(n, len(pi))) / load
    tail = sum(Fraction(answered_within(j, n, theta, t)) * pi[n + j]
               for j in range(top) if pi[n + j] > Fraction(1, 10 ** 25))
    return {"p_wait": float(p_wait), "p_abandon": float(p_ab), "service_level": float(1 - p_wait + tail)}


@pytest.mark.parametrize("n, load, patience, within", [
    (1, Fraction(1, 2), Fraction(50, 9), Fraction(1, 18)),  # one agent, patient callers
    (3, Fraction(5, 2), Fraction(2, 3), Fraction(1, 9)),  # the series side (x < a + 1)
    (5, Fraction(8), Fraction(5, 3), Fraction(1, 6)),  # fewer agents than the load: the fraction side
    (10, Fraction(8), Fraction(5, 3), Fraction(1, 9)),
    (12, Fraction(15), Fraction(1, 4), Fraction(1, 3)),  # impatient callers, understaffed
])
def test_erlang_a_equals_the_birth_death_chain_exactly(n: int, load: Fraction, patience: Fraction,
                                                       within: Fraction) -> None:
    want = exact(n, load, patience, within)
    aht = 180.0
    got = erlang_a(n, float(load), aht, float(patience) * aht, float(within) * aht)
    assert got.p_wait == pytest.approx(want["p_wait"], rel=1e-11)
    assert got.p_abandon == pytest.approx(want["p_abandon"], rel=1e-10)
    assert got.service_level == pytest.approx(want["service_level"], rel=1e-10)
    # Little's law: the mean wait of all offered calls is E[queue] / lambda = P(abandon) x patience
    assert got.asa_s == pytest.approx(want["p_abandon"] * float(patience) * aht, rel=1e-10)
    assert got.occupancy == pytest.approx(float(load) * (1 - want["p_abandon"]) / n, rel=1e-10)


def poisson_tail(load: float, n: int) -> tuple[float, float]:
    """P(X >= n) and E[(X - n)+] for X ~ Poisson(load), summed exactly in fractions."""
    a = Fraction(load)
    pmf = [Fraction(1)]
    for k in range(1, n + 400):
        pmf.append(pmf[-1] * a / k)
    total = sum(pmf)
    return float(sum(pmf[n:]) / total), float(sum((k - n) * p for k, p in enumerate(pmf) if k >= n) / total)


@pytest.mark.parametrize("n, load", [(5, 4.0), (20, 22.5), (100, 95.0)])
def test_patience_equal_to_the_handle_time_is_the_infinite_server_queue(n: int, load: float) -> None:
    # Mandelbaum & Zeltyn (2007), Palm/Erlang-A, section on theta = mu: when callers hang up at
    # the rate agents finish, everyone in the system leaves at the same rate, as in M/M/inf:
    # the number in system is Poisson(load), so P(wait) = P(X >= n) and P(abandon) = E[(X-n)+]/load
    p_wait, excess = poisson_tail(load, n)
    got = erlang_a(n, load, 240, 240)
    assert got.p_wait == pytest.approx(p_wait, rel=1e-10)
    assert got.p_abandon == pytest.approx(excess / load, rel=1e-10)


@pytest.mark.parametrize("n, load", [(14, 10.0), (8, 4.5), (320, 300.0)])
def test_endless_patience_is_erlang_c_and_none_is_erlang_b(n: int, load: float) -> None:
    aht = 180.0
    patient = erlang_a(n, load, aht, 1e7 * aht)
    assert patient.p_wait == pytest.approx(erlang_c(n, load), rel=1e-5)
    assert patient.service_level == pytest.approx(service_level(n, load, aht, 20), rel=1e-5)
    assert patient.asa_s == pytest.approx(erlang_c(n, load) * aht / (n - load), rel=1e-4)
    assert patient.p_abandon < 1e-6
    # callers hanging up at once: nobody waits, Erlang B's blocked calls are the abandons
    hasty = erlang_a(n, load, aht, 1e-9 * aht)
    assert hasty.p_abandon == pytest.approx(erlang_b(n, load), rel=1e-5)
    assert hasty.service_level == pytest.approx(1 - erlang_b(n, load), rel=1e-5)


def simulate(n: int, load: float, patience: float, within: float, calls: int, seed: int) -> dict[str, list[float]]:
    """FCFS M/M/n+M in AHTs: each caller takes the earliest free agent unless the wait exceeds
    their patience (a caller who hangs up takes no agent). 20 batch means per measure."""
    rng = random.Random(seed)
    free = [0.0] * n
    clock = 0.0
    per_batch = calls // 20
    out: dict[str, list[float]] = {"p_wait": [], "p_abandon": [], "service_level": []}
    waited = abandoned = within_t = 0
    for i in range(1, calls + 1):
        clock += rng.expovariate(load)
        start = max(clock, free[0])
        wait = start - clock
        if wait > rng.expovariate(1 / patience):
            abandoned += 1
        else:
            heapq.heapreplace(free, start + rng.expovariate(1.0))
            within_t += wait <= within
        waited += wait > 0
        if i % per_batch == 0:
            for key, count in (("p_wait", waited), ("p_abandon", abandoned), ("service_level", within_t)):
                out[key].append(count / per_batch)
            waited = abandoned = within_t = 0
    return out


def test_a_simulation_agrees_within_its_standard_error() -> None:
    n, load, patience, within = 6, 6.2, 0.7, 0.1
    got = erlang_a(n, load, 1.0, patience, within)
    sim = simulate(n, load, patience, within, calls=400_000, seed=14)
    for key, batches in sim.items():
        mean = float(np.mean(batches[1:]))  # the first batch warms the queue up
        se = float(np.std(batches[1:], ddof=1) / math.sqrt(len(batches) - 1))
        assert abs(getattr(got, key) - mean) < 4 * se, (key, getattr(got, key), mean, se)


def test_thousands_of_agents_stay_finite_and_exact() -> None:
    # 1,667 Erlangs: G(a, x) is about e^900 and the factorial form overflows; the logs do not
    for n in (1200, 1500, 1667, 1700, 1800):
        m = erlang_a(n, 1666.7, 300, 200)
        assert all(math.isfinite(v) and 0 <= v for v in (m.p_wait, m.p_abandon, m.service_level, m.asa_s))
        assert 0 <= m.p_wait <= 1 and 0 <= m.service_level <= 1 and m.occupancy <= 1
    # more agents never hurt, across the load
    levels = [erlang_a(n, 1666.7, 300, 200) for n in range(1500, 1800, 25)]
    assert [m.service_level for m in levels] == sorted(m.service_level for m in levels)
    assert [m.p_abandon for m in levels] == sorted((m.p_abandon for m in levels), reverse=True)
    # and exact at a load fractions can still afford: 300 Erlangs on 290 agents
    want = exact(290, Fraction(300), Fraction(1, 2), Fraction(1, 9), top=400)
    got = erlang_a(290, 300.0, 180, 90, 20)
    assert got.p_wait == pytest.approx(want["p_wait"], rel=1e-9)
    assert got.p_abandon == pytest.approx(want["p_abandon"], rel=1e-9)


def test_staff_with_patience_uses_erlang_a() -> None:
    # the worked check (100 contacts / 30 min, AHT 180 s, 80/20) with callers patient for 2
    # minutes on average: 12 agents (Erlang C needs 14); 11 fall short
    s = staff(volume=100, interval_s=1800, aht_s=180, service_level=0.8, answer_within_s=20, shrinkage=0.3,
              patience_s=120)
    assert (s.model, s.agents, s.scheduled, s.patience_s) == ("erlang_a", 12, 18, 120)
    assert erlang_a(11, 10.0, 180, 120, 20).service_level < 0.8 <= erlang_a(12, 10.0, 180, 120, 20).service_level
    assert s.p_abandon == pytest.approx(erlang_a(12, 10.0, 180, 120, 20).p_abandon)
    assert staff(volume=100, interval_s=1800, aht_s=180).p_abandon is None
    assert staff(volume=100, interval_s=1800, aht_s=180).model == "erlang_c"
    # Miller's P(wait) <= 0.5 staffing, with patient callers, comes back to Erlang C's
    assert staff(volume=203.5, interval_s=3600, aht_s=240, service_level=None, max_p_wait=0.5,
                 patience_s=1e8).agents == 16


@settings(max_examples=100, deadline=None)
@given(volume=st.floats(0.5, 3000), aht=st.floats(30, 900), patience=st.floats(5, 1200),
       level=st.floats(0.5, 0.95), within=st.floats(1, 60))
def test_the_erlang_a_answer_is_the_smallest_meeting_the_target(volume: float, aht: float, patience: float,
                                                                level: float, within: float) -> None:
    s = staff(volume=volume, interval_s=1800, aht_s=aht, service_level=level, answer_within_s=within,
              patience_s=patience)
    assert erlang_a(s.agents, s.traffic, aht, patience, within).service_level >= level
    if s.agents > 1:
        assert erlang_a(s.agents - 1, s.traffic, aht, patience, within).service_level < level
    more = [erlang_a(n, s.traffic, aht, patience, within) for n in range(max(s.agents - 3, 1), s.agents + 4)]
    assert [m.service_level for m in more] == sorted(m.service_level for m in more)
    assert [m.p_wait for m in more] == sorted((m.p_wait for m in more), reverse=True)
    assert all(0 <= m.p_abandon <= m.p_wait <= 1 and m.occupancy <= 1 for m in more)


def test_bad_patience_says_what_to_fix() -> None:
    with pytest.raises(UserError, match="patience"):
        staff(volume=100, interval_s=1800, aht_s=180, patience_s=0)
    with pytest.raises(UserError, match="patience"):
        erlang_a(10, 8.0, 180, -5)


def test_cli_patience() -> None:
    runner = CliRunner()
    done = runner.invoke(main, ["staffing", "--volume", "100", "--aht", "180", "--patience", "2m", "--format", "json"])
    assert done.exit_code == 0, done.output
    found = json.loads(done.output)
    assert (found["agents"], found["model"], round(found["p_abandon"], 3)) == (12, "erlang_a", 0.062)
    table = runner.invoke(main, ["staffing", "--volume", "100", "--aht", "180", "--patience", "120"])
    assert table.exit_code == 0 and "abandon" in table.output and "Erlang A" in table.output
    bad = runner.invoke(main, ["staffing", "--volume", "100", "--aht", "180", "--patience", "soon"])
    assert bad.exit_code == 1 and "UserError" in bad.output and "soon" in bad.output
