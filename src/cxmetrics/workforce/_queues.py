"""The queue formulas over arrays: Erlang C and Erlang A (M/M/N+M) for many intervals at once.

Everything takes numpy arrays of agents `n`, traffic `load` (Erlangs), and, for Erlang A, the
mean patience over the AHT (`patience`, in AHTs), and returns arrays: the plan staffs tens of
thousands of intervals in one pass, and the scalar `staff` calls the same code with one.

Erlang A (Palm; Mandelbaum & Zeltyn, "The Palm/Erlang-A queue, with applications to call
centers", 2007): calls arrive at rate lambda, take exp(mu) to serve, and a waiting caller hangs
up after an exponential patience of mean 1/theta. Measured in AHTs (mu = 1), a = n / theta and
x = load / theta, and with B = Erlang B(n, load) and G(b, z) = sum_j z^j / ((b+1)...(b+j))
(the chain's queue states relative to "all busy"; Kummer's M(1, b+1, z)):

    P(wait)            = B G(a, x) / (1 - B + B G(a, x))
    P(abandon | wait)  = 1 / (rho G(a, x)) + 1 - 1 / rho,          rho = load / n
    P(answered within t | wait) = a / (a+1) [G(a+1, x) - e^(x - y) (y/x)^(a+1) G(a+1, y)] / G(a, x),
                                  y = x e^(-theta t)

G is kept in log space (its series below z = b+1, Legendre's continued fraction for the upper
incomplete gamma above), so nothing overflows at thousands of agents, and B comes from its
recursion, every step in [0, 1]: no factorial anywhere.
"""

from __future__ import annotations

import math

import numpy as np

_EPS = 1e-16
_TINY = 1e-300
_MAX_TERMS = 200_000  # the series and fraction converge in O(sqrt(b)) terms: a guard only
_lgamma = np.frompyfunc(math.lgamma, 1, 1)


def lgamma(values: np.ndarray) -> np.ndarray:
    """log Gamma, element-wise (numpy has none; math.lgamma is exact to the last bits)."""
    return np.asarray(_lgamma(values), dtype=float)


def erlang_b(n: np.ndarray, load: np.ndarray) -> np.ndarray:
    """Erlang B(n, load) element-wise, by the recursion B(k) = A B(k-1) / (k + A B(k-1))."""
    n = np.asarray(n, dtype=np.int64)
    load = np.asarray(load, dtype=float)
    b = np.ones(np.broadcast(n, load).shape)
    top = int(n.max(initial=0))
    for k in range(1, top + 1):
        step = n >= k
        b = np.where(step, load * b / (k + load * b), b)
    return b


def _log_series(b: np.ndarray, z: np.ndarray) -> np.ndarray:
    """log sum_j z^j / ((b+1)...(b+j)) by its terms (fast while z < b + 1)."""
    total = np.ones_like(z)
    term = np.ones_like(z)
    live = np.arange(z.size)
    for j in range(1, _MAX_TERMS):
        term[live] *= z[live] / (b[live] + j)
        total[live] += term[live]
        # the ratios of later terms fall below r = z / (b + j + 1) < 1, so what is left is at
        # most term r / (1 - r): stop once that cannot move the sum
        r = z[live] / (b[live] + j + 1)
        live = live[term[live] * r > _EPS * total[live] * (1 - r)]
        if live.size == 0:
            break
    return np.log(total)


def _log_fraction(b: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The same for z >= b + 1: G = Gamma(b+1) e^z z^-b P(b, z), with Q = 1 - P from
    Legendre's continued fraction (modified Lentz, as in Numerical Recipes' gcf)."""
    c = np.full_like(z, 1 / _TINY)
    den = z + 1 - b
    d = 1 / den
    h = d.copy()
    live = np.arange(z.size)
    for i in range(1, _MAX_TERMS):
        an = -i * (i - b[live])
        den[live] += 2
        d[live] = an * d[live] + den[live]
        d[live] = np.where(np.abs(d[live]) < _TINY, _TINY, d[live])
        c[live] = den[live] + an / c[live]
        c[live] = np.where(np.abs(c[live]) < _TINY, _TINY, c[live])
        d[live] = 1 / d[live]
        delta = d[live] * c[live]
        h[live] *= delta
        live = live[np.abs(delta - 1) > _EPS]
        if live.size == 0:
            break
    log_q = -z + b * np.log(z) - lgamma(b) + np.log(h)
    return lgamma(b + 1) + z - b * np.log(z) + np.log1p(-np.exp(log_q))


def log_g(b: np.ndarray, z: np.ndarray) -> np.ndarray:
    """log G(b, z) = log sum_{j>=0} z^j / ((b+1)(b+2)...(b+j)), for b >= 0, z >= 0."""
    b, z = np.broadcast_arrays(np.asarray(b, dtype=float), np.asarray(z, dtype=float))
    out = np.zeros(b.shape)
    low = z < b + 1
    if low.any():
        out[low] = _log_series(b[low], z[low])
    high = ~low & (z > 0)
    if high.any():
        out[high] = _log_fraction(b[high], z[high])
    return out


def erlang_c(n: np.ndarray, load: np.ndarray, within: np.ndarray) -> dict[str, np.ndarray]:
    """Erlang C per element: P(wait), service level within `within` AHTs, ASA in AHTs, occupancy.
    n <= load: everyone waits, nobody within any time, an unbounded wait."""
    n = np.asarray(n, dtype=np.int64)
    load = np.asarray(load, dtype=float)
    b = erlang_b(n, load)
    stable = n > load
    gap = np.where(stable, n - load, 1.0)
    c = np.where(stable, n * b / np.where(stable, n - load * (1 - b), 1.0), 1.0)
    c = np.where(load > 0, c, 0.0)
    sl = np.where(stable, 1 - c * np.exp(-gap * within), 0.0)
    asa = np.where(stable, c / gap, np.inf)
    occupancy = np.where(n > 0, load / np.maximum(n, 1), 0.0)
    return {"p_wait": c, "service_level": np.where(load > 0, sl, 1.0), "asa": np.where(load > 0, asa, 0.0),
            "occupancy": np.minimum(occupancy, 1.0), "p_abandon": np.zeros_like(c)}


def erlang_a(n: np.ndarray, load: np.ndarray, patience: np.ndarray, within: np.ndarray) -> dict[str, np.ndarray]:
    """Erlang A per element (times in AHTs): P(wait), P(abandon), the service level (answered
    within `within` over ALL offered: an abandoned call is a miss), ASA (the mean wait of all
    offered calls, answered or not: P(abandon) x patience by Little's law) and occupancy
    (busy agents / n = load (1 - P(abandon)) / n). With no agents every caller waits and hangs up."""
    n, load, patience, within = np.broadcast_arrays(
        np.asarray(n, dtype=np.int64), np.asarray(load, dtype=float),
        np.asarray(patience, dtype=float), np.asarray(within, dtype=float))
    out = {k: np.zeros(n.shape) for k in ("p_wait", "p_abandon", "service_level", "asa", "occupancy")}
    out["service_level"][:] = 1.0
    busy = (load > 0) & (n > 0)
    nobody = (load > 0) & (n == 0)
    out["p_wait"][nobody], out["p_abandon"][nobody] = 1.0, 1.0
    out["service_level"][nobody], out["asa"][nobody] = 0.0, patience[nobody]
    if not busy.any():
        return out
    nn, aa, pp, tt = n[busy].astype(float), load[busy], patience[busy], within[busy]
    a, x = nn * pp, aa * pp  # n / theta and lambda / theta with mu = 1, theta = 1 / patience
    b = erlang_b(n[busy], aa)
    lg = log_g(a, x)
    # P(wait) = B G / (1 - B + B G) = 1 / (1 + (1 - B) / (B G)), in logs (G may be e^1000)
    with np.errstate(divide="ignore"):
        ratio = np.exp(np.log1p(-b) - np.log(b) - lg)
    p_wait = 1 / (1 + ratio)
    rho = aa / nn
    ab_given_wait = np.clip(np.exp(-lg) / rho + 1 - 1 / rho, 0.0, 1.0)
    p_ab = p_wait * ab_given_wait
    # answered within t, given a wait: a/(a+1) [G(a+1,x) - F G(a+1,y)] / G(a,x)
    theta_t = tt / pp
    y = x * np.exp(-theta_t)
    lg1x = log_g(a + 1, x)
    lg1y = log_g(a + 1, y)
    log_f = x * -np.expm1(-theta_t) - (a + 1) * theta_t
    within_given_wait = a / (a + 1) * np.exp(lg1x - lg) * -np.expm1(np.minimum(log_f + lg1y - lg1x, 0.0))
    out["p_wait"][busy] = p_wait
    out["p_abandon"][busy] = p_ab
    out["service_level"][busy] = np.clip(1 - p_wait + p_wait * within_given_wait, 0.0, 1.0)
    out["asa"][busy] = p_ab * pp
    out["occupancy"][busy] = np.minimum(aa * (1 - p_ab) / nn, 1.0)
    return out


def smallest_agents(load: np.ndarray, within: np.ndarray, patience: np.ndarray | None, *,
                    service_level: float | None, max_p_wait: float | None, max_occupancy: float | None,
                    limit: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The fewest agents meeting every target given, per element, and what they achieve (times in
    AHTs; `patience` None: Erlang C, else Erlang A). Every measure improves with more agents, so
    a bisection between a count known to fall short and one known to meet the targets finds it:
    O(log N) evaluations of the whole array, however large the traffic."""
    load = np.asarray(load, dtype=float)
    within = np.broadcast_to(np.asarray(within, dtype=float), load.shape)
    if patience is not None:
        patience = np.broadcast_to(np.asarray(patience, dtype=float), load.shape)

    def measure(n: np.ndarray, idx: np.ndarray) -> dict[str, np.ndarray]:
        if patience is None:
            return erlang_c(n, load[idx], within[idx])
        return erlang_a(n, load[idx], patience[idx], within[idx])

    def met(n: np.ndarray, idx: np.ndarray) -> np.ndarray:
        m = measure(n, idx)
        ok = (n > 0) | (load[idx] <= 0)
        if patience is None:
            ok &= (n > load[idx]) | (load[idx] <= 0)
        if service_level is not None:
            ok &= m["service_level"] >= service_level
        if max_p_wait is not None:
            ok &= m["p_wait"] <= max_p_wait
        if max_occupancy is not None:
            ok &= m["occupancy"] <= max_occupancy
        return ok

    # below `lo` every target cannot hold: Erlang C needs n > load; with abandonment the agents
    # answering a share s of the calls are busy load x s on average, fewer than n
    if patience is None:
        lo = np.floor(load).astype(np.int64)
    else:
        floor_share = max(service_level or 0.0, 1 - max_p_wait if max_p_wait is not None else 0.0)
        lo = np.maximum(np.floor(load * floor_share).astype(np.int64) - 1, 0)
    lo = np.where(load > 0, lo, -1)
    hi = np.maximum(np.ceil(load + 2 * np.sqrt(load) + 1).astype(np.int64), lo + 1)
    idx = np.arange(load.size)
    while idx.size:
        fine = met(hi[idx], idx)
        lo[idx[~fine]] = hi[idx[~fine]]
        idx = idx[~fine]
        if idx.size and hi[idx].max() >= limit:
            raise OverflowError(limit)
        hi[idx] = np.minimum(2 * hi[idx] + 1, limit)
    idx = np.flatnonzero(hi - lo > 1)
    while idx.size:
        mid = (lo[idx] + hi[idx]) // 2
        fine = met(mid, idx)
        hi[idx[fine]] = mid[fine]
        lo[idx[~fine]] = mid[~fine]
        idx = idx[hi[idx] - lo[idx] > 1]
    return hi, measure(hi, np.arange(load.size))
