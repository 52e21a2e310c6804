"""`cxmetrics sla watch`: the watcher in the foreground, printing each alert it sends.

The command is attached to the `sla` group by the CLI (`sla.add_command(watch)`); it
reads the workspace from the root command's `--workspace`.
"""

from __future__ import annotations

import logging
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from zoneinfo import ZoneInfo

import click

from cxmetrics._clitools import workspace_path

from cxmetrics.alerts._config import parse_duration
from cxmetrics.alerts._watch import Delivery, Watcher, WatchReport
from cxmetrics.errors import CxError, UserError
from cxmetrics.settings import Settings

def _workspace(ctx: click.Context) -> Path:
    return workspace_path(ctx)


def _parse_now(text: str, path: Path) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"--now '{text}' is not an ISO 8601 time such as 2025-03-03T09:40:00Z.") from None
    if value.tzinfo is None:  # a naive time is in the workspace's time zone, as in imports
        value = value.replace(tzinfo=ZoneInfo(Settings.load(path / "settings.toml").timezone))
    return value.astimezone(UTC)


def _summary(r: WatchReport) -> str:
    sent = sum(d.status == "delivered" for d in r.deliveries)
    failed = sum(d.status == "failed" for d in r.deliveries)
    text = f"{r.now:%Y-%m-%d %H:%M:%S}Z: {len(r.new_alerts)} new alert(s), {sent} delivered"
    if failed:
        text += f", {failed} given up"
    if r.pending:
        text += f", {r.pending} waiting (next at {r.next_due:%Y-%m-%d %H:%M:%S}Z)" if r.next_due else ""
    return text


def _setup_logging() -> None:
    log = logging.getLogger("cxmetrics.alerts")
    if not log.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.WARNING)


@click.command("watch")
@click.option("--interval", help="Time between evaluations, e.g. 30s or 1m (default: alerts.toml's interval, 30s).")
@click.option("--once", is_flag=True, help="Evaluate and deliver once, then exit (for cron or a check).")
@click.option("--now", "now", metavar="ISO",
              help="With --once: evaluate as of this time instead of the clock (a naive time is in the "
                   "workspace's time zone).")
@click.pass_context
def watch(ctx: click.Context, interval: str | None, once: bool, now: str | None) -> None:
    """Watch SLA targets and send alerts: when a target is about to breach (alerts.toml's
    at_risk_before) and when it breaches, to the webhooks, Slack and e-mail destinations
    of the workspace's alerts.toml. Prints each delivery.

    Each state change alerts once per destination, also across restarts; failed
    deliveries are retried with backoff. Between evaluations the workspace is closed,
    so imports from other processes can run."""
    path = _workspace(ctx)
    failed: CxError | None = None
    try:
        if interval is not None and interval.strip().replace(".", "", 1).isdigit():
            # (other `sla` options read a bare number as minutes: a unit removes the doubt)
            raise click.UsageError(f"--interval {interval}: give a unit, e.g. {interval}s or {interval}m.")
        seconds = parse_duration(interval, "--interval") if interval is not None else None
        if seconds is not None and seconds <= 0:
            raise UserError("--interval must be more than 0, e.g. 30s.")
        if now is not None and not once:
            raise click.UsageError("--now only works with --once (a watch that keeps running follows the clock).")
        when = _parse_now(now, path) if now is not None else None
        _setup_logging()
        if not (path / "sla.toml").exists() and (path / "cxmetrics.duckdb").exists():
            click.echo(f"note: {path / 'sla.toml'} does not exist: no SLA policies, so no targets to watch.", err=True)
        watcher = Watcher(path, interval=seconds, on_delivery=lambda d: click.echo(_line(d, stamp=not once)))
        if once:
            report = watcher.run_once(when)
            click.echo(_summary(report))
            return
        click.echo(f"watching {path} every {watcher.interval_s:g} s, {len(watcher.config.destinations)} "
                   "destination(s); Ctrl-C to stop", err=True)
        _stop_on_sigterm(watcher)
        try:
            watcher.run_forever()
        except KeyboardInterrupt:
            watcher.stop()
        click.echo("stopped", err=True)
    except CxError as exc:
        failed = exc
    except ValueError as exc:  # --interval
        raise click.UsageError(str(exc)) from None
    if failed is not None:  # (exits outside the handler: the error and its frames are let go)
        click.echo(f"{type(failed).__name__}: {failed}", err=True)
        sys.exit(1)


def _line(d: Delivery, stamp: bool) -> str:
    return f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S}Z {d}" if stamp else str(d)


def _stop_on_sigterm(watcher: Watcher) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        watcher.stop(timeout=0)

    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (e.g. inside a test runner thread)
        pass
