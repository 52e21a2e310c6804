"""Which forecast model: the backtests behind docs/workforce.md's choice, on real and demo data.

    .venv/bin/python bench/workforce/forecast_models.py [--demo-tickets 100000]

Cases: the Anonymous Bank's February hourly (train Feb 1-21, forecast Feb 22-28; the bank's
data from ../shared/data, skipped when absent), and the demo's year (`cxmetrics demo`'s default
size) daily over the last 1, 4 and 8 weeks and hourly over the last 2. Variants of the shipped
model (`_forecast_model`: a negative-binomial GLM, day type x time of day, 13 weeks, a level
trend, Huber reweighting):

  shipped          as shipped
  no_trend         without the level trend
  fit_4w, fit_8w   fitted on the last 4 / 8 weeks instead of 13
  no_huber         without the robust reweighting
  holt_winters     statsmodels' ExponentialSmoothing (additive trend, multiplicative weekly
                   season, damped) per channel on the same history, same test

Each prints MASE (against the seasonal-naive forecast) / 80% coverage / 95% coverage; Holt-
Winters gives no count intervals here (its simulated ones are slow), so only its MASE.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

import cxmetrics  # noqa: E402
import cxmetrics.workforce._forecast_model as model  # noqa: E402
import cxmetrics.workforce._forecast as fc  # noqa: E402
from cxmetrics.workforce._intervals import parse_interval  # noqa: E402

VARIANTS = {"shipped": {}, "no_trend": {"TREND_DAYS": 10**6}, "fit_4w": {"FIT_WEEKS": 4},
            "fit_8w": {"FIT_WEEKS": 8}, "no_huber": {"HUBER_STEPS": 0}}


@contextmanager
def variant(changes: dict[str, int]):  # type: ignore[no-untyped-def]
    saved = {k: getattr(model, k) for k in changes}
    for k, v in changes.items():
        setattr(model, k, v)
        if hasattr(fc, k):
            setattr(fc, k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(model, k, v)
            if hasattr(fc, k):
                setattr(fc, k, v)


def holt_winters_mase(ws: cxmetrics.Workspace, interval: str, weeks: int) -> float:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    ref = fc.backtest(ws, interval=interval, weeks=weeks)
    period = 7 * 86_400 // parse_interval(interval)
    err = err_naive = 0.0
    for row in ref.channels:
        hist = fc.arrivals(ws, interval=interval, channel=row["channel"], start=ref.train_start, end=ref.test_end)
        y = hist.column("volume").to_numpy().astype(float)
        n_test = len(fc.arrivals(ws, interval=interval, channel=row["channel"], start=ref.train_end,
                                 end=ref.test_end))
        train, test = y[:-n_test], y[-n_test:]
        fit = ExponentialSmoothing(train + 0.5, trend="add", damped_trend=True, seasonal="mul",
                                   seasonal_periods=period).fit()
        pred = np.maximum(fit.forecast(n_test) - 0.5, 0)
        naive = np.array([train[len(train) - period + (i % period)] for i in range(n_test)])
        err += np.abs(test - pred).sum()
        err_naive += np.abs(test - naive).sum()
    return err / err_naive


def cases(demo_tickets: int) -> list[tuple[str, Path, str, int]]:
    out = []
    from realdata._data import data_file

    bank = data_file("anonymous_bank_callcenter_feb1999", "data_anonymous_bank_february.txt")
    if bank.exists():
        from realdata.test_anonymous_bank import flat_tickets

        path = Path(tempfile.mkdtemp())
        with cxmetrics.open(path / "ws", create=True) as ws:
            ws.import_file("tickets", flat_tickets(path / "bank.csv"))
        out.append(("bank 1h, week 4", path / "ws", "1h", 1))
    from cxmetrics.demo import DemoConfig, generate

    path = Path(tempfile.mkdtemp()) / "ws"
    with cxmetrics.open(path, create=True) as ws:
        for batch in generate(DemoConfig(tickets=demo_tickets)):
            for name in ("tickets", "events"):
                if name in batch:
                    ws.import_table(name, batch[name], source="demo", canonical=True)
    out += [(f"demo 1d, last {w} weeks", path, "1d", w) for w in (1, 4, 8)] + [("demo 1h, last 2 weeks", path, "1h", 2)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--demo-tickets", type=int, default=100_000)
    args = parser.parse_args()
    found = cases(args.demo_tickets)
    print(f"{'variant':<14}" + "".join(f"{name:>26}" for name, *_ in found))
    for label, changes in VARIANTS.items():
        cells = []
        with variant(changes):
            for _, path, interval, weeks in found:
                with cxmetrics.open(path) as ws:
                    b = fc.backtest(ws, interval=interval, weeks=weeks)
                cells.append(f"{b.mase:.3f} / {b.coverage80:.2f} / {b.coverage95:.2f}")
        print(f"{label:<14}" + "".join(f"{c:>26}" for c in cells), flush=True)
    cells = []
    for _, path, interval, weeks in found:
        with cxmetrics.open(path) as ws:
            cells.append(f"{holt_winters_mase(ws, interval, weeks):.3f}")
    print(f"{'holt_winters':<14}" + "".join(f"{c:>26}" for c in cells))


if __name__ == "__main__":
    main()
