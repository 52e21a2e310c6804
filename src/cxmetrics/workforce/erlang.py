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

>>> s = staff(volume=100, interval_s=1800, aht_s=180, service_level=0.8, answer_within_s=20, shrinkage=0.3)
>>> s.agents, round(s.service_level, 3), round(s.p_wait, 3), round(s.occupancy, 3), s.scheduled
(14, 0.888, 0.174, 0.714, 20)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from cxmetrics.errors import UserError

__all__ = ["Staffing", "asa", "erlang_b", "erlang_c", "service_level", "staff", "traffic"]

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
class Staffing:
    """The agents one interval needs (`agents`, on the phones) and schedules (`scheduled`, after
    shrinkage), with what they achieve: service level, P(wait), ASA (seconds), occupancy."""

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
          max_occupancy: float | None = None, shrinkage: float = 0.0) -> Staffing:
    """The smallest number of agents meeting every target given (a service level: the share
    answered within `answer_within_s`; a maximum P(wait); a maximum occupancy), then scheduled
    after `shrinkage`. No contacts need no agents."""
    _check(volume, interval_s, aht_s, service_level, answer_within_s, max_p_wait, max_occupancy, shrinkage)
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
