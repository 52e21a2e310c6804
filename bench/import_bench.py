"""Import benchmark: flat tickets from CSV and Parquet.

Throughput is a ratio to DuckDB's own `read_csv` / `read_parquet` into a table of a
fresh database file in the same run: that is the ceiling of this engine (issue 17 aims
at half of it). Each run happens in its own subprocess, so peak memory (max RSS) is
that run's alone. DuckDB stores the file's rows once; so does cxmetrics (`rows_written`):
what a flat ticket implies (its created, first-reply and solved events, its survey
answers) is derived by the events and surveys views from columns of its row, and
`rows_in_model` counts the rows a reader sees, about 4.2 per ticket here.

    python bench/import_bench.py --rows 1000000            # throughput, CSV and Parquet
    python bench/import_bench.py --rows 1000000 --repeat 3 # best of 3, runs interleaved (busy machines)
    python bench/import_bench.py --rows 10000000 --formats csv   # peak memory at 10M
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _data import write_flat  # noqa: E402

BASELINE = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[2])
con.execute("SET enable_progress_bar = false")
reader = "read_parquet" if sys.argv[1].endswith(".parquet") else "read_csv"
t = time.perf_counter()
con.execute(f"CREATE TABLE flat AS SELECT * FROM {reader}('{sys.argv[1]}')")
con.close()
import resource
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""

OURS = """
import cxmetrics, sys, time
t = time.perf_counter()
with cxmetrics.open(sys.argv[2], create=True) as ws:
    s = ws.import_file("tickets", sys.argv[1])
    c = ws.counts()
    stored = ws.con.execute("SELECT (SELECT count(*) FROM tickets) + (SELECT count(*) FROM events_stored) "
                            "+ (SELECT count(*) FROM surveys_stored)").fetchall()[0][0]
import resource
print(time.perf_counter() - t, s.read, s.inserted, stored, c["tickets"] + c["events"] + c["surveys"],
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def run_child(code: str, *args: str) -> list[str]:
    """Run code in a fresh interpreter (which prints its own peak RSS last)."""
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True).stdout.split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--formats", default="csv,parquet")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each, interleaved; the best time of each counts (a shared CPU only slows runs)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args()
    args.out.mkdir(exist_ok=True)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats.split(","):
            data = write_flat(Path(tmp) / f"flat.{fmt}", args.rows)
            t_ours = t_base = float("inf")
            ours_mb = base_mb = 0.0
            for r in range(args.repeat):
                ours = run_child(OURS, str(data), str(Path(tmp) / f"ws_{fmt}_{r}"))
                base = run_child(BASELINE, str(data), str(Path(tmp) / f"base_{fmt}_{r}.duckdb"))
                t_ours, t_base = min(t_ours, float(ours[0])), min(t_base, float(base[0]))
                ours_mb, base_mb = max(ours_mb, float(ours[-1])), max(base_mb, float(base[-1]))
            assert int(ours[1]) == int(ours[2]) == args.rows
            results.append({
                "format": fmt, "rows": args.rows, "file_mb": round(data.stat().st_size / 2**20, 1),
                "duckdb_s": round(t_base, 2), "duckdb_rows_per_s": round(args.rows / t_base),
                "cxmetrics_s": round(t_ours, 2), "cxmetrics_rows_per_s": round(args.rows / t_ours),
                "ratio_to_duckdb": round(t_base / t_ours, 2),
                "rows_written": int(ours[3]), "rows_in_model": int(ours[4]),
                "cxmetrics_peak_rss_mb": round(ours_mb), "duckdb_peak_rss_mb": round(base_mb),
            })
            print(json.dumps(results[-1]), flush=True)
    (args.out / f"import_{args.rows}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
