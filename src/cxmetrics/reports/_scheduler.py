"""The server's report sender: `run_due()` every `interval` of reports.toml, in a daemon thread.

`cxmetrics serve` always starts one: it idles (looking at reports.toml once a minute) until
the file schedules a report, so a schedule added while the server runs needs no restart.
Each step works on its own cursor of the workspace; its ledger writes take turns with the
server's imports. A failed step is logged (the message names the setting to fix; never a
password) and tried again at the next tick. Several servers or a cron job beside the server
send nothing twice: the ledger's key and lease decide (reports/_ledger.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cxmetrics.errors import CxError
from cxmetrics.reports._config import load_config
from cxmetrics.reports._run import Evaluate, RunResult, default_evaluate, run_due

log = logging.getLogger("cxmetrics.reports")

_IDLE_S = 60.0  # how often a workspace without schedules looks at reports.toml again


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ReportScheduler:
    """Runs the report schedules of an open workspace in a daemon thread."""

    def __init__(self, ws: Any, *, evaluate_sla: Evaluate | None = default_evaluate,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.ws = ws
        self.evaluate_sla = evaluate_sla
        self.clock = clock or _utcnow
        self.runs = 0
        self.last: list[RunResult] = []
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._idle = threading.Condition()

    def step(self) -> list[RunResult]:
        """One pass now (the thread's step; tests may call it). Errors are logged, not raised."""
        try:
            cfg = load_config(self.ws.path)
            if not any(r.enabled for r in cfg.reports):
                return []
            cur = self.ws.cursor(auto_refresh=False)
            try:
                results = run_due(cur, now=self.clock(), config=cfg, evaluate_sla=self.evaluate_sla)
            finally:
                cur.close()
            self.last, self.last_error = results, None
            for r in results:
                if r.status in ("delivered", "retry", "failed"):
                    log.info("%s", r)
            return results
        except CxError as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.error("scheduled reports cannot go out (will try again): %s", self.last_error)
            return []
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("scheduled reports failed unexpectedly (will try again)")
            return []
        finally:
            with self._idle:
                self.runs += 1
                self._idle.notify_all()

    def _interval(self) -> float:
        try:
            cfg = load_config(self.ws.path)
        except CxError:
            return _IDLE_S
        return cfg.interval_s if cfg.reports else _IDLE_S

    def _loop(self) -> None:
        log.info("running report schedules for %s", self.ws.path)
        while not self._stop.is_set():
            self.step()
            self._stop.wait(self._interval())
        log.info("stopped report schedules for %s", self.ws.path)

    def start(self) -> ReportScheduler:
        """Start the thread (a daemon); `stop()` ends it."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="cxmetrics-reports", daemon=True)
            self._thread.start()
        return self

    def wait_runs(self, n: int, timeout: float = 60.0) -> bool:
        """Block until `n` steps in all have ended (tests); False after `timeout` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: self.runs >= n, timeout)

    def stop(self, timeout: float | None = 60.0) -> None:
        """Stop after the step in progress and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
