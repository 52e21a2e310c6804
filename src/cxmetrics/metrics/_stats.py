"""Uncertainty: Wilson intervals, the NPS variance interval, normal intervals for
means, order-statistic intervals for quantiles, and tests of change between periods.

>>> lo, hi = wilson(74, 107)
>>> round(lo, 4), round(hi, 4)
(0.5987, 0.7712)
>>> round(nps_interval(60, 15, 100)[0], 9)
45.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Z95 = 1.959963984540054
# Quantile offsets computed next to each median/p90, from which an interval of the
# right width for any n is read by interpolation (one pass, no per-group sort).
QUANTILE_OFFSETS = (0.0, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3)


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


def nps_interval(promoters: int, detractors: int, n: int, z: float = Z95) -> tuple[float | None, float | None, float | None]:
    """NPS in points with its interval from var = (p + d - (p - d)^2) / n."""
    if n <= 0:
        return None, None, None
    p, d = promoters / n, detractors / n
    value = 100 * (p - d)
    se = 100 * math.sqrt(max(0.0, p + d - (p - d) ** 2) / n)
    return value, max(-100.0, value - z * se), min(100.0, value + z * se)


def mean_interval(mean: float | None, sd: float | None, n: int, z: float = Z95) -> tuple[float | None, float | None]:
    if mean is None or n < 2 or sd is None:
        return None, None
    half = z * sd / math.sqrt(n)
    return mean - half, mean + half


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


def two_proportion_test(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, float, float]:
    """Difference p2 - p1 with its 95% interval (unpooled) and the pooled z-test p-value."""
    p1, p2 = k1 / n1, k2 / n2
    diff = p2 - p1
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    pooled = (k1 + k2) / (n1 + n2)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p_value = 1.0 if se0 == 0 else math.erfc(abs(diff) / se0 / math.sqrt(2))
    return diff, diff - Z95 * se, diff + Z95 * se, p_value


def nps_difference(a: tuple[int, int, int], b: tuple[int, int, int]) -> tuple[float, float, float, float]:
    """NPS(b) - NPS(a) in points, each (promoters, detractors, n), with interval and p-value."""
    def parts(p: int, d: int, n: int) -> tuple[float, float]:
        pp, dd = p / n, d / n
        return 100 * (pp - dd), 1e4 * (pp + dd - (pp - dd) ** 2) / n

    va, var_a = parts(*a)
    vb, var_b = parts(*b)
    diff, se = vb - va, math.sqrt(var_a + var_b)
    p_value = 1.0 if se == 0 else math.erfc(abs(diff) / se / math.sqrt(2))
    return diff, diff - Z95 * se, diff + Z95 * se, p_value
