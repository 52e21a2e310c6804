"""Live sync on an interval, while `cxmetrics serve` runs (docs/connectors.md, "Live sync").

Every `[connectors.VENDOR]` with `interval` set (and a live sync) gets one background thread
owned by the server: it syncs once when the server starts, then again `interval` after each
run ends, so one vendor never has two syncs at a time. A sync that changed rows tells the
server (`on_change(tables)`: the refresher brings the facts up to date and publishes the
change on the live hub, so open dashboards update, as after an API ingest). A failed sync is
logged (its message names the setting to fix, never the token) and tried again at the next
interval; as every sync resumes from its saved cursor, nothing fetched is lost. `stop()`
interrupts waits (Retry-After, backoff, the interval) and joins the threads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cxmetrics.connectors._sync import SyncSummary, parse_interval, sync
from cxmetrics.errors import CxError

log = logging.getLogger("cxmetrics.connectors")

SyncFn = Callable[..., SyncSummary]


class _Stopped(Exception):
    """Raised from a sync's sleep when the server is stopping: the sync ends where it is
    (its pages and cursor are committed together, so the next one resumes there)."""


@dataclass
class VendorRuns:
    """What the scheduler did for one vendor: runs ended, failures, the last error."""

    vendor: str
    every_s: float
    runs: int = 0
    failures: int = 0
    last_error: str | None = None
    last: SyncSummary | None = None
    done: threading.Condition = field(default_factory=threading.Condition)


def due(settings: Any) -> dict[str, float]:
    """Seconds between syncs per vendor with `interval` set and a live sync; raises
    ConnectorError (naming the setting) for an interval that is not a duration.

    >>> from cxmetrics.settings import Settings
    >>> due(Settings())
    {}
    """
    from cxmetrics.connectors import VENDORS
    from cxmetrics.errors import ConnectorError

    out: dict[str, float] = {}
    for vendor, conf in settings.connectors.items():
        text = conf.get("interval", "")
        try:
            every = parse_interval(text)
        except ConnectorError:
            raise ConnectorError(f"[connectors.{vendor}] interval '{text}' is not a duration such as 30s, 15m "
                                 "or 1h; fix it in settings.toml and restart the server.") from None
        if every is None:
            continue
        if vendor not in VENDORS or VENDORS[vendor].sync is None:
            raise ConnectorError(f"[connectors.{vendor}] sets interval, but {vendor} has no live sync yet; remove "
                                 "interval (import its files with `cxmetrics import`).")
        out[vendor] = every
    return out


def announce(settings: Any) -> str | None:
    """What `cxmetrics serve` prints about live sync: which vendors it syncs how often,
    why it is off, or None when no vendor sets an interval."""
    try:
        plan = due(settings)
    except CxError as exc:
        return f"Live sync is off: {exc}"
    if not plan:
        return None
    every = ", ".join(f"{v} every {settings.connectors[v]['interval'].strip()}" for v in sorted(plan))
    return f"Live sync: {every} ([connectors.VENDOR] interval in settings.toml), first now."


class Scheduler:
    """Background syncs for a server's workspace (see the module's docstring)."""

    def __init__(self, workspace: Any, on_change: Callable[[list[str]], Any], *, sync_fn: SyncFn = sync,
                 **sync_options: Any) -> None:
        self.workspace, self.on_change, self.sync_fn, self.sync_options = workspace, on_change, sync_fn, sync_options
        self.vendors: dict[str, VendorRuns] = {}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> Scheduler:
        """Start a thread per vendor with an interval; a bad interval is logged, not fatal
        (the dashboard still starts)."""
        try:
            plan = due(self.workspace.settings)
        except CxError as exc:
            log.error("live sync is off: %s", exc)
            return self
        for vendor, every in sorted(plan.items()):
            runs = self.vendors[vendor] = VendorRuns(vendor, every)
            thread = threading.Thread(target=self._loop, args=(runs,), name=f"cxmetrics-sync-{vendor}", daemon=True)
            self._threads.append(thread)
            thread.start()
            log.info("syncing %s every %g s", vendor, every)
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop every thread: a sync waiting (Retry-After, backoff) ends now; one mid-request
        ends when its request does."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout_s)

    def wait_runs(self, vendor: str, runs: int, timeout_s: float = 60.0) -> VendorRuns:
        """Block until `vendor` has ended `runs` runs (tests and callers that need a result)."""
        state = self.vendors[vendor]
        with state.done:
            if not state.done.wait_for(lambda: state.runs >= runs, timeout_s):
                raise TimeoutError(f"{vendor}: {state.runs} of {runs} syncs ended within {timeout_s} s")
        return state

    def _loop(self, runs: VendorRuns) -> None:
        while not self._stop.is_set():
            self._run(runs)
            if self._stop.wait(runs.every_s):
                return

    def _sleep(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise _Stopped

    def _run(self, runs: VendorRuns) -> None:
        vendor, error, summary = runs.vendor, None, None
        try:
            with self.workspace.cursor(auto_refresh=False) as ws:  # its own connection; writes take turns
                summary = self.sync_fn(ws, vendor, sleep=self._sleep, **self.sync_options)
        except _Stopped:
            log.info("%s sync stopped with the server; the next one resumes where it stopped", vendor)
        except CxError as exc:  # ConnectorError, TransientError...: messages name the setting, never the token
            error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # noqa: BLE001  (a scheduled sync must not take the server down)
            error = f"{type(exc).__name__}: {exc}"
            log.debug("%s sync failed", vendor, exc_info=True)
        if error is not None:
            log.warning("scheduled %s sync failed, trying again in %g s: %s", vendor, runs.every_s, error)
        changed = sorted(t for t, s in summary.tables.items() if s.inserted or s.updated) if summary else []
        if changed:
            try:
                self.on_change(changed)  # the facts refreshed and the change published on the live hub
            except Exception:  # noqa: BLE001
                log.exception("telling the server about the %s sync failed", vendor)
        with runs.done:
            runs.runs += 1
            runs.failures += error is not None
            runs.last_error, runs.last = error, summary if summary is not None else runs.last
            runs.done.notify_all()
