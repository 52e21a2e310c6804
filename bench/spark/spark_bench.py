"""Spark benchmark (issue #18): the full facts refresh and the headline suite on Spark local
mode against the same work on the workspace's DuckDB, on one machine.

    .venv/bin/python bench/spark/spark_bench.py [--tickets 1000000] [--workspace DIR]
        [--spark-master local[2]] [--driver-memory 8g] [--spark-conf KEY=VALUE ...] [--now ISO]

The workspace is a demo of --tickets tickets (bench/_data.build_demo), or --workspace DIR
reused as it is (it is written to: the facts and SLA clocks are recomputed; use a copy). The
suite is metrics_bench.py's SUITE (the ~25 headline metrics), by channel x week. Each step
runs in its own subprocess, which prints its wall time and its own peak memory:

  duck_refresh   `ws.refresh(full=True, text=False)`: ticket_facts, reply_intervals,
                 contacts, survey_fatigue and the business-time twins, from the events; then
                 `refresh_sla(ws, now, full=True)` (the SLA clocks) when the workspace has an
                 sla.toml (not with --no-sla: facts and twins only, on both engines).
                 The text layer is left out: Spark does not derive it.
  export         `cxmetrics -w WS export tables DIR`: time, size of DIR, peak RSS (wait4)
  spark_refresh  `cxmetrics.engines._spark_facts.refresh_tables` on a session of its own
                 (what `cxmetrics --engine spark --tables DIR refresh --now NOW` runs): the
                 same tables and the SLA clocks derived on Spark, written back into DIR
  duck_suite     `ws.metrics(SUITE, by=["channel"], grain="week")` with the facts fresh
  spark_suite    the same request on Spark over DIR, i.e. over the facts Spark derived
                 (`run_metrics` on a `SparkClient`, what `spark_metrics` does)

Both refreshes evaluate the SLA clocks at the same instant (--now, default the start of the
run). A Spark step's time is split into the session's start (the JVM, the views) and the work;
its memory is the driver's Python (`ru_maxrss`) and the driver's JVM, a child process whose
peak RSS (`VmHWM` in /proc/PID/status) is polled every half second and read once more before
the step ends. In local mode the driver's JVM is also the executor: that is all of Spark.

Check: the suite's rows on Spark must equal DuckDB's as tests/spark/test_parity.py requires
(counts and shares exact, means 1e-9 relative, exact percentiles one unit in the last place);
"identical" or the differing rows are printed. Ratios Spark / DuckDB for the refresh and the
suite (work only, and with the session's start) and both peaks are printed; JSON goes to
bench/out/spark_<tickets>.json. Needs the spark extra (PySpark) and Java 17+.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "tests" / "spark"))

from metrics_bench import BY, GRAIN, SUITE  # noqa: E402

STEPS = ("duck_refresh", "export", "spark_refresh", "duck_suite", "spark_suite")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class JvmPeak:
    """The largest VmHWM of this process's descendants (the JVM PySpark launches), polled:
    a process's high-water mark is gone once it exits, so it is read while it runs."""

    def __init__(self, every: float = 0.5) -> None:
        self.peaks: dict[int, float] = {}
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> JvmPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.read()

    def _poll(self) -> None:
        while not self._stop.wait(self._every):
            self.read()

    def read(self) -> None:
        for pid in _descendants(os.getpid()):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            hwm = next((line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")), None)
            if hwm is not None:
                self.peaks[pid] = max(self.peaks.get(pid, 0.0), int(hwm) / 1024)

    @property
    def mb(self) -> float:
        return max(self.peaks.values(), default=0.0)


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])  # the name in () may hold spaces
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


# -- children ---------------------------------------------------------------------------


def child_duck_refresh(args: argparse.Namespace) -> dict[str, Any]:
    import cxmetrics
    from cxmetrics.sla import refresh_sla

    with cxmetrics.open(args.workspace) as ws:
        t0 = time.perf_counter()
        tickets = ws.refresh(full=True, text=False)
        t1 = time.perf_counter()
        has_sla = (Path(args.workspace) / "sla.toml").exists() and not args.no_sla
        if has_sla:
            refresh_sla(ws, args.now, full=True)
        t2 = time.perf_counter()
    return {"seconds": t2 - t0, "facts_s": t1 - t0, "sla_s": t2 - t1 if has_sla else None,
            "tickets_refreshed": tickets, "peak_rss_mb": peak_mb()}


def child_duck_suite(args: argparse.Namespace) -> dict[str, Any]:
    import cxmetrics
    import pyarrow.parquet as pq

    with cxmetrics.open(args.workspace) as ws:
        t0 = time.perf_counter()
        table = ws.metrics(SUITE, by=BY, grain=GRAIN)
        seconds = time.perf_counter() - t0
    pq.write_table(table.table, args.result)
    return {"seconds": seconds, "rows": table.table.num_rows, "peak_rss_mb": peak_mb()}


def _spark_conf(args: argparse.Namespace) -> dict[str, str]:
    from cxmetrics.engines._spark import parse_conf

    return {"spark.master": args.spark_master, "spark.driver.memory": args.driver_memory,
            **parse_conf(args.spark_conf)}


def child_spark_refresh(args: argparse.Namespace) -> dict[str, Any]:
    from cxmetrics.engines._spark import SparkClient
    from cxmetrics.engines._spark_facts import refresh_tables

    with JvmPeak() as jvm:
        t0 = time.perf_counter()
        client = SparkClient.over_tables(args.tables, _spark_conf(args))
        t1 = time.perf_counter()
        try:
            counts = refresh_tables(client, args.tables, args.now, sla=not args.no_sla)
        finally:
            t2 = time.perf_counter()
            jvm.read()
            client.close()
    return {"seconds": t2 - t1, "session_s": t1 - t0, "rows_written": counts, **_memory(jvm)}


def child_spark_suite(args: argparse.Namespace) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from cxmetrics.engines._spark import SparkClient
    from cxmetrics.metrics._query import run_metrics

    with JvmPeak() as jvm:
        t0 = time.perf_counter()
        client = SparkClient.over_tables(args.tables, _spark_conf(args))
        t1 = time.perf_counter()
        try:
            table = run_metrics(client, SUITE, by=BY, grain=GRAIN)
        finally:
            t2 = time.perf_counter()
            jvm.read()
            client.close()
    pq.write_table(table.table, args.result)
    return {"seconds": t2 - t1, "session_s": t1 - t0, "rows": table.table.num_rows, **_memory(jvm)}


def _memory(jvm: JvmPeak) -> dict[str, float]:
    python = peak_mb()
    # the two peaks need not coincide: their sum bounds the driver's peak from above
    return {"python_peak_rss_mb": python, "jvm_peak_rss_mb": jvm.mb, "peak_rss_mb": python + jvm.mb}


CHILDREN = {"duck_refresh": child_duck_refresh, "duck_suite": child_duck_suite,
            "spark_refresh": child_spark_refresh, "spark_suite": child_spark_suite}


# -- parent ----------------------------------------------------------------------------


def run_child(name: str, args: argparse.Namespace, tables: Path, result: Path) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", name, "--workspace", args.workspace, "--tables", str(tables),
           "--result", str(result), "--now", args.now, "--spark-master", args.spark_master,
           "--driver-memory", args.driver_memory]
    for item in args.spark_conf:
        cmd += ["--spark-conf", item]
    if args.no_sla:
        cmd.append("--no-sla")
    return _run(cmd, json_out=True)


def _run(cmd: list[str], *, json_out: bool) -> dict[str, Any]:
    """Run cmd, its wall time and its peak RSS (wait4: the process itself, not its children)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        tail = (stderr or stdout).strip().splitlines()[-3:]
        return {"error": f"exit {proc.returncode}: " + " | ".join(tail), "process_wall_s": wall}
    report = json.loads(stdout.strip().splitlines()[-1]) if json_out else {"seconds": wall}
    report.setdefault("peak_rss_mb", usage.ru_maxrss / 1024)
    report["process_wall_s"] = wall
    return report


def export(workspace: str, tables: Path) -> dict[str, Any]:
    cli = Path(sys.executable).with_name("cxmetrics")
    report = _run([str(cli), "--workspace", workspace, "export", "tables", str(tables)], json_out=False)
    if "error" not in report:
        report["bytes"] = sum(f.stat().st_size for f in tables.rglob("*") if f.is_file())
    return report


def compare(duck: Path, spark: Path) -> list[str]:
    """The rows where Spark's answer is not DuckDB's, by test_parity's tolerances (empty: identical)."""
    import pyarrow.parquet as pq
    from test_parity import _close, tolerance

    from cxmetrics.metrics._registry import registry

    def rows(p: Path) -> dict[tuple, dict[str, Any]]:
        return {(r["metric"], r["channel"], str(r["period"])): r for r in pq.read_table(p).to_pylist()}

    a, b = rows(duck), rows(spark)
    differ = [f"{k}: only on {'DuckDB' if k in a else 'Spark'}" for k in sorted(a.keys() ^ b.keys(), key=str)]
    reg = registry()
    for key in sorted(a.keys() & b.keys(), key=str):
        rel = tolerance(reg.resolve(key[0]))
        for column, value in a[key].items():
            if not _close(value, b[key].get(column), rel):
                differ.append(f"{key} {column}: DuckDB {value!r}, Spark {b[key].get(column)!r}")
    return differ


def make_workspace(tickets: int, seed: int) -> str:
    from _data import build_demo

    path = tempfile.mkdtemp(prefix=f"spark-bench-{tickets}-")
    started = time.perf_counter()
    build_demo(Path(path), tickets, seed)
    print(f"generated {tickets:,} demo tickets into {path} in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def _fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a / b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workspace", help="reuse this workspace (it is written to) instead of generating one")
    parser.add_argument("--tables", type=Path, help="where the export goes (default: a temporary folder, removed)")
    parser.add_argument("--spark-master", default="local[2]")
    parser.add_argument("--driver-memory", default="8g", help="spark.driver.memory (in local mode: all of Spark)")
    parser.add_argument("--spark-conf", action="append", default=[], metavar="KEY=VALUE", help="more Spark settings")
    parser.add_argument("--now", help="the instant both refreshes evaluate the SLA clocks at (default: now)")
    parser.add_argument("--no-sla", action="store_true",
                        help="both refreshes derive the facts and business-time twins only, not the SLA clocks")
    parser.add_argument("--steps", default=",".join(STEPS), help=f"which steps, in order (default: {STEPS})")
    parser.add_argument("--out", type=Path, default=BENCH / "out")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child](args), default=str))
        return

    if args.workspace and not (Path(args.workspace) / "cxmetrics.duckdb").exists():
        parser.error(f"{args.workspace} holds no workspace; leave out --workspace to generate one")
    args.workspace = args.workspace or make_workspace(args.tickets, args.seed)
    args.now = args.now or datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    temporary = args.tables is None
    tables = args.tables or Path(tempfile.mkdtemp(prefix="spark-bench-tables-"))
    import cxmetrics

    with cxmetrics.open(args.workspace) as ws:
        counts = ws.counts()
    print(f"workspace {args.workspace}: {counts['tickets']:,} tickets, {counts['events']:,} events; "
          f"Spark {args.spark_master}, driver memory {args.driver_memory}; "
          f"{'no SLA clocks' if args.no_sla else f'SLA clocks at {args.now}'}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus", flush=True)
    load_before = os.getloadavg()
    reports: dict[str, dict[str, Any]] = {}
    results = {"duck_suite": tables.parent / f"{tables.name}-duck.parquet",
               "spark_suite": tables.parent / f"{tables.name}-spark.parquet"}
    try:
        for name in [s for s in args.steps.split(",") if s]:
            load = os.getloadavg()[0]
            if name == "export":
                shutil.rmtree(tables, ignore_errors=True)
                reports[name] = export(args.workspace, tables)
            else:
                reports[name] = run_child(name, args, tables, results.get(name, Path(os.devnull)))
            r = reports[name]
            r["load_before"] = load
            extra = f"  (session start {_fmt(r['session_s'])} s)" if "session_s" in r else ""
            print(f"  {name:<14} {_fmt(r.get('seconds')):>9} s  peak {_fmt(r.get('peak_rss_mb'), 0):>6} MB{extra}"
                  + (f"  ERROR {r['error']}" if "error" in r else ""), flush=True)
        differ = (compare(results["duck_suite"], results["spark_suite"])
                  if all("error" not in reports.get(s, {"error": 1}) for s in results) else None)
    finally:
        for p in results.values():
            p.unlink(missing_ok=True)
        if temporary:
            shutil.rmtree(tables, ignore_errors=True)

    def secs(name: str, with_session: bool = False) -> float | None:
        r = reports.get(name, {})
        s = r.get("seconds")
        return s + r.get("session_s", 0.0) if s is not None and with_session else s

    ratios = {
        "refresh spark / duckdb": _ratio(secs("spark_refresh"), secs("duck_refresh")),
        "refresh spark (with session start) / duckdb": _ratio(secs("spark_refresh", True), secs("duck_refresh")),
        "suite spark / duckdb": _ratio(secs("spark_suite"), secs("duck_suite")),
        "suite spark (with session start) / duckdb": _ratio(secs("spark_suite", True), secs("duck_suite")),
        "refresh peak memory spark / duckdb": _ratio(reports.get("spark_refresh", {}).get("peak_rss_mb"),
                                                     reports.get("duck_refresh", {}).get("peak_rss_mb")),
    }
    print()
    print(f"{'step':<14} {'seconds':>9} {'session':>8} {'peak MB':>8}  detail")
    for name, r in reports.items():
        detail = r.get("error") or (
            f"python {_fmt(r['python_peak_rss_mb'], 0)} MB + JVM {_fmt(r['jvm_peak_rss_mb'], 0)} MB"
            if "jvm_peak_rss_mb" in r else
            f"{r['bytes'] / 2**20:,.0f} MiB written" if "bytes" in r else
            (f"facts {_fmt(r['facts_s'])} s + SLA {_fmt(r['sla_s'])} s" if r.get("sla_s") is not None
             else f"facts {_fmt(r['facts_s'])} s, no SLA clocks") if "facts_s" in r else "")
        print(f"{name:<14} {_fmt(r.get('seconds')):>9} {_fmt(r.get('session_s')):>8} "
              f"{_fmt(r.get('peak_rss_mb'), 0):>8}  {detail}")
    print()
    if differ is None:
        print("parity: not checked (a suite step is missing or failed)")
    elif not differ:
        print("parity: identical (the suite on Spark equals DuckDB's, by test_parity's tolerances)")
    else:
        print(f"parity: {len(differ)} differences:")
        for line in differ[:40]:
            print(f"  {line}")
    for k, v in ratios.items():
        print(f"{k:<48} {_fmt(v)}")
    out = {
        "tickets": counts["tickets"], "events": counts["events"], "suite": SUITE, "by": BY, "grain": GRAIN,
        "now": args.now, "sla_clocks": not args.no_sla,
        "spark": {"master": args.spark_master, "driver_memory": args.driver_memory, "conf": args.spark_conf},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "memory_gib": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
                    "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "steps": reports, "ratios": ratios, "parity": "not checked" if differ is None else differ or "identical",
    }
    args.out.mkdir(exist_ok=True)
    target = args.out / f"spark_{counts['tickets']}{'_nosla' if args.no_sla else ''}.json"
    target.write_text(json.dumps(out, indent=2, default=str))
    print(f"\nwritten {target}")


if __name__ == "__main__":
    main()
