"""Forecast benchmark: 6 channels x 90 days x 48 half-hours of history, and as much ahead.

    .venv/bin/python bench/workforce/forecast_bench.py [--days 90] [--interval 30m] [--seed 0]

A workspace gets `--days` days of tickets on 6 channels drawn from a known Poisson rate (a
daytime curve, quieter weekends, each channel its own size), then is timed:

  arrivals   `arrivals(...)` over the whole history, every channel (the DuckDB count)
  forecast   `forecast(...)` for the next `--days` days, every channel
  backtest   `backtest(..., weeks=4)`: the last four weeks forecast from the weeks before

It also prints the forecast's error against the known rate (mean absolute % error of the mean
per interval, and how often fresh draws of the rate land inside the 80% / 95% intervals).
Aim: forecast < 2 s (the staffing plan's 5 s budget includes it). JSON goes to bench/out/.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "src"))

import cxmetrics  # noqa: E402
from cxmetrics.workforce._intervals import interval_starts, parse_interval  # noqa: E402
from cxmetrics.workforce._forecast import arrivals, backtest, forecast  # noqa: E402

CHANNELS = ("email", "chat", "phone", "messaging", "social", "web")
START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday


def rate(starts: list[datetime], channel: int) -> np.ndarray:
    """Contacts expected per interval: a daytime curve, weekends at half, channel c at (1 + c) / 3.5."""
    hours = np.array([s.hour + s.minute / 60 for s in starts])
    day = np.maximum(np.sin(np.pi * (hours - 7) / 14), 0.05) * 20
    weekend = np.array([0.5 if s.weekday() >= 5 else 1.0 for s in starts])
    return day * weekend * (1 + channel) / 3.5


def build(path: Path, days: int, interval_s: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    starts = interval_starts(START, START + timedelta(days=days), interval_s, "UTC")
    base = np.array([s.timestamp() for s in starts])
    ids, times, channels = [], [], []
    for c, name in enumerate(CHANNELS):
        counts = rng.poisson(rate(starts, c))
        at = np.repeat(base, counts) + rng.uniform(0, interval_s, counts.sum())
        times.append(at)
        channels += [name] * len(at)
        ids += [f"{name}-{i}" for i in range(len(at))]
    when = pa.array((np.concatenate(times) * 1e6).astype(np.int64), pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    with cxmetrics.open(path, create=True) as ws:
        ws.import_table("tickets", pa.table({"ticket_id": ids, "created_at": when, "channel": channels}))
        ws.refresh()


def timed(fn):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--interval", default="30m")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    interval_s = parse_interval(args.interval)
    path = Path(tempfile.mkdtemp()) / "ws"
    _, build_s = timed(lambda: build(path, args.days, interval_s, args.seed))
    with cxmetrics.open(path) as ws:
        hist, arrivals_s = timed(lambda: arrivals(ws, interval=args.interval))
        pred, forecast_s = timed(lambda: forecast(ws, interval=args.interval, horizon=f"{args.days}d"))
        bt, backtest_s = timed(lambda: backtest(ws, interval=args.interval, weeks=4))
    rows = pred.to_pylist()
    truth = np.concatenate([rate([r["interval_start"] for r in rows if r["channel"] == name], CHANNELS.index(name))
                            for name in sorted(CHANNELS)])
    ordered = sorted(rows, key=lambda r: (r["channel"], r["interval_start"]))
    mean = np.array([r["volume"] for r in ordered])
    draws = np.random.default_rng(args.seed + 1).poisson(truth)
    lo80, hi80 = np.array([r["lo80"] for r in ordered]), np.array([r["hi80"] for r in ordered])
    lo95, hi95 = np.array([r["lo95"] for r in ordered]), np.array([r["hi95"] for r in ordered])
    result = {
        "bench": "workforce._forecast", "days": args.days, "interval": args.interval, "channels": len(CHANNELS),
        "history_intervals": hist.num_rows, "forecast_intervals": pred.num_rows,
        "build_s": round(build_s, 2), "arrivals_s": round(arrivals_s, 3), "forecast_s": round(forecast_s, 3),
        "backtest_s": round(backtest_s, 3),
        "mean_abs_pct_error": round(float(np.sum(np.abs(mean - truth)) / np.sum(truth)), 4),
        "coverage80_fresh": round(float(np.mean((lo80 <= draws) & (draws <= hi80))), 4),
        "coverage95_fresh": round(float(np.mean((lo95 <= draws) & (draws <= hi95))), 4),
        "backtest": {"mase": round(bt.mase, 4), "coverage80": round(bt.coverage80, 4),
                     "coverage95": round(bt.coverage95, 4), "n": bt.n},
        "python": platform.python_version(), "machine": platform.machine(),
    }
    print(json.dumps(result, indent=2))
    out = HERE.parent / "out"
    out.mkdir(exist_ok=True)
    (out / f"workforce_forecast_{args.days}d_{args.interval}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
