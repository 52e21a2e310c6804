"""Staffing plan benchmark: agents for 90 days x 48 half-hours x 6 channels (25,920 intervals).

    .venv/bin/python bench/workforce/plan_bench.py [--days 90] [--history-weeks 13] [--sample 2000]

A workspace is generated with `--history-weeks` of flat tickets on 6 channels (a daily curve,
up to about 50 per channel and half-hour at the peak, each with a handle time), then timed:

  plan        `cxmetrics.workforce._plan.plan` for the next `--days` days, every channel, at 30m:
              forecast, AHT per channel and time of day, Erlang C (patience "auto": no abandons)
  forecast    the forecast alone (`cxmetrics.workforce._forecast.forecast`, the same call)
  plan_rest   the plan with that forecast given (the forecast's call answered from a cache):
              everything the plan adds, Erlang C
  plan_rest_a the same with a patience of 120 s for every channel: Erlang A everywhere
  vector_c    the staffing step alone on the plan's 25,920 (volume, AHT) pairs, Erlang C
  vector_a    the same, Erlang A (patience 120 s)
  scalar_c    the reference: `staff(...)` called once per interval, on the first `--sample`
  scalar_a    intervals, scaled to all (and its agents compared with the vector's)

Aims: plan < 5 s; the staffing step well under 1 s. JSON goes to bench/out/.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "src"))

import cxmetrics  # noqa: E402
from cxmetrics.workforce import _queues  # noqa: E402
from cxmetrics.workforce.erlang import staff  # noqa: E402
from cxmetrics.workforce._plan import plan  # noqa: E402

CHANNELS = ("email", "chat", "phone", "messaging", "social", "web")
# tickets per channel and half-hour: a daytime curve (peak ~ 10 x the channel's weight), quiet nights
TICKETS_SQL = """
WITH slots AS (
    SELECT c, ['email', 'chat', 'phone', 'messaging', 'social', 'web'][c + 1] AS channel,
           TIMESTAMPTZ '{start}' + to_minutes(30 * k) AS slot_at, k % 48 AS half_hour, (k // 48) % 7 AS dow
    FROM range(6) a(c), range({slots}) b(k)
), volumes AS (
    SELECT *, CAST(round((1 + c) / 3.5 * 30 * greatest(sin(pi() * (half_hour - 14) / 28), 0.05)
                         * CASE WHEN dow >= 5 THEN 0.5 ELSE 1 END
                         * (0.8 + 0.4 * (hash(c, slot_at) % 1000) / 1000)) AS BIGINT) AS n
    FROM slots
)
SELECT 'T' || c || '-' || epoch(slot_at)::BIGINT || '-' || j AS ticket_id,
       strftime(slot_at + to_seconds(CAST(j * 1800 / n AS BIGINT)), '%Y-%m-%dT%H:%M:%SZ') AS created_at,
       channel, 'solved' AS status, 'customer' AS created_by,
       60 + 60 * c + hash(c, slot_at, j) % 240 AS handle_seconds
FROM volumes, range(n) t(j) WHERE n > 0
"""


def build(folder: Path, weeks: int) -> tuple[Path, int]:
    csv = folder / "tickets.csv"
    con = duckdb.connect()
    con.execute(f"COPY ({TICKETS_SQL.format(start='2025-01-06 00:00:00+00', slots=weeks * 7 * 48)}) "
                f"TO '{csv}' (FORMAT CSV, HEADER)")
    n = con.execute(f"SELECT count(*) FROM read_csv_auto('{csv}')").fetchone()[0]
    con.close()
    with cxmetrics.open(folder / "ws", create=True) as ws:
        ws.import_file("tickets", csv)
        ws.refresh()
    return folder / "ws", n


def timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--history-weeks", type=int, default=13)
    ap.add_argument("--sample", type=int, default=2000)
    args = ap.parse_args()
    result: dict[str, Any] = {"machine": platform.platform(), "python": platform.python_version(),
                              "days": args.days, "history_weeks": args.history_weeks}
    with tempfile.TemporaryDirectory(prefix="plan_bench_") as tmp:
        t_build, (path, tickets) = timed(lambda: build(Path(tmp), args.history_weeks))
        result.update(build_s=round(t_build, 2), history_tickets=tickets)
        with cxmetrics.open(path) as ws:
            from cxmetrics.workforce import _forecast as fc

            ws.refresh()  # facts up to date before any timing
            end = _end(ws, args.days)
            t_plan, table = timed(lambda: plan(ws, end=end, interval="30m"))
            real = fc.forecast
            t_fc, cached = timed(lambda: real(ws, interval="30m", horizon=f"{args.days}d"))
            fc.forecast = lambda *a, **k: cached  # the same forecast, from memory
            try:
                t_c, table = timed(lambda: plan(ws, end=end, interval="30m"))
                t_a, table_a = timed(lambda: plan(ws, end=end, interval="30m", patience_s=120.0))
            finally:
                fc.forecast = real
    n = table.num_rows
    volume, aht = table["volume"].to_numpy(), table["aht_s"].to_numpy()
    load = np.maximum(volume, 0) * aht / 1800
    targets = {"service_level": 0.8, "max_p_wait": None, "max_occupancy": None, "limit": 1_000_000}
    t_vc, (agents_c, _) = timed(lambda: _queues.smallest_agents(load, 20 / aht, None, **targets))
    t_va, (agents_a, _) = timed(lambda: _queues.smallest_agents(load, 20 / aht, 120 / aht, **targets))
    k = min(args.sample, n)
    t_sc, ref_c = timed(lambda: [staff(float(v), 1800, float(a)).agents for v, a in zip(volume[:k], aht[:k])])
    t_sa, ref_a = timed(lambda: [staff(float(v), 1800, float(a), patience_s=120).agents
                                 for v, a in zip(volume[:k], aht[:k])])
    result.update(
        intervals=n, channels=len(set(table["channel"].to_pylist())),
        plan_s=round(t_plan, 3), forecast_s=round(t_fc, 3), plan_rest_s=round(t_c, 3), plan_rest_a_s=round(t_a, 3),
        vector_c_s=round(t_vc, 4), vector_a_s=round(t_va, 4),
        scalar_c_s_scaled=round(t_sc * n / k, 2), scalar_a_s_scaled=round(t_sa * n / k, 2), sample=k,
        speedup_c=round(t_sc * n / k / t_vc, 1), speedup_a=round(t_sa * n / k / t_va, 1),
        agree_c=bool((np.asarray(ref_c) == agents_c[:k]).all()),
        agree_a=bool((np.asarray(ref_a) == agents_a[:k]).all()),
        # the plan staffs nobody where not one contact is expected even at the 95% bound (model
        # "none"); everywhere else it must give the vectorised search's agents
        plan_agrees_with_vector=all(
            bool((t["agents"].to_numpy()[~none] == want[~none]).all() and (t["agents"].to_numpy()[none] == 0).all())
            for t, want in ((table, agents_c), (table_a, agents_a))
            for none in [t["model"].to_numpy(zero_copy_only=False) == "none"]),
        agents_per_interval_mean=round(float(agents_c.mean()), 2), agents_max=int(agents_c.max()),
        aim_plan_under_5s=t_plan < 5, aim_plan_rest_under_5s=t_c < 5 and t_a < 5,
    )
    out = HERE.parent / "out"
    out.mkdir(exist_ok=True)
    (out / "workforce_plan.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def _end(ws: cxmetrics.Workspace, days: int) -> str:
    from datetime import timedelta

    from cxmetrics.workforce._forecast import _known_channels, default_start

    return (default_start(ws, 1800, _known_channels(ws, None)) + timedelta(days=days)).isoformat()


if __name__ == "__main__":
    main()
