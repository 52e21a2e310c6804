"""How many agents an interval needs: Erlang C (docs/workforce.md, METRICS.md `staffing`).

Contacts arrive at random (Poisson) at `volume` per interval, each takes `aht_s` seconds of an
agent, and nobody hangs up. The traffic is A = volume x aht / interval (in Erlangs: agents kept
busy on average). With N agents (N > A) the probability that a contact waits is Erlang C:

    C(N, A) = N B(N, A) / (N - A (1 - B(N, A))),

where B is Erlang B, computed by its recursion B(0) = 1, B(n) = A B(n-1) / (n + A B(n-1)): every
step stays in [0, 1], so it is stable at thousands of agents, where the factorial form overflows.
Then the service level (share answered within t seconds) is 1 - C e^(-(N - A) t / aht), the mean
wait (ASA) C aht / (N - A), and the occupancy A / N. The agents needed are the smallest N meeting
every target; shrinkage (breaks, training, absence) then scales them up: N / (1 - shrinkage),
rounded up.

With customer patience (`patience_s`, the mean time a caller waits before hanging up, taken
as exponential), `staff` uses Erlang A (M/M/N+M, `erlang_a`): callers who hang up free the
queue for the others, so fewer agents reach the same service level, and the abandonment rate
is predicted too. The service level then counts over ALL offered calls (an abandoned call is a
miss), as the `service_level` metric does.

>>> s = staff(volume=100, interval_s=1800, aht_s=180, service_level=0.8, answer_within_s=20, shrinkage=0.3)
>>> s.agents, round(s.service_level, 3), round(s.p_wait, 3), round(s.occupancy, 3), s.scheduled
(14, 0.888, 0.174, 0.714, 20)
>>> a = staff(volume=100, interval_s=1800, aht_s=180, patience_s=120)
>>> a.model, a.agents, round(a.service_level, 3), round(a.p_abandon, 3)
('erlang_a', 12, 0.826, 0.062)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from cxmetrics.errors import UserError
from cxmetrics.workforce import _queues

__all__ = ["ErlangA", "Staffing", "asa", "erlang_a", "erlang_b", "erlang_c", "service_level", "staff", "traffic"]

_MAX_AGENTS = 1_000_000  # far beyond any interval's need: a guard against a runaway search


def traffic(volume: float, interval_s: float, aht_s: float) -> float:
    """Offered load in Erlangs: the agents kept busy on average."""
    return volume * aht_s / interval_s


def erlang_b(agents: int, load: float) -> float:
    """Erlang B: the probability that all `agents` are busy when nobody may wait (the recursion)."""
    b = 1.0
    for n in range(1, agents + 1):
        b = load * b / (n + load * b)
    return b


def _c_from_b(agents: int, load: float, b: float) -> float:
    if agents <= load:
        return 1.0  # the queue grows without bound: everyone waits
    return agents * b / (agents - load * (1.0 - b))


def erlang_c(agents: int, load: float) -> float:
    """Erlang C: the probability that a contact waits (1 when agents <= load: the queue never empties).

    >>> round(erlang_c(14, 10.0), 4)
    0.1741
    """
    if load <= 0:
        return 0.0
    return _c_from_b(agents, load, erlang_b(agents, load))


def service_level(agents: int, load: float, aht_s: float, answer_within_s: float) -> float:
    """Share of contacts answered within `answer_within_s` seconds."""
    if load <= 0:
        return 1.0
    if agents <= load:
        return 0.0
    c = erlang_c(agents, load)
    return 1.0 - c * math.exp(-(agents - load) * answer_within_s / aht_s)


def asa(agents: int, load: float, aht_s: float) -> float:
    """Average speed of answer (mean wait over all contacts), in seconds; inf when agents <= load."""
    if load <= 0:
        return 0.0
    if agents <= load:
        return math.inf
    return erlang_c(agents, load) * aht_s / (agents - load)


@dataclass(frozen=True)
class ErlangA:
    """What `agents` achieve under Erlang A: P(wait), P(abandon), the service level over all
    offered calls, ASA (mean wait of all offered calls, answered or abandoned, in seconds) and
    occupancy (busy agents / agents: below load / agents, as abandoned calls take no handling)."""

    p_wait: float
    p_abandon: float
    service_level: float
    asa_s: float
    occupancy: float


def erlang_a(agents: int, load: float, aht_s: float, patience_s: float, answer_within_s: float = 20.0) -> ErlangA:
    """Erlang A (M/M/N+M): `load` Erlangs on `agents`, callers hanging up after an exponential
    patience of mean `patience_s` (docs/workforce.md). Stable for any N, above or below the load.

    >>> m = erlang_a(14, 10.0, 180, 120)
    >>> round(m.p_wait, 3), round(m.p_abandon, 4), round(m.service_level, 3)
    (0.127, 0.0228, 0.933)
    """
    if patience_s <= 0 or not math.isfinite(patience_s):
        raise UserError(f"patience {patience_s} must be more than 0 seconds (the mean wait before hanging up).")
    if aht_s <= 0:
        raise UserError(f"the handle time (AHT) must be more than 0 seconds, got {aht_s}.")
    m = _queues.erlang_a(np.array([agents]), np.array([float(load)]), np.array([patience_s / aht_s]),
                         np.array([answer_within_s / aht_s]))
    return ErlangA(float(m["p_wait"][0]), float(m["p_abandon"][0]), float(m["service_level"][0]),
                   float(m["asa"][0]) * aht_s, float(m["occupancy"][0]))


@dataclass(frozen=True)
class Staffing:
    """The agents one interval needs (`agents`, on the phones) and schedules (`scheduled`, after
    shrinkage), with what they achieve: service level, P(wait), ASA (seconds), occupancy; under
    Erlang A (`model` "erlang_a", with `patience_s`) also P(abandon), None under Erlang C."""

    volume: float
    interval_s: float
    aht_s: float
    traffic: float
    agents: int
    scheduled: int
    service_level: float
    p_wait: float
    asa_s: float
    occupancy: float
    shrinkage: float
    p_abandon: float | None = None
    model: str = "erlang_c"
    patience_s: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check(volume: float, interval_s: float, aht_s: float, service_level: float | None,
           answer_within_s: float | None, max_p_wait: float | None, max_occupancy: float | None,
           shrinkage: float) -> None:
    if volume < 0 or not math.isfinite(volume):
        raise UserError(f"volume {volume} must be 0 or more contacts per interval.")
    if interval_s <= 0:
        raise UserError(f"the interval must be longer than 0 seconds, got {interval_s}.")
    if aht_s <= 0 or not math.isfinite(aht_s):
        raise UserError(f"the handle time (AHT) must be more than 0 seconds, got {aht_s}.")
    if service_level is not None and not 0 < service_level < 1:
        raise UserError(f"the service-level target {service_level:g} must be between 0 and 1 (80% is 0.8), "
                        "exclusive: 100% is never reached with random arrivals.")
    if service_level is not None and (answer_within_s is None or answer_within_s < 0):
        raise UserError("a service-level target needs its answer time in seconds, e.g. 80/20.")
    if max_p_wait is not None and not 0 < max_p_wait <= 1:
        raise UserError(f"the P(wait) target {max_p_wait:g} must be in (0, 1].")
    if max_occupancy is not None and not 0 < max_occupancy <= 1:
        raise UserError(f"the maximum occupancy {max_occupancy:g} must be in (0, 1] (85% is 0.85).")
    if not 0 <= shrinkage < 1:
        raise UserError(f"shrinkage {shrinkage:g} must be at least 0 and below 1 (30% is 0.3).")
    if service_level is None and max_p_wait is None and max_occupancy is None:
        raise UserError("give a target: a service level (e.g. 80/20), a maximum P(wait), or a maximum occupancy.")


def staff(volume: float, interval_s: float, aht_s: float, *, service_level: float | None = 0.8,
          answer_within_s: float | None = 20.0, max_p_wait: float | None = None,
          max_occupancy: float | None = None, shrinkage: float = 0.0,
          patience_s: float | None = None) -> Staffing:
    """The smallest number of agents meeting every target given (a service level: the share
    answered within `answer_within_s`; a maximum P(wait); a maximum occupancy), then scheduled
    after `shrinkage`. No contacts need no agents. With `patience_s` (mean seconds a caller
    waits before hanging up), by Erlang A, else Erlang C."""
    _check(volume, interval_s, aht_s, service_level, answer_within_s, max_p_wait, max_occupancy, shrinkage)
    if patience_s is not None:
        return _staff_erlang_a(volume, interval_s, aht_s, service_level, answer_within_s, max_p_wait,
                               max_occupancy, shrinkage, patience_s)
    load = traffic(volume, interval_s, aht_s)
    if load == 0:
        return Staffing(volume, interval_s, aht_s, 0.0, 0, 0, 1.0, 0.0, 0.0, 0.0, shrinkage)
    # B(n) for n up to the first candidate (floor(load) + 1, the fewest that ever empty the queue),
    # then one recursion step per candidate: the search costs O(N) in all
    n = math.floor(load) + 1
    b = erlang_b(n, load)
    while True:
        c = _c_from_b(n, load, b)
        sl = 1.0 - c * math.exp(-(n - load) * (answer_within_s or 0.0) / aht_s)
        met = ((service_level is None or sl >= service_level)
               and (max_p_wait is None or c <= max_p_wait)
               and (max_occupancy is None or load / n <= max_occupancy))
        if met:
            break
        if n >= _MAX_AGENTS:
            raise UserError(f"more than {_MAX_AGENTS:,} agents would be needed: check the volume and the AHT.")
        n += 1
        b = load * b / (n + load * b)
    scheduled = math.ceil(n / (1.0 - shrinkage) - 1e-9)
    return Staffing(volume, interval_s, aht_s, load, n, scheduled, sl, c, c * aht_s / (n - load), load / n,
                    shrinkage)


def _staff_erlang_a(volume: float, interval_s: float, aht_s: float, service_level: float | None,
                    answer_within_s: float | None, max_p_wait: float | None, max_occupancy: float | None,
                    shrinkage: float, patience_s: float) -> Staffing:
    if patience_s <= 0 or not math.isfinite(patience_s):
        raise UserError(f"patience {patience_s:g} must be more than 0 seconds (the mean wait before hanging up); "
                        "leave it out for Erlang C (nobody hangs up).")
    load = traffic(volume, interval_s, aht_s)
    try:
        found, m = _queues.smallest_agents(
            np.array([load]), (answer_within_s or 0.0) / aht_s, np.array([patience_s / aht_s]),
            service_level=service_level, max_p_wait=max_p_wait, max_occupancy=max_occupancy, limit=_MAX_AGENTS)
    except OverflowError:
        raise UserError(f"more than {_MAX_AGENTS:,} agents would be needed: check the volume and the AHT.") from None
    n = int(found[0])
    scheduled = math.ceil(n / (1.0 - shrinkage) - 1e-9)
    return Staffing(volume, interval_s, aht_s, load, n, scheduled, float(m["service_level"][0]),
                    float(m["p_wait"][0]), float(m["asa"][0]) * aht_s, float(m["occupancy"][0]), shrinkage,
                    p_abandon=float(m["p_abandon"][0]), model="erlang_a", patience_s=patience_s)
