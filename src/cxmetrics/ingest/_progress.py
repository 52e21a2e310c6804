"""A progress bar for long engine queries, drawn on a terminal only.

The engine reports how far a running query is; a thread reads that and redraws one
line on stderr. Nothing is drawn when stderr is not a terminal (pipes, CI, tests).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

_DELAY_S = 1.0  # short queries draw nothing


@contextmanager
def progress(con: duckdb.DuckDBPyConnection, label: str, enabled: bool = True) -> Iterator[None]:
    if not enabled or not sys.stderr.isatty():
        yield
        return
    done = threading.Event()
    drawn = threading.Event()

    def draw() -> None:
        if done.wait(_DELAY_S):
            return
        while not done.wait(0.2):
            try:
                pct = con.query_progress()
            except duckdb.Error:
                continue
            if pct is None or pct < 0:
                continue
            filled = int(pct / 100 * 30)
            sys.stderr.write(f"\r{label[:40]:<40} [{'#' * filled}{'.' * (30 - filled)}] {pct:5.1f}%")
            sys.stderr.flush()
            drawn.set()

    thread = threading.Thread(target=draw, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        if drawn.is_set():
            sys.stderr.write("\r" + " " * 80 + "\r")
            sys.stderr.flush()
