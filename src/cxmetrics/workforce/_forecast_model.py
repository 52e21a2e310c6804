"""The forecast model of one channel's arrivals (docs/workforce.md, "Forecast").

A negative-binomial GLM on the recent weeks of history: one log-rate per day
type (mon..sun, holiday) and time of day, plus a log-linear level trend over the weeks fitted.
Prediction intervals are the quantiles of a negative binomial whose variance adds the three
sources of error: the count's Poisson noise, the overdispersion the history shows (alpha,
a robust estimate, below), and the uncertainty of the fitted log-rate (its standard error from
the coefficients' covariance). The fit is robust: after a first fit, intervals more than 2
standard deviations off weigh 2/|residual| (Huber's weights, three reweighting steps), so a
one-off spike does not move its hour's forecast for the weeks ahead. A cell (day type
x time of day) with no contact in its history is not fitted (its rate would be -inf): it gets
the Jeffreys posterior of a Poisson rate seen 0 times in n intervals (mean 0.5/n).

With little history the model has fewer parameters: from 14 days the day type x time of day
cells, from 7 days a day-type effect plus a time-of-day profile, below that the time-of-day
profile alone; the trend needs 14 days. The cells model is fitted by `_cellglm`'s IRLS in
closed form (statsmodels' dense GLM took seconds per channel at 30m over 13 weeks, and 55 s
for a six-channel hourly backtest under load); the small additive designs by statsmodels'
GLM. scipy gives the negative binomial's quantiles.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cxmetrics.errors import MissingDependencyError
from cxmetrics.workforce._cellglm import fit_cells

HOLIDAY = 7  # day types 0..6 are mon..sun
DAY_TYPES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday")
FIT_WEEKS = 13  # the weeks of history the model is fitted on (docs/workforce.md: measured against 4 and 8)
TREND_DAYS = 14  # a level trend is fitted only over at least this many days
HUBER_C, HUBER_STEPS = 2.0, 3  # intervals beyond 2 standard deviations weigh 2/|residual| (robust fit)


@dataclass(frozen=True)
class Series:
    """Intervals of one channel: counts (history only), day type, slot of the day, and time
    in days from the forecast's start (negative in the history)."""

    day_type: np.ndarray
    slot: np.ndarray
    t_days: np.ndarray
    y: np.ndarray | None = None


@dataclass(frozen=True)
class Prediction:
    mean: np.ndarray
    lo80: np.ndarray
    hi80: np.ndarray
    lo95: np.ndarray
    hi95: np.ndarray
    structure: str  # "day type x time of day", "day type + time of day" or "time of day"


def _imports():  # type: ignore[no-untyped-def]
    try:
        import statsmodels.api as sm
        from scipy import optimize, stats
    except ImportError:
        raise MissingDependencyError("forecasting needs statsmodels and scipy: "
                                     "pip install 'cxmetrics[workforce]'") from None
    return sm, optimize, stats


def predict(history: Series, future: Series, n_days: float) -> Prediction:
    """Fit on `history` (already cut to the fitting window) and predict `future`."""
    sm, optimize, stats = _imports()
    assert history.y is not None
    y = history.y.astype(float)
    seen_holiday = bool((history.day_type == HOLIDAY).any())
    # a holiday the history never showed is forecast like a Sunday (the usual closed-office day)
    f_day = future.day_type if seen_holiday else np.where(future.day_type == HOLIDAY, 6, future.day_type)
    if n_days >= 14:
        structure = "day type x time of day"
        factors = [(history.day_type * 10_000 + history.slot, f_day * 10_000 + future.slot)]
    elif n_days >= 7:
        structure = "day type + time of day"
        factors = [(history.day_type, f_day), (history.slot, future.slot)]
    else:
        structure = "time of day"
        factors = [(history.slot, future.slot)]
    # levels never seen with a contact: not fitted (Jeffreys posterior below)
    h_ok, f_ok = np.ones(len(y), bool), np.ones(len(future.slot), bool)
    for h, f in factors:
        levels, idx = np.unique(h, return_inverse=True)
        dead = levels[np.bincount(idx, weights=y) == 0]
        h_ok &= ~np.isin(h, dead)
        f_ok &= ~np.isin(f, dead) & np.isin(f, levels)
    trend = n_days >= TREND_DAYS  # in weeks from the forecast's start: the level at the start is the cells'
    mean = np.zeros(len(future.slot))
    quant = np.zeros((4, len(future.slot)))
    if h_ok.any():
        yy = y[h_ok]
        fit = _cell_fitter(factors[0][0][h_ok], factors[0][1][f_ok], history.t_days[h_ok] / 7,
                           future.t_days[f_ok] / 7, trend) if len(factors) == 1 else \
            _dense_fitter(sm, factors, h_ok, f_ok, history.t_days[h_ok] / 7, future.t_days[f_ok] / 7, trend)
        mu_h, n_params, _, _ = fit(yy, 0.0, None)
        alpha = _alpha(yy, mu_h, n_params, optimize)
        weights = np.ones(len(yy))
        for _ in range(1 + HUBER_STEPS):  # a plain fit, then reweighted ones
            mu_h, _, eta, se2 = fit(yy, alpha, weights)
            # a spike (an outage, a mailing) should not set the level of its hour for the weeks ahead
            resid = np.abs(yy - mu_h) / np.sqrt(mu_h + alpha * mu_h**2)
            weights = np.minimum(1.0, HUBER_C / np.maximum(resid, 1e-12))
        mu = np.exp(eta + se2 / 2)  # the mean of a log-normal rate
        mean[f_ok] = mu
        quant[:, f_ok] = _nbinom_ppf(stats, mu, alpha + np.expm1(se2))  # cv^2 of the rate: dispersion + fit
    # Jeffreys: a Poisson rate seen 0 times in n intervals has posterior Gamma(0.5, n)
    if (~f_ok).any():
        n_seen = _intervals_per_level(factors, ~f_ok)
        mean[~f_ok] = 0.5 / n_seen
        quant[:, ~f_ok] = _discrete_bounds(stats.nbinom(0.5, n_seen / (n_seen + 1.0)))
    return Prediction(mean, quant[1], quant[2], quant[0], quant[3], structure)


Fitter = Callable[[np.ndarray, float, "np.ndarray | None"], tuple[np.ndarray, int, np.ndarray, np.ndarray]]


def _cell_fitter(h_cell: np.ndarray, f_cell: np.ndarray, h_t: np.ndarray, f_t: np.ndarray, trend: bool) -> Fitter:
    """(y, alpha, weights) -> fitted means, parameters, future log-rates and their variances,
    for the cells model (the arrowhead IRLS of `_cellglm`)."""
    levels, h_idx = np.unique(h_cell, return_inverse=True)
    f_idx = np.searchsorted(levels, f_cell)

    def fit(y: np.ndarray, alpha: float, weights: np.ndarray | None) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
        found = fit_cells(y, h_idx, h_t if trend else None, alpha=alpha, weights=weights)
        eta, var = found.predict(f_idx, f_t if trend else None)
        return found.mu, len(levels) + trend, eta, var

    return fit


def _dense_fitter(sm, factors: list[tuple[np.ndarray, np.ndarray]], h_ok: np.ndarray,  # type: ignore[no-untyped-def]
                  f_ok: np.ndarray, h_t: np.ndarray, f_t: np.ndarray, trend: bool) -> Fitter:
    """The same for additive factors (short histories: small designs), by statsmodels' GLM."""
    X_h, X_f = _design(factors, h_ok, f_ok)
    if trend:
        X_h, X_f = np.column_stack([X_h, h_t]), np.column_stack([X_f, f_t])

    def fit(y: np.ndarray, alpha: float, weights: np.ndarray | None) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
        family = sm.families.NegativeBinomial(alpha=alpha) if alpha > 0 else sm.families.Poisson()
        with warnings.catch_warnings():
            # a time of day with no contact in the history is "perfectly predicted" (its rate goes
            # to 0): expected in short histories (nights), and not the user's to act on
            warnings.simplefilter("ignore", category=sm.tools.sm_exceptions.PerfectSeparationWarning)
            found = sm.GLM(y, X_h, family=family, var_weights=weights, hasconst=False).fit()
        cov = np.asarray(found.cov_params())
        return found.mu, X_h.shape[1], X_f @ found.params, np.einsum("ij,jk,ik->i", X_f, cov, X_f)

    return fit


def _design(factors: list[tuple[np.ndarray, np.ndarray]], h_ok: np.ndarray,
            f_ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One-hot columns: every level of the first factor (no intercept), the others less their
    first level (so the columns are not collinear)."""
    h_cols, f_cols = [], []
    for i, (h, f) in enumerate(factors):
        levels = np.unique(h[h_ok])
        for level in levels[1:] if i else levels:
            h_cols.append((h[h_ok] == level).astype(float))
            f_cols.append((f[f_ok] == level).astype(float))
    width = len(h_cols)
    X_h = np.column_stack(h_cols) if h_cols else np.zeros((int(h_ok.sum()), 0))
    X_f = np.column_stack(f_cols) if f_cols else np.zeros((int(f_ok.sum()), width))
    return X_h, X_f


def _alpha(y: np.ndarray, mu: np.ndarray, n_params: int, optimize) -> float:  # type: ignore[no-untyped-def]
    """The NB2 dispersion at which the median squared Pearson residual is that of a normal
    variable's square (0.455), shrunk by the share of freedom the fit leaves ((n - p) / n);
    0 when the counts vary no more than Poisson ones. The median, not the sum: a contact
    centre's counts are heavy-tailed (a few spikes), and a sum-based (Pearson) estimate lets
    those few widen every interval (measured on the bank's February: 80% intervals covering
    94% of the test week against 88% with the median). Only intervals expecting 20 or more
    contacts count (else 5 or more, else all): a small count's squared residual is far from
    a normal one's, and its median biased."""
    dof = len(y) - n_params
    if dof <= 0:
        return 0.0
    use = np.ones(len(y), bool)
    for least in (20, 5):  # the largest counts there are enough of
        if (mu >= least).sum() >= 20:
            use = mu >= least
            break
    y, mu = y[use], mu[use]
    target = 0.4549364 * dof / (dof + n_params)

    def excess(a: float) -> float:
        return float(np.median((y - mu) ** 2 / (mu + a * mu**2)) - target)

    if excess(0.0) <= 0:
        return 0.0
    hi = 1.0
    while excess(hi) > 0 and hi < 1e6:
        hi *= 10
    return float(optimize.brentq(excess, 0.0, hi))


def _nbinom_ppf(stats, mu: np.ndarray, cv2: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Interval ends for counts with mean mu and variance mu + cv2 mu^2 (Poisson as cv2 -> 0)."""
    cv2 = np.maximum(cv2, 1e-9)
    r = 1.0 / cv2
    return _discrete_bounds(stats.nbinom(r, r / (r + mu)))


def _discrete_bounds(dist) -> np.ndarray:  # type: ignore[no-untyped-def]
    """lo95, lo80, hi80, hi95 of a count distribution. A count's quantile interval holds at
    least its level, far more at small counts (at mean 0.3, [0, 1] holds 96%): the upper end
    is lowered by one where the interval then holds a share nearer the level (there [0, 0]
    holds 74%), so that, over many intervals, about 80% (95%) of the counts fall inside."""
    out = []
    for level in (0.95, 0.8):
        tail = (1 - level) / 2
        lo, hi = dist.ppf(tail), dist.ppf(1 - tail)
        below = np.where(lo > 0, dist.cdf(lo - 1), 0.0)
        lower = np.maximum(hi - 1, lo)
        nearer = np.abs(dist.cdf(lower) - below - level) < np.abs(dist.cdf(hi) - below - level)
        out.append((lo, np.where(nearer, lower, hi)))
    (lo95, hi95), (lo80, hi80) = out
    return np.array([lo95, lo80, hi80, hi95])


def _intervals_per_level(factors: list[tuple[np.ndarray, np.ndarray]], mask: np.ndarray) -> np.ndarray:
    """For future intervals in `mask`, how many history intervals share their level of the
    factor that left them unfitted (at least 1)."""
    out = np.full(int(mask.sum()), np.inf)
    for h, f in factors:
        levels, counts = np.unique(h, return_counts=True)
        pos = np.searchsorted(levels, f[mask])
        pos = np.clip(pos, 0, len(levels) - 1)
        found = levels[pos] == f[mask]
        out = np.minimum(out, np.where(found, counts[pos], 1))
    return np.where(np.isfinite(out), out, 1).astype(float)
