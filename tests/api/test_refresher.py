"""The refresher: concurrent writes share one facts refresh (issue 17, item 3)."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Any

from cxmetrics.api._refresher import Refresher


class FakeWorkspace:
    """Counts refreshes (each takes `refresh_s`)."""

    def __init__(self, refresh_s: float = 0.05) -> None:
        self.refreshes = 0
        self.refresh_s = refresh_s

    @contextmanager
    def cursor(self, auto_refresh: bool = True) -> Any:
        yield self

    def refresh(self) -> int:
        time.sleep(self.refresh_s)
        self.refreshes += 1
        return 0


def test_a_write_in_progress_holds_the_refresh_back_so_both_share_it() -> None:
    ws = FakeWorkspace()
    versions = iter(range(1, 100))
    refresher = Refresher(ws, lambda tables: next(versions), max_delay_s=5.0)
    started, proceed, done = threading.Event(), threading.Event(), []

    def slow_writer() -> None:  # still importing when the other write asks to see its events
        with refresher.writing():
            started.set()
            proceed.wait(10)
            ticket = refresher.wrote(["events"])
        done.append(refresher.wait(ticket, timeout=10))

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert started.wait(5)
    ticket = refresher.wrote(["events"])
    waiter = threading.Thread(target=lambda: done.append(refresher.wait(ticket, timeout=10)))
    waiter.start()
    time.sleep(0.4)
    assert ws.refreshes == 0  # someone waits, but a write is under way: not yet
    proceed.set()
    writer.join(10)
    waiter.join(10)
    assert ws.refreshes == 1 and done == [1, 1]  # one refresh for both writes
    refresher.close()


def test_a_write_that_takes_long_holds_the_refresh_back_at_most_the_delay() -> None:
    ws = FakeWorkspace()
    refresher = Refresher(ws, lambda tables: 7, max_delay_s=0.3)
    release = threading.Event()

    def stuck_writer() -> None:
        with refresher.writing():
            release.wait(10)

    writer = threading.Thread(target=stuck_writer)
    writer.start()
    t0 = time.monotonic()
    assert refresher.wait(refresher.wrote(["events"]), timeout=10) == 7
    assert time.monotonic() - t0 < 3 and ws.refreshes == 1  # after the delay, not the stuck write
    release.set()
    writer.join(10)
    refresher.close()
