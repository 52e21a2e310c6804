"""Uncertainty: score intervals for proportions (Wilson) and NPS, Student t intervals for
means, order-statistic intervals for quantiles, and tests of change between periods whose
interval and p-value come from one method (docs/statistics.md).

>>> lo, hi = wilson(74, 107)
>>> round(lo, 4), round(hi, 4)
(0.5987, 0.7712)
>>> [round(x, 1) for x in nps_interval(1, 0, 1)]  # one promoter: +100, but the interval is wide
[100.0, -58.7, 100.0]
>>> round(t_quantile(0.975, 9), 4)  # the t table's 2.2622
2.2622
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

Z95 = 1.959963984540054
ALPHA = 0.05
#: Below this n a rate, score or duration is not shown as a headline at all (the dashboard
#: tiles show the reason instead); from it up to the metric's min_n it carries the
#: small-sample badge. At n = 10 a Wilson interval is still about 50 points wide.
HEADLINE_MIN_N = 10
# Quantile offsets computed next to each median/p90, from which an interval of the
# right width for any n is read by interpolation (one pass, no per-group sort).
QUANTILE_OFFSETS = (0.0, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3)


def _z_p(z: float) -> float:
    """Two-sided normal p-value of a z statistic."""
    return math.erfc(abs(z) / math.sqrt(2))


def wilson(k: int, n: int, z: float = Z95) -> tuple[float | None, float | None]:
    """Wilson score interval for k successes in n trials (as proportions)."""
    if n <= 0:
        return None, None
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # at k = 0 (or n) the bound is exactly 0 (or 1); rounding would leave 1e-15
    return 0.0 if k == 0 else max(0.0, centre - half), 1.0 if k == n else min(1.0, centre + half)


# -- NPS: a score interval for the three-way split ------------------------------------------


def _xlogy(x: float, y: float) -> float:
    return 0.0 if x == 0 else (-math.inf if y <= 0 else x * math.log(y))


def _nps_variance(promoters: int, detractors: int, n: int, theta: float) -> float:
    """The variance of one +1/0/-1 score at the multinomial's maximum likelihood under the
    constraint p - d = theta (as Wilson's interval takes it for one proportion): the score
    test's variance, never zero at small n unlike the plug-in (Wald) one."""
    others = n - promoters - detractors
    # d log L / dp = 0 under d = p - theta is the quadratic 2n p^2 - b p - c = 0
    b = promoters * (1 + 3 * theta) + detractors * (1 + theta) + 2 * others * theta
    c = -promoters * theta * (1 + theta)
    lo, hi = max(0.0, theta), (1 + theta) / 2
    candidates = [lo, hi]
    disc = b * b + 8 * n * c
    if disc >= 0:
        candidates += [min(hi, max(lo, (b + s * math.sqrt(disc)) / (4 * n))) for s in (1, -1)]

    def loglik(p: float) -> float:
        return _xlogy(promoters, p) + _xlogy(detractors, p - theta) + _xlogy(others, 1 - 2 * p + theta)

    p = max(candidates, key=loglik)
    return max(0.0, 2 * p - theta - theta * theta)  # p + d - (p - d)^2


def _boundary(value: Callable[[float], float], inside: float, outside: float, tol: float = 1e-12) -> float:
    """The point where a continuous `value` crosses 0 between `inside` (value > 0) and
    `outside` (value <= 0), by false position (Illinois) safeguarded with bisection. Returns
    the last point found inside, so the answer is always on the inside (value > 0)."""
    fi, fo = value(inside), value(outside)
    side = 0
    for _ in range(200):
        if abs(outside - inside) <= tol:
            break
        x = outside - fo * (outside - inside) / (fo - fi) if fo != fi else (inside + outside) / 2
        if not min(inside, outside) < x < max(inside, outside):
            x = (inside + outside) / 2
        fx = value(x)
        if fx > 0:
            inside, fi = x, fx
            if side == 1:  # the same end moved twice: halve the stale end's weight (Illinois)
                fo /= 2
            side = 1
        else:
            outside, fo = x, fx
            if side == -1:
                fi /= 2
            side = -1
    return inside


def nps_interval(promoters: int, detractors: int, n: int,
                 z: float = Z95) -> tuple[float | None, float | None, float | None]:
    """NPS in points with its score interval: every theta whose score statistic is at most
    z^2 (docs/statistics.md). Always contains the estimate; never zero-width for n >= 1."""
    if n <= 0:
        return None, None, None
    hat = (promoters - detractors) / n

    def room(theta: float) -> float:
        # > 0 inside: the score statistic n (hat - theta)^2 / var(theta) is below z^2 (written
        # without the division, so it stays finite where var is 0 at theta = -1 or +1)
        return z * math.sqrt(_nps_variance(promoters, detractors, n, theta)) - math.sqrt(n) * abs(hat - theta) + 1e-12

    lo = -1.0 if room(-1.0) > 0 else _boundary(room, hat, -1.0, 1e-14)
    hi = 1.0 if room(1.0) > 0 else _boundary(room, hat, 1.0, 1e-14)
    return 100 * hat, 100 * lo, 100 * hi


# -- Student t --------------------------------------------------------------------------------


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1 - x) / b


def t_p_value(t: float, df: float) -> float:
    """Two-sided p-value of a t statistic with df degrees of freedom."""
    if math.isinf(t):
        return 0.0
    return _betainc(df / 2, 0.5, df / (df + t * t))


@lru_cache(maxsize=65_536)
def t_quantile(q: float, df: float) -> float:
    """The q-quantile (q > 0.5) of Student's t with df degrees of freedom (kept: every mean's
    interval asks it, and the same degrees of freedom come back across groups and requests).

    From 1,000 degrees of freedom, the Cornish-Fisher expansion around the normal quantile
    (Abramowitz & Stegun 26.7.5), whose error falls as df^-5: below 1e-12 there, closer
    than the incomplete beta function can tell. Below, Newton's method on the exact
    distribution function from that expansion: two or three incomplete-beta evaluations,
    where finding the root by bracketing took about fifteen. Should Newton not settle (very
    few degrees of freedom, where the expansion starts far off), the bracketed root is
    the answer."""
    t = _cornish_fisher(q, df)
    if df >= 1000:
        return t
    target = 2 * (1 - q)
    log_density = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    for _ in range(20):
        if not t > 0 or not math.isfinite(t):
            break
        density = math.exp(log_density - (df + 1) / 2 * math.log1p(t * t / df))
        # F(t) - q = (1 - p(t) / 2) - q = (target - p(t)) / 2, with p the two-sided p-value
        step = (target - t_p_value(t, df)) / 2 / density
        t -= step
        if abs(step) <= 1e-13 * t:
            return t
    hi = 1.0
    while t_p_value(hi, df) > target:
        hi *= 2
    return _boundary(lambda t: t_p_value(t, df) - target, 0.0, hi)


def _cornish_fisher(q: float, df: float) -> float:
    """Student t's q-quantile approximated from the normal one (error O(df^-5))."""
    x = _normal_quantile(q)
    x2 = x * x
    g1 = (x2 + 1) * x / 4
    g2 = ((5 * x2 + 16) * x2 + 3) * x / 96
    g3 = (((3 * x2 + 19) * x2 + 17) * x2 - 15) * x / 384
    g4 = ((((79 * x2 + 776) * x2 + 1482) * x2 - 1920) * x2 - 945) * x / 92160
    return x + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df


def _normal_quantile(q: float) -> float:
    """The standard normal q-quantile (0 < q < 1): Newton on erfc from the rational
    approximation of Abramowitz & Stegun 26.2.23."""
    if q == 0.5:
        return 0.0
    x = math.sqrt(-2 * math.log(min(q, 1 - q)))
    x = x - (2.515517 + 0.802853 * x + 0.010328 * x * x) / (1 + 1.432788 * x + 0.189269 * x * x + 0.001308 * x ** 3)
    for _ in range(50):
        # upper tail at x minus the wanted one, over the density
        step = (0.5 * math.erfc(x / math.sqrt(2)) - min(q, 1 - q)) / (math.exp(-x * x / 2) / math.sqrt(2 * math.pi))
        x += step
        if abs(step) <= 1e-15 * max(1.0, abs(x)):
            break
    return x if q >= 0.5 else -x


def mean_interval(mean: float | None, sd: float | None, n: int, z: float = Z95) -> tuple[float | None, float | None]:
    """Student t interval for a mean (n - 1 degrees of freedom); none below n = 2."""
    if mean is None or n < 2 or sd is None:
        return None, None
    crit = t_quantile(1 - _normal_tail(z) / 2, n - 1)
    half = crit * sd / math.sqrt(n)
    return mean - half, mean + half


def _normal_tail(z: float) -> float:
    return math.erfc(z / math.sqrt(2))


# -- quantiles ----------------------------------------------------------------------------------


def quantile_grid(q: float) -> list[float]:
    """The quantile levels to compute for statistic q: q itself first, then q -/+ offsets."""
    levels = [q]
    for off in QUANTILE_OFFSETS[1:]:
        levels += [max(0.0, q - off), min(1.0, q + off)]
    return levels


def quantile_interval(q: float, n: int, values: Sequence[float], z: float = Z95) -> tuple[float | None, float | None]:
    """Distribution-free interval for the q-quantile: the order statistics at ranks
    n*q -/+ z*sqrt(n*q*(1-q)), read from the quantile function evaluated on the grid."""
    if n < 2 or not values or values[0] is None:
        return None, None
    delta = z * math.sqrt(q * (1 - q) / n)
    levels = quantile_grid(q)
    points = sorted(zip(levels, values, strict=True))

    def at(level: float) -> float:
        level = min(1.0, max(0.0, level))
        for (l0, v0), (l1, v1) in zip(points, points[1:]):
            if l0 <= level <= l1:
                return v0 if l1 == l0 else v0 + (v1 - v0) * (level - l0) / (l1 - l0)
        return points[0][1] if level < points[0][0] else points[-1][1]

    return at(q - delta), at(q + delta)


# -- changes: one method gives the interval and the p-value -----------------------------------


@dataclass(frozen=True)
class Change:
    """A change b - a with its 95% interval and p-value from the same method, so that
    `significant` (the interval excludes 0) and p < 0.05 always agree."""

    estimate: float
    low: float
    high: float
    p_value: float
    test: str

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0


Interval = Callable[[float], tuple[float, float]]


def mover(a: float, interval_a: Interval, b: float, interval_b: Interval, test: str) -> Change:
    """The difference b - a from each side's own interval (Newcombe's method 10, MOVER):
    L = d - sqrt((b - l_b)^2 + (u_a - a)^2), U = d + sqrt((u_b - b)^2 + (a - l_a)^2).
    Its p-value is the test this interval inverts: 2(1 - Phi(z*)) for the z* at which the
    (1 - p) interval's nearer bound just reaches 0."""
    d = b - a

    def bounds(z: float) -> tuple[float, float]:
        la, ua = interval_a(z)
        lb, ub = interval_b(z)
        return d - math.hypot(b - lb, ua - a), d + math.hypot(ub - b, a - la)

    low, high = bounds(Z95)
    if d == 0:
        return Change(d, low, high, 1.0, test)

    def margin(z: float) -> float:  # > 0 while the interval at z still excludes 0
        lo, hi = bounds(z)
        return lo if d > 0 else -hi

    if low > 0 or high < 0:  # significant: z* lies above Z95, so p < 0.05
        top = 2 * Z95
        while margin(top) > 0 and top < 64:
            top *= 2
        z_star = top if margin(top) > 0 else _boundary(margin, Z95, top, 1e-10)
    else:  # z* lies in (0, Z95], so p >= 0.05
        z_star = _boundary(margin, 0.0, Z95, 1e-10)
    return Change(d, low, high, _z_p(z_star), test)


def two_proportion_test(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, float, float]:
    """Difference p2 - p1 with its 95% Newcombe (Wilson MOVER) interval and the p-value of
    the same interval's inversion."""
    c = proportion_change(k1, n1, k2, n2)
    return c.estimate, c.low, c.high, c.p_value


def proportion_change(k1: int, n1: int, k2: int, n2: int) -> Change:
    """p2 - p1 (as proportions) by Newcombe's hybrid score method."""
    def side(k: int, n: int) -> Interval:
        return lambda z: wilson(k, n, z)  # type: ignore[return-value]

    return mover(k1 / n1, side(k1, n1), k2 / n2, side(k2, n2), "difference of proportions (Newcombe score)")


def nps_difference(a: tuple[int, int, int], b: tuple[int, int, int]) -> tuple[float, float, float, float]:
    """NPS(b) - NPS(a) in points, each (promoters, detractors, n), with interval and p-value."""
    c = nps_change(a, b)
    return c.estimate, c.low, c.high, c.p_value


def nps_change(a: tuple[int, int, int], b: tuple[int, int, int]) -> Change:
    """NPS(b) - NPS(a) in points from the two score intervals (MOVER)."""
    def side(p: int, d: int, n: int) -> Interval:
        return lambda z: nps_interval(p, d, n, z)[1:]  # type: ignore[return-value]

    return mover(100 * (a[0] - a[1]) / a[2], side(*a), 100 * (b[0] - b[1]) / b[2], side(*b),
                 "difference of NPS (score intervals, MOVER)")


def mean_change(a: tuple[float, float, int], b: tuple[float, float, int]) -> Change | None:
    """Mean(b) - mean(a), each (mean, sd, n): Welch's t interval and Welch's t-test, from the
    same t statistic and Welch-Satterthwaite degrees of freedom."""
    (ma, sa, na), (mb, sb, nb) = a, b
    if na < 2 or nb < 2:
        return None
    va, vb = sa * sa / na, sb * sb / nb
    se = math.sqrt(va + vb)
    d = mb - ma
    if se == 0:
        return None
    df = (va + vb) ** 2 / (va * va / (na - 1) + vb * vb / (nb - 1))
    crit = t_quantile(1 - ALPHA / 2, df)
    return Change(d, d - crit * se, d + crit * se, t_p_value(d / se, df), "difference of means (Welch t)")


def quantile_change(a: float, interval_a: Interval, b: float, interval_b: Interval, stat: str) -> Change:
    """A difference of medians (or p90s) from the two order-statistic intervals (MOVER)."""
    return mover(a, interval_a, b, interval_b, f"difference of {stat}s (order-statistic intervals, MOVER)")


def count_change(a: float, b: float) -> Change | None:
    """b - a for two counts over periods of equal length: Poisson z, interval and p-value
    from the same standard error sqrt(a + b)."""
    if a + b <= 0:
        return None
    se = math.sqrt(a + b)
    d = b - a
    return Change(d, d - Z95 * se, d + Z95 * se, _z_p(d / se), "difference of counts (Poisson z)")
