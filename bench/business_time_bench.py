"""Business-time benchmark: business durations of N (start, end) pairs.

    .venv/bin/python bench/business_time_bench.py [--n 10000000] [--sample 20000] [--runs engine,numpy,python]

The schedule is Mon-Fri 09:00-17:00 Europe/Berlin with German public holidays; the pairs
start anywhere in 2025-2026 and last from seconds to two weeks (skewed short, like tickets).
They sit in a DuckDB table `pairs(id, start, end)`. Each contender runs in its own
subprocess, which reports its wall time and its own peak RSS (`ru_maxrss`):

  engine         cxmetrics: `ensure_calendar` (timed apart: built once per schedule change) and
                 then `CREATE TABLE ... AS` the SQL of `with_business_seconds(..., schedule_set=ss)`:
                 from the table of pairs to a table of business seconds, all rows at once (two
                 equi-joins on the calendar)
  engine_lookup  the same SQL without `schedule_set`: schedule names are looked up in
                 `business_schedules` by a join per row
  duckdb_asof    DuckDB ASOF joins on the business intervals (B(t) = cum + min(t - start, length)
                 of the last interval starting at or before t): the alternative the engine avoids
                 (no ASOF join on Spark)
  numpy    NumPy `searchsorted` over the cumulative business seconds of the same business
           intervals: the start and end columns are read out of DuckDB (timed apart), then
           B(end) - B(start) per row: the practical ceiling
  python   a per-row Python loop with zoneinfo (each local day: weekday? holiday? overlap with
           09:00-17:00 local), timed on the first --sample pairs and scaled to N

Agreement: numpy, engine_lookup and duckdb_asof are compared with the engine on every row, python on its sample (a result
differing by more than 1 microsecond counts). Aims: engine >= 100x faster than the per-row
loop, within 2x of NumPy, peak memory < 3 GB. JSON goes to bench/out/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RUNS = ("engine", "engine_lookup", "duckdb_asof", "numpy", "python")
ZONE = "Europe/Berlin"
SCHEDULE_TOML = f"""
[schedules.default]
timezone = "{ZONE}"
hours = {{ mon-fri = ["09:00-17:00"] }}
holiday_calendars = [{{ country = "DE" }}]
"""
# start: uniform over 2025-2026; length: 14 days * u^3 (most pairs last hours, some weeks)
PAIRS_SQL = """
CREATE TABLE pairs AS
SELECT i AS id, s AS "start", s + to_microseconds(CAST(1209600e6 * pow(u, 3) AS BIGINT)) AS "end"
FROM (
    SELECT i, TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_microseconds(CAST(hash(i) % 63072000000000 AS BIGINT)) AS s,
           (hash(i * 7 + 3) % 1000000000) / 1e9 AS u
    FROM range({n}) t(i)
)
"""


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _schedules():
    from cxmetrics.calendar import ScheduleSet

    return ScheduleSet.from_toml(SCHEDULE_TOML)


# -- children ---------------------------------------------------------------------------


def child_engine(db: str, out: Path, repeat: int, sample: int, *, inline: bool = True) -> dict[str, Any]:
    import duckdb

    from cxmetrics.calendar import data_range, ensure_calendar, with_business_seconds

    con = duckdb.connect(db)
    con.execute("SET memory_limit = '1.5GB'")  # a workspace's default
    con.execute("SET preserve_insertion_order = false")
    ss = _schedules()
    t0 = time.perf_counter()
    ensure_calendar(con, ss, *data_range(con, "pairs", ["start", '"end"']))
    calendar_s = time.perf_counter() - t0
    calendar_rows = con.execute("SELECT count(*) FROM business_calendar").fetchall()[0][0]
    relation = "SELECT id, \"start\", \"end\", 'default' AS schedule FROM pairs"
    sql = with_business_seconds(relation, {"business_s": ("start", '"end"')}, "schedule",
                                schedule_set=ss if inline else None)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        con.execute(f"CREATE OR REPLACE TABLE business AS SELECT id, business_s FROM ({sql})")
        times.append(time.perf_counter() - t0)
    con.execute(f"COPY business TO '{out}' (FORMAT PARQUET)")
    rows = con.execute("SELECT count(*), count(business_s) FROM business").fetchall()[0]
    con.close()
    return {"seconds": min(times), "runs": times, "calendar_s": calendar_s, "calendar_rows": calendar_rows,
            "rows": rows[0], "non_null": rows[1], "sql": sql}


def child_engine_lookup(db: str, out: Path, repeat: int, sample: int) -> dict[str, Any]:
    return child_engine(db, out, repeat, sample, inline=False)


def child_duckdb_asof(db: str, out: Path, repeat: int, sample: int) -> dict[str, Any]:
    import duckdb
    import pyarrow as pa

    from cxmetrics.calendar._timeline import build_timeline, epoch_s

    con = duckdb.connect(db)
    con.execute("SET memory_limit = '1.5GB'")
    con.execute("SET preserve_insertion_order = false")
    tl = build_timeline(_schedules().default, epoch_s(2025), epoch_s(2028))
    con.register("_iv", pa.table({"s_us": tl.starts * 1_000_000, "len_us": (tl.ends - tl.starts) * 1_000_000,
                                  "c_us": tl.cum * 1_000_000}))
    con.execute("CREATE OR REPLACE TABLE intervals AS SELECT * FROM _iv ORDER BY s_us")
    b = "coalesce({i}.c_us + least(epoch_us(p.{col}) - {i}.s_us, {i}.len_us), 0)"
    sql = f"""
        SELECT p.id, CASE WHEN p."end" > p."start" THEN CAST({b.format(i='ie', col='"end"')}
                                                           - {b.format(i='is_', col='"start"')} AS DOUBLE) / 1e6
                          WHEN p."end" <= p."start" THEN 0.0 END AS business_s
        FROM pairs p
        ASOF LEFT JOIN intervals is_ ON epoch_us(p."start") >= is_.s_us
        ASOF LEFT JOIN intervals ie ON epoch_us(p."end") >= ie.s_us
    """
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        con.execute(f"CREATE OR REPLACE TABLE business_asof AS {sql}")
        times.append(time.perf_counter() - t0)
    con.execute(f"COPY business_asof TO '{out}' (FORMAT PARQUET)")
    con.close()
    return {"seconds": min(times), "runs": times}


def child_numpy(db: str, out: Path, repeat: int, sample: int) -> dict[str, Any]:
    import duckdb
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from cxmetrics.calendar._timeline import build_timeline, epoch_s

    con = duckdb.connect(db, read_only=True)
    t0 = time.perf_counter()
    table = con.sql('SELECT id, epoch_us("start") AS s, epoch_us("end") AS e FROM pairs').to_arrow_table()
    ids, s, e = (table[c].to_numpy() for c in ("id", "s", "e"))
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    tl = build_timeline(_schedules().default, epoch_s(2025), epoch_s(2028))
    starts = tl.starts * 1_000_000
    lengths = (tl.ends - tl.starts) * 1_000_000
    cum = tl.cum * 1_000_000
    prep_s = time.perf_counter() - t0

    def b_us(t: np.ndarray) -> np.ndarray:
        i = np.searchsorted(starts, t, side="right") - 1
        np.maximum(i, 0, out=i)  # the data starts after the first interval's start (2025-01-02 09:00)
        return cum[i] + np.clip(t - starts[i], 0, lengths[i])

    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = np.where(e > s, (b_us(e) - b_us(s)) / 1e6, 0.0)
        times.append(time.perf_counter() - t0)
    pq.write_table(pa.table({"id": ids, "business_s": result}), out)
    return {"seconds": min(times), "runs": times, "load_s": load_s, "prep_s": prep_s,
            "business_intervals": len(tl.starts)}


def business_seconds_loop(start: datetime, end: datetime, tz: Any, holidays: Any) -> float:
    """A plain per-row implementation: walk the local days, add each workday's overlap with
    09:00-17:00 local (compared and subtracted in UTC)."""
    if end <= start:
        return 0.0
    total = 0.0
    day = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    while day <= last:
        if day.weekday() < 5 and day not in holidays:
            opens = datetime.combine(day, clock(9), tz).astimezone(UTC)
            closes = datetime.combine(day, clock(17), tz).astimezone(UTC)
            a, b = max(opens, start), min(closes, end)
            if b > a:
                total += (b - a).total_seconds()
        day += timedelta(days=1)
    return total


def child_python(db: str, out: Path, repeat: int, sample: int) -> dict[str, Any]:
    from zoneinfo import ZoneInfo

    import duckdb
    import holidays as holidays_package
    import pyarrow as pa
    import pyarrow.parquet as pq

    con = duckdb.connect(db, read_only=True)
    rows = con.execute(f'SELECT id, epoch_us("start"), epoch_us("end") FROM pairs WHERE id < {sample} ORDER BY id'
                       ).fetchall()
    total_rows = con.execute("SELECT count(*) FROM pairs").fetchall()[0][0]
    tz = ZoneInfo(ZONE)
    days_off = holidays_package.country_holidays("DE", years=[2025, 2026, 2027])
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    t0 = time.perf_counter()
    result = []
    for _, s, e in rows:
        start, end = epoch + timedelta(microseconds=s), epoch + timedelta(microseconds=e)
        result.append(business_seconds_loop(start, end, tz, days_off))
    seconds = time.perf_counter() - t0
    pq.write_table(pa.table({"id": [r[0] for r in rows], "business_s": result}), out)
    return {"sample_rows": len(rows), "sample_seconds": seconds, "seconds": seconds * total_rows / len(rows),
            "scaled_to": total_rows}


CHILDREN = {"engine": child_engine, "engine_lookup": child_engine_lookup, "duckdb_asof": child_duckdb_asof,
            "numpy": child_numpy, "python": child_python}


def run_child_main(name: str, db: str, out: Path, repeat: int, sample: int) -> None:
    report = CHILDREN[name](db, out, repeat, sample)
    report["peak_rss_mb"] = peak_mb()
    print(json.dumps(report))


# -- parent -------------------------------------------------------------------------------


def run_child(name: str, db: str, out: Path, repeat: int, sample: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", name, "--db", db, "--result", str(out), "--repeat", str(repeat),
           "--sample", str(sample)]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": f"exit {proc.returncode}: " + " | ".join(tail)}
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    report["process_wall_s"] = time.perf_counter() - started
    return report


def agreement(base: Path, other: Path) -> dict[str, Any]:
    """Rows of `other` compared with `base` (the engine) by id: how many differ by > 1 us."""
    import duckdb

    con = duckdb.connect()
    rows, differ, worst = con.execute(f"""
        SELECT count(*),
               count(*) FILTER (abs(a.business_s - b.business_s) > 1e-6 OR (a.business_s IS NULL) <> (b.business_s IS NULL)),
               max(abs(a.business_s - b.business_s))
        FROM read_parquet('{other}') b LEFT JOIN read_parquet('{base}') a USING (id)
    """).fetchall()[0]
    return {"rows_compared": rows, "rows_differing": differ, "max_abs_difference_s": worst}


def make_pairs(path: Path, n: int) -> float:
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect(str(path))
    con.execute(PAIRS_SQL.format(n=n))
    con.close()
    return time.perf_counter() - started


def _fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:,.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000_000, help="pairs (default 10M)")
    parser.add_argument("--sample", type=int, default=20_000, help="pairs the per-row Python loop is timed on")
    parser.add_argument("--runs", default=",".join(RUNS), help=f"which contenders, in order (default: {RUNS})")
    parser.add_argument("--repeat", type=int, default=2, help="repetitions of engine and numpy (best kept)")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child_main(args.child, args.db, args.result, args.repeat, args.sample)
        return

    reports: dict[str, dict[str, Any]] = {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="business-time-bench-") as tmp:
        db = Path(tmp) / "pairs.duckdb"
        made = make_pairs(db, args.n)
        print(f"{args.n:,} pairs generated in {made:.1f} s; load average {load_before[0]:.1f} on "
              f"{os.cpu_count()} cpus", flush=True)
        for name in [r for r in args.runs.split(",") if r]:
            result = Path(tmp) / f"{name}.parquet"
            reports[name] = run_child(name, str(db), result, args.repeat, min(args.sample, args.n))
            if "error" not in reports[name]:
                reports[name]["result_file"] = str(result)
            r = reports[name]
            print(f"  {name:<14} {_fmt(r.get('seconds')):>10} s  peak {_fmt(r.get('peak_rss_mb'), 0):>6} MB"
                  + (f"  ERROR {r['error']}" if "error" in r else ""), flush=True)
        base = reports.get("engine", {}).get("result_file")
        for name, r in reports.items():
            if base and name != "engine" and "result_file" in r:
                r["agreement_with_engine"] = agreement(Path(base), Path(r["result_file"]))
        for r in reports.values():
            r.pop("result_file", None)

    def secs(name: str) -> float | None:
        return reports.get(name, {}).get("seconds")

    def ratio(a: str, b: str) -> float | None:
        x, y = secs(a), secs(b)
        return None if x is None or y is None else x / y

    ratios = {"python / engine (speed-up over a per-row loop)": ratio("python", "engine"),
              "engine / numpy (1 = as fast as NumPy searchsorted)": ratio("engine", "numpy")}
    peak = reports.get("engine", {}).get("peak_rss_mb")
    aims = {
        "engine >= 100x faster than the per-row Python loop": (ratios["python / engine (speed-up over a per-row loop)"]
                                                               or 0) >= 100,
        "engine within 2x of NumPy searchsorted": (ratios["engine / numpy (1 = as fast as NumPy searchsorted)"]
                                                   or float("inf")) <= 2,
        "engine peak memory < 3 GB": peak is not None and peak < 3 * 1024,
    }
    print()
    print(f"| contender | seconds for {args.n:,} pairs | peak RSS MB | notes |")
    print("|---|---:|---:|---|")
    for name, r in reports.items():
        agree = r.get("agreement_with_engine")
        notes = r.get("error") or ""
        if name.startswith("engine") and "error" not in r:
            notes = f"calendar built in {r['calendar_s']:.2f} s ({r['calendar_rows']:,} bucket rows), not included"
        if name == "numpy" and "error" not in r:
            notes = f"reading the columns out of DuckDB {r['load_s']:.2f} s and the intervals {r['prep_s']:.2f} s, not included"
        if name == "python" and "error" not in r:
            notes = f"{r['sample_rows']:,} pairs in {r['sample_seconds']:.2f} s, scaled"
        if agree:
            notes += ("; " if notes else "") + \
                f"{agree['rows_differing']:,} of {agree['rows_compared']:,} rows differ from the engine"
        print(f"| {name} | {_fmt(r.get('seconds'))} | {_fmt(r.get('peak_rss_mb'), 0)} | {notes} |")
    print()
    for k, v in ratios.items():
        print(f"{k:<55} {_fmt(v)}")
    for k, v in aims.items():
        print(f"{'met' if v else 'MISSED':<7} {k}")
    out = {
        "n": args.n, "sample": args.sample, "schedule": SCHEDULE_TOML.strip(), "pairs_sql": PAIRS_SQL.strip(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "loadavg_before": load_before, "loadavg_after": os.getloadavg(), "date": date.today().isoformat()},
        "runs": reports, "ratios": ratios, "aims": aims,
    }
    args.out.mkdir(exist_ok=True)
    target = args.out / f"business_time_{args.n}.json"
    target.write_text(json.dumps(out, indent=2, default=str))
    print(f"\nwritten {target}")


if __name__ == "__main__":
    main()
