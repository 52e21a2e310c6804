"""The server's survey sender: `run()` every `interval` (surveys.toml) and when told that
new facts arrived.

`cxmetrics serve` always starts one: it idles (looking at surveys.toml once a minute) until
the file defines a survey, so a survey defined while the server runs needs no restart. A ticket solved
through the API or a help-desk webhook is refreshed into the facts by the refresher, whose
`after` hook calls `notify()`: the survey is planned (and mailed when its delay is zero,
else at the first run after the delay) as soon as the server's writes pause (`quiet_s`), and
at most `max_lag_s` after the notice while they keep coming. A run reads and writes the
store under the write lock, and run after each refresh it held up the write that came next:
at a million tickets, one client posting batches of 1,000 events and waiting for each got
2,845-4,373 events/s with a run after every refresh and 3,182-4,461 with the runs waiting for
a pause, better in each of six alternating pairs of bench/api_bench.py runs (docs/api.md). Each step works on its own cursor of the
workspace, whose writes take turns with the server's imports; when it wrote survey_sends
rows it calls `on_change(tables)` (the refresher: facts refreshed, dashboards told). A
failed step is logged (the message names the setting to fix; never a token or a password)
and tried again at the next tick. surveys.toml is read again when it changes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cxmetrics.errors import CxError
from cxmetrics.surveys._config import load_config
from cxmetrics.surveys._sends import RunReport, run

log = logging.getLogger("cxmetrics.surveys")

_MIN_WAIT_S = 0.5  # never spin: at most two runs a second
# a step that took t seconds is followed by at least this many times t of rest, however often
# new facts arrive: a stream of writes would otherwise keep one core planning surveys instead
# of refreshing the facts (a run reads only the tickets solved since its definitions started,
# but a relationship survey reads every customer of its segment)
_REST_FACTOR = 4.0
_IDLE_S = 60.0  # how often a workspace without surveys looks at surveys.toml again
_QUIET_S = 0.3  # a run waits for the server's writes to pause this long (module doc)...
_MAX_LAG_S = 3.0  # ...but no longer than this


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SurveyScheduler:
    """Runs the survey rules and deliveries of an open workspace in a daemon thread."""

    def __init__(self, ws: Any, on_change: Callable[[list[str]], Any] | None = None, *,
                 clock: Callable[[], datetime] | None = None, quiet: Callable[[], float] | None = None,
                 quiet_s: float = _QUIET_S, max_lag_s: float = _MAX_LAG_S) -> None:
        """`quiet()`: how long (seconds) the server's writes have paused, 0 while one is under
        way (the refresher's `quiet_s`); None: runs never wait for a pause."""
        self.ws = ws
        self.on_change = on_change
        self.clock = clock or _utcnow
        self.quiet, self.quiet_s, self.max_lag_s = quiet, quiet_s, max_lag_s
        self.runs = 0
        self.failures = 0
        self.last: RunReport | None = None
        self.last_error: str | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._idle = threading.Condition()

    def step(self) -> RunReport | None:
        """One run now (the thread's step; tests may call it directly). Errors are logged."""
        try:
            config = load_config(self.ws.path)
            if not config.surveys:  # (disabled ones still run: their pending e-mails are cancelled)
                return None
            cur = self.ws.cursor(auto_refresh=False)
            try:
                # (the skips of old tickets are left uncounted: the sends are the same, and
                # reading every ticket after each write held the server's writes back)
                report = run(cur, now=self.clock(), config=config, skips=False)
            finally:
                cur.close()
        except CxError as exc:
            self.failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.error("survey run failed (will try again): %s", self.last_error)
            return None
        except Exception as exc:
            self.failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("survey run failed unexpectedly (will try again)")
            return None
        finally:
            with self._idle:
                self.runs += 1
                self._idle.notify_all()
        self.last, self.last_error = report, report.problem
        if report.problem:
            log.error("survey e-mails cannot go out (they wait): %s", report.problem)
        if report.planned or report.deliveries:
            log.info("surveys: %d planned, %d delivered, %d reminded, %d failed", report.planned, report.delivered,
                     report.reminded, report.failed)
        if report.wrote and self.on_change is not None:
            try:
                self.on_change(report.wrote)
            except Exception:
                log.exception("telling the server about new survey sends failed")
        return report

    def _interval(self) -> float:
        try:
            cfg = load_config(self.ws.path)
        except CxError:
            return _IDLE_S
        return cfg.interval_s if cfg.surveys else _IDLE_S

    def _wait_s(self, report: RunReport | None) -> float:
        """Until the next tick, or sooner when something falls due before it (a delay ends,
        a retry or a reminder is due): a survey goes out on time, not up to an interval late."""
        wait = self._interval()
        # (not when the e-mails cannot go, or the SMTP server just failed: the tick paces the retries)
        if report is not None and report.next_due is not None and not report.problem and not report.retrying:
            wait = min(wait, (report.next_due - self.clock()).total_seconds())
        return max(_MIN_WAIT_S, wait)

    def _loop(self) -> None:
        log.info("sending surveys for %s", self.ws.path)
        while not self._stop.is_set():
            self._wake.clear()
            self._until_quiet()
            if self._stop.is_set():
                break
            started = time.monotonic()
            report = self.step()
            took = time.monotonic() - started
            self._wake.wait(self._wait_s(report))
            rest = _REST_FACTOR * took - (time.monotonic() - started - took)
            if rest > 0 and not self._stop.is_set():  # woken early by new facts: a short rest first
                self._stop.wait(rest)
        log.info("stopped sending surveys for %s", self.ws.path)

    def _until_quiet(self) -> None:
        """Wait until the server's writes have paused for `quiet_s`, or for `max_lag_s`."""
        if self.quiet is None:
            return
        deadline = time.monotonic() + self.max_lag_s
        while not self._stop.is_set():
            try:
                quiet = self.quiet()
            except Exception:  # noqa: BLE001 - never keep the surveys from going out
                log.exception("asking the server whether its writes paused failed")
                return
            left = deadline - time.monotonic()
            if quiet >= self.quiet_s or left <= 0:
                return
            self._stop.wait(min(self.quiet_s - quiet, left))

    def start(self) -> SurveyScheduler:
        """Start the thread (a daemon); `stop()` ends it."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="cxmetrics-surveys", daemon=True)
            self._thread.start()
        return self

    def notify(self) -> None:
        """New facts arrived (a solve, perhaps): run now rather than at the next tick."""
        self._wake.set()

    def wait_runs(self, n: int, timeout: float = 30.0) -> bool:
        """Block until `n` steps in all have ended (tests); False after `timeout` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: self.runs >= n, timeout)

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop after the step in progress and wait for the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
