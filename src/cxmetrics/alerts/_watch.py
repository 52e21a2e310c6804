"""The watcher: evaluate SLA targets, record state changes, deliver alerts.

One step (`Watcher.run_once(now)`):
1. bring the facts and the SLA targets up to date as of `now`;
2. record every new state change (at risk, breached) in the ledger together with its
   deliveries, in one transaction (see `_ledger`);
3. deliver what is due: each pending delivery whose time has come is sent once; a
   failure is retried later with exponential backoff, a permanent one is given up;
   during quiet hours held kinds wait for the quiet time to end.

The watcher runs steps on a clock (every `interval`), sooner when told that events
arrived (`notify()`) or when it sees the workspace change, and sooner when a retry or
a held delivery falls due. It runs in a thread (`start()`/`stop()`), as an asyncio
task (`await watcher.run_async()`), or in the foreground (`run_forever()`).

Given a path, the watcher opens the workspace for each step and closes it after, so
other processes (`cxmetrics import`) can use it in between; given an open
`Workspace`, it works on a cursor of its connection (the server's way).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from cxmetrics._workspace import DB_FILE, Workspace, translate_errors
from cxmetrics.alerts import _ledger
from cxmetrics.alerts._config import CONFIG_FILE, AlertsConfig, HoldMode
from cxmetrics.alerts._deliver import Outcome, send
from cxmetrics.alerts._quiet import quiet_until
from cxmetrics.alerts._targets import SlaTargets, TargetSource, candidates, since_for
from cxmetrics.errors import CxError, UserError

log = logging.getLogger("cxmetrics.alerts")

_CHANGE_POLL_S = 2.0  # how often the loop looks for new data between steps
# New data wakes a step at most this long after the last one began: while a stream of writes
# comes in (an API ingest: a notice after each batch's facts refresh), one step covers the
# batches of the last seconds instead of re-evaluating every open clock after each (0.4 s at a
# million tickets, under the write lock that the next batch's import then waits for).
NOTIFIED_GAP_S = 2.0
_MIN_WAIT_S = 0.05
_ASYNC_SLICE_S = 0.2  # how quickly the asyncio loop notices notify() and stop()


@dataclass(frozen=True)
class Delivery:
    """What happened to one delivery in a step.

    status: `delivered`; `retry` (failed, will be tried again at `next_attempt_at`);
    `failed` (given up: permanent error or attempts exhausted); `held` (quiet hours,
    will go at `next_attempt_at`)."""

    alert_id: str
    kind: str
    ticket_id: str
    metric: str
    policy: str | None
    destination: str
    status: str
    attempt: int
    error: str | None = None
    next_attempt_at: datetime | None = None

    def __str__(self) -> str:
        policy = self.policy or "no policy"
        what = f"{self.kind:<8} ticket {self.ticket_id} {self.metric} ({policy}) -> {self.destination}"
        if self.status == "delivered":
            return f"{what}: delivered (attempt {self.attempt})"
        if self.status == "held":
            return f"{what}: held for quiet hours until {self.next_attempt_at:%Y-%m-%d %H:%M} UTC"
        if self.status == "retry":
            return f"{what}: attempt {self.attempt} failed ({self.error}); retry at {self.next_attempt_at:%H:%M:%S} UTC"
        return f"{what}: FAILED after {self.attempt} attempt(s): {self.error}"


@dataclass(frozen=True)
class WatchReport:
    """One step: the clock it ran at, the alerts it recorded, the deliveries it made,
    and what is still pending (count, and when the next one is due)."""

    now: datetime
    new_alerts: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    pending: int = 0
    next_due: datetime | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise UserError(f"now ({now.isoformat()}) has no time zone; give an aware datetime, e.g. ...+00:00.")
    return now.astimezone(UTC)


class Watcher:
    """Watches a workspace's SLA targets and sends alerts (see the module doc).

    `workspace` is a folder (opened for each step) or an open Workspace (used through a
    cursor). `config` defaults to the workspace's `alerts.toml`, re-read when the file
    changes; `interval` (seconds) defaults to the config's. `on_delivery` is called
    with each `Delivery` (the CLI prints them). `targets` says where targets come from
    (default: the SLA package)."""

    def __init__(
        self,
        workspace: Workspace | str | os.PathLike[str],
        *,
        config: AlertsConfig | None = None,
        interval: float | None = None,
        on_delivery: Callable[[Delivery], None] | None = None,
        targets: TargetSource | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if isinstance(workspace, Workspace):
            self._ws: Workspace | None = workspace
            self.path = workspace.path
        else:
            self._ws = None
            self.path = Path(workspace)
            if not (self.path / DB_FILE).exists():
                raise UserError(f"no workspace at {self.path}: create one with `cxmetrics import` or `cxmetrics demo`.")
        self._fixed_config = config is not None
        self._config_mtime: float | None = None
        self.config = config if config is not None else self._load_config()
        self.interval = interval
        self.on_delivery = on_delivery
        self.targets = targets or SlaTargets()
        self.clock = clock
        self._lock = threading.Lock()  # one step at a time
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: object = None  # what the workspace looked like after our last step

    # -- configuration ---------------------------------------------------------------

    def _load_config(self) -> AlertsConfig:
        path = self.path / CONFIG_FILE
        cfg = AlertsConfig.load(path)
        self._config_mtime = path.stat().st_mtime
        return cfg

    def _maybe_reload(self) -> None:
        """Re-read alerts.toml when it changed; a broken edit keeps the old config."""
        if self._fixed_config:
            return
        path = self.path / CONFIG_FILE
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return
        if mtime == self._config_mtime:
            return
        try:
            self.config = AlertsConfig.load(path)
            log.info("reloaded %s", path)
        except UserError as exc:
            log.error("%s changed but cannot be used (keeping the previous configuration): %s", path, exc)
        self._config_mtime = mtime

    @property
    def interval_s(self) -> float:
        """Seconds between steps when nothing else wakes the watcher."""
        return self.interval if self.interval is not None else self.config.interval_s

    # -- one step ------------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[tuple[duckdb.DuckDBPyConnection, str, AbstractContextManager[Any]]]:
        """A connection for this thread, the workspace's time zone, and the lock that
        writes to the workspace take turns under (the server's imports share it)."""
        if self._ws is not None:
            cur = self._ws.cursor(auto_refresh=False)
            try:
                yield cur.con, cur.settings.timezone, getattr(self._ws, "_write_lock", nullcontext())
            finally:
                cur.close()
        else:
            with Workspace(self.path) as ws:
                yield ws.con, ws.settings.timezone, nullcontext()

    def run_once(self, now: datetime | None = None) -> WatchReport:
        """One step at `now` (default: the clock): refresh, record, deliver. Deliveries
        due at `now` are attempted once each; retries wait for a later step. If the
        targets cannot be evaluated (say, a broken sla.toml), what is already in the
        outbox is still delivered, and then the error is raised."""
        now = _aware(now) if now is not None else self.clock()
        with self._lock:
            self._maybe_reload()
            cfg = self.config
            names = [d.name for d in cfg.destinations]
            failure: Exception | None = None
            with self._connection() as (con, tz, write_lock), translate_errors():
                new: list[dict[str, Any]] = []
                try:
                    with write_lock:
                        self.targets.refresh(con, now)
                        since = since_for(_ledger.last_now(con), now, cfg.backfill_s)
                        sql, params = candidates(self.targets.table, now=now, lead_s=cfg.at_risk_before_s,
                                                 since=since, timezone_name=tz)
                        new = _ledger.record(con, sql, params, cfg, now).to_pylist()
                except (CxError, duckdb.Error) as exc:
                    # (a broken sla.toml must not stop the retries of alerts already recorded)
                    failure = exc
                with write_lock:
                    due = _ledger.due(con, now, names)
                for a in new:
                    log.info("alert %s: %s ticket %s %s (policy %s)", a["alert_id"], a["kind"], a["ticket_id"],
                             a["metric"], a["policy"])
                deliveries = self._deliver(con, write_lock, cfg, tz, now, due)
                pending, next_due = _ledger.pending_summary(con, names)
                if self._ws is not None:
                    self._seen = self._signature(con)
            if self._ws is None:  # after closing: closing writes the files too
                self._seen = self._signature(None)
        if failure is not None:
            with translate_errors():
                raise failure
        return WatchReport(now=now, new_alerts=new, deliveries=deliveries, pending=pending, next_due=next_due)

    def _deliver(self, con: duckdb.DuckDBPyConnection, write_lock: AbstractContextManager[Any], cfg: AlertsConfig,
                 tz: str, now: datetime, due: list[_ledger.Due]) -> list[Delivery]:
        """Send what is due; the ledger is written under the write lock, the network
        is used outside it (a slow server must not hold up imports)."""
        out: list[Delivery] = []
        down: set[str] = set()  # destinations that failed transiently in this step: the rest waits
        quiet_tz = cfg.quiet_hours.timezone or tz
        quiet_end = quiet_until(cfg.quiet_hours.spans, quiet_tz, now)
        for item in due:
            dest = cfg.destination(item.destination)
            a = item.alert
            if dest is None or item.destination in down:
                continue
            base = {"alert_id": a["alert_id"], "kind": a["kind"], "ticket_id": a["ticket_id"],
                    "metric": a["metric"], "policy": a["policy"], "destination": dest.name}
            held = quiet_end is not None and dest.quiet_hours and (
                cfg.quiet_hours.hold is HoldMode.ALL or a["kind"] == "at_risk")
            if held:
                assert quiet_end is not None
                with write_lock:
                    _ledger.hold(con, a["alert_id"], dest.name, quiet_end)
                out.append(self._report(Delivery(**base, status="held", attempt=item.attempts,
                                                 next_attempt_at=quiet_end)))
                continue
            retry_at = now + timedelta(seconds=cfg.retry.delay(item.attempts + 1))
            with write_lock:
                attempt = _ledger.lease(con, a["alert_id"], dest.name, now, retry_at)
            outcome = self._send(dest, cfg, a, attempt)
            with write_lock:
                result = self._settle(con, cfg, base, outcome, attempt, now, retry_at)
            out.append(self._report(result))
            if not outcome.ok and not outcome.permanent:
                down.add(dest.name)
        return out

    def _send(self, dest: Any, cfg: AlertsConfig, alert: dict[str, Any], attempt: int) -> Outcome:
        try:
            return send(dest, cfg.secrets[dest.name], alert, attempt, cfg.retry.timeout)
        except Exception as exc:
            log.exception("sending alert %s to %s failed unexpectedly", alert["alert_id"], dest.name)
            return Outcome(ok=False, error=f"unexpected error: {type(exc).__name__}: {exc}")

    def _settle(self, con: duckdb.DuckDBPyConnection, cfg: AlertsConfig, base: dict[str, Any], outcome: Outcome,
                attempt: int, now: datetime, retry_at: datetime) -> Delivery:
        aid, name = base["alert_id"], base["destination"]
        if outcome.ok:
            _ledger.delivered(con, aid, name, now, outcome.note)
            log.info("delivered %s %s (ticket %s) to %s, attempt %d", base["kind"], aid, base["ticket_id"], name,
                     attempt)
            if outcome.note:
                log.warning("alert %s to %s: %s", aid, name, outcome.note)
            return Delivery(**base, status="delivered", attempt=attempt)
        error = outcome.error or "failed"
        if outcome.permanent or attempt >= cfg.retry.max_attempts:
            why = "permanent error" if outcome.permanent else f"{attempt} attempts, the most allowed"
            _ledger.failed(con, aid, name, error, final=True)
            log.error("giving up alert %s to %s (%s): %s", aid, name, why, error)
            return Delivery(**base, status="failed", attempt=attempt, error=error)
        if outcome.retry_after is not None:
            retry_at = max(retry_at, now + timedelta(seconds=min(outcome.retry_after, cfg.retry.max_delay)))
        _ledger.failed(con, aid, name, error, final=False, retry_at=retry_at)
        log.warning("alert %s to %s: attempt %d failed (%s); retrying at %s", aid, name, attempt, error,
                    retry_at.isoformat())
        return Delivery(**base, status="retry", attempt=attempt, error=error, next_attempt_at=retry_at)

    def _report(self, d: Delivery) -> Delivery:
        if self.on_delivery is not None:
            self.on_delivery(d)
        return d

    # -- noticing new data -------------------------------------------------------------

    def _signature(self, con: duckdb.DuckDBPyConnection | None) -> object:
        """Something that changes when data arrives: the import log (an open workspace),
        else the database files' sizes and times (another process may write them)."""
        if self._ws is not None and con is not None:
            return tuple(con.execute("SELECT count(*), max(started_at)::VARCHAR, max(finished_at)::VARCHAR "
                                     "FROM imports").fetchall()[0])
        out = []
        for name in (DB_FILE, DB_FILE + ".wal"):
            try:
                st = (self.path / name).stat()
                out.append((st.st_size, st.st_mtime_ns))
            except OSError:
                out.append(None)
        return tuple(out)

    def _changed(self) -> bool:
        try:
            if self._ws is not None:
                cur = self._ws.cursor(auto_refresh=False)
                try:
                    with translate_errors():
                        return self._signature(cur.con) != self._seen
                finally:
                    cur.close()
            return self._signature(None) != self._seen
        except CxError:
            return False

    def notify(self) -> None:
        """Events arrived: run a step now instead of at the next tick."""
        self._wake.set()

    # -- running -------------------------------------------------------------------------

    def _step_safely(self) -> WatchReport | None:
        try:
            return self.run_once()
        except CxError as exc:
            log.error("watch step failed (will try again): %s: %s", type(exc).__name__, exc)
        except Exception:
            log.exception("watch step failed unexpectedly (will try again)")
        return None

    def _gap_left(self, began: datetime) -> float:
        """Seconds until new data may wake the next step (NOTIFIED_GAP_S after the last began)."""
        return max(0.0, NOTIFIED_GAP_S - (self.clock() - began).total_seconds())

    def _wait_s(self, report: WatchReport | None) -> float:
        wait = self.interval_s
        if report is not None and report.next_due is not None:
            wait = min(wait, (report.next_due - self.clock()).total_seconds())
        return max(_MIN_WAIT_S, wait)

    def run_forever(self) -> None:
        """Run steps until `stop()`: on the clock, on `notify()`, and on new data."""
        self._stop.clear()
        log.info("watching %s every %g s", self.path, self.interval_s)
        while not self._stop.is_set():
            self._wake.clear()
            began = self.clock()
            report = self._step_safely()
            deadline = self.clock() + timedelta(seconds=self._wait_s(report))
            while not self._stop.is_set():
                left = (deadline - self.clock()).total_seconds()
                if left <= 0:
                    break
                if self._wake.wait(min(left, _CHANGE_POLL_S)) or self._changed():
                    self._stop.wait(min(left, self._gap_left(began)))
                    break
        log.info("stopped watching %s", self.path)

    def start(self) -> None:
        """Run in a background thread (daemon); `stop()` ends it."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_forever, name="cxmetrics-sla-watch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop the loop after the step in progress (if any) and wait for it."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    async def run_async(self) -> None:
        """The loop as an asyncio task: steps run in a worker thread, so the event loop
        stays free. Cancel the task (or call `stop()`) to end it."""
        self._stop.clear()
        try:
            while not self._stop.is_set():
                self._wake.clear()
                began = self.clock()
                report = await asyncio.to_thread(self._step_safely)
                deadline = self.clock() + timedelta(seconds=self._wait_s(report))
                polled = self.clock()
                woken = False
                while not self._stop.is_set() and not (woken := self._wake.is_set()):
                    left = (deadline - self.clock()).total_seconds()
                    if left <= 0:
                        break
                    await asyncio.sleep(min(left, _ASYNC_SLICE_S))
                    if (self.clock() - polled).total_seconds() >= _CHANGE_POLL_S:
                        polled = self.clock()
                        if woken := await asyncio.to_thread(self._changed):
                            break
                # new data: not sooner than NOTIFIED_GAP_S after the last step began (nor the deadline)
                while woken and not self._stop.is_set() and self.clock() < deadline and self._gap_left(began) > 0:
                    await asyncio.sleep(min(self._gap_left(began), _ASYNC_SLICE_S))
        finally:
            self._stop.set()
