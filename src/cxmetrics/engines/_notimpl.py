"""Metrics Spark cannot run yet, each with its reason (ibis's `notimpl` markers are the
model). The parity tests (tests/spark/) expect exactly these to fail on Spark and every other
metric of the catalogue to equal DuckDB's answer; docs/spark.md lists them.

Empty today: every metric of the catalogue runs on Spark. (The last four, the active-user
metrics, subtracted DATEs, a number of days in DuckDB and an INTERVAL in Spark; they now ask
for `date_diff('day', a, b)`, which both engines answer in days.)"""

from __future__ import annotations

#: metric name -> why Spark cannot run it yet
NOTIMPL: dict[str, str] = {}
