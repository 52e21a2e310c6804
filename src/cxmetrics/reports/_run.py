"""Making a report, mailing it once, and running the schedules that are due.

`run_due(ws, now=...)` is one pass over `reports.toml`: for each enabled schedule, the
latest period whose send time has come is planned in the ledger (once ever), and every
pending row whose attempt time has come is built, leased, sent and settled. Failures follow
the alerts' rules (alerts/_deliver.py): connection errors, timeouts and SMTP 4xx replies
are retried with the alerts' backoff (alerts.toml `[retry]`: 8 attempts, 10 s doubling up to
30 min by default); 5xx replies fail for good. The server runs it every `interval`
(reports/_scheduler.py); `cxmetrics report run-due` runs it once, from cron.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cxmetrics.alerts._config import EmailDestination, ResolvedSecrets
from cxmetrics.alerts._deliver import Outcome, smtp_send
from cxmetrics.errors import CxError
from cxmetrics.reports import _content, _ledger, _mail, _render
from cxmetrics.reports._config import Report, ReportFormat, ReportsConfig, load_config
from cxmetrics.reports._period import Week, due_week

log = logging.getLogger("cxmetrics.reports")

#: a report that could not be made (Chromium missing, a broken targets.toml) waits this long:
#: a setting is not fixed in seconds, and the log should not repeat it every tick
BUILD_RETRY_S = 300.0
Sender = Callable[[EmailDestination, ResolvedSecrets, Any, float], Outcome]
Evaluate = Callable[[Any], None]


@dataclass(frozen=True)
class Built:
    """A report made: what it says (`data`), its HTML and text, and its PDF (None: HTML only)."""

    data: dict[str, Any]
    html: str
    text: str
    pdf: bytes | None


def default_evaluate(ws: Any) -> None:
    """Bring the SLA clocks to now (the CLI's way; the server passes its own, which takes turns)."""
    from cxmetrics.sla import refresh_sla

    with _ledger.write_turn(ws):
        refresh_sla(ws)


def build(ws: Any, week: Week, *, fmt: ReportFormat | str = ReportFormat.PDF, chromium: str | None = None,
          evaluate_sla: Evaluate | None = default_evaluate, now: datetime | None = None) -> Built:
    """The weekly report of `week`: gathered (the SLA clocks brought to now first by
    `evaluate_sla`, when SLAs are set up), rendered, and printed to PDF when `fmt` is pdf."""
    data = _content.weekly(ws, week, evaluate_sla=evaluate_sla, now=now)
    pdf = _render.pdf(_render.html(data, pdf=True), binary=chromium) if ReportFormat(fmt) is ReportFormat.PDF else None
    return Built(data, _render.html(data), _render.text(data), pdf)


@dataclass(frozen=True)
class RunResult:
    """What happened to one schedule's period in a run: `delivered`, `retry` (again at
    `next_attempt_at`), `failed` (given up), `waiting` (pending, its retry time not come),
    or `sent` earlier (nothing to do)."""

    schedule: str
    period: str
    status: str
    attempt: int = 0
    error: str | None = None
    next_attempt_at: datetime | None = None

    def __str__(self) -> str:
        what = f"report {self.schedule} {self.period}"
        if self.status == "delivered":
            return f"{what}: delivered (attempt {self.attempt})"
        if self.status == "retry":
            return (f"{what}: attempt {self.attempt} failed ({self.error}); "
                    f"retry at {self.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC")
        if self.status == "failed":
            return f"{what}: gave up after {self.attempt} attempt(s): {self.error}"
        if self.status == "waiting":
            return f"{what}: waiting for its retry at {self.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC"
        return f"{what}: {self.status}"


def _zone(ws: Any, report: Report) -> str:
    return report.timezone or ws.settings.timezone


def run_due(ws: Any, *, now: datetime | None = None, config: ReportsConfig | None = None,
            evaluate_sla: Evaluate | None = default_evaluate, sender: Sender = smtp_send) -> list[RunResult]:
    """Plan and deliver every report due at `now` (default: the clock), each once per period."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    config = config if config is not None else load_config(ws.path)
    live = [r for r in config.reports if r.enabled]
    if not live:
        return []
    smtp: tuple[EmailDestination, ResolvedSecrets, Any] | None = None
    out = []
    for report in live:
        week, due_at = due_week(now, report.send, _zone(ws, report))
        row = _ledger.get(ws, report.name, week.label)
        if row is None:
            if smtp is None:  # only now: a workspace with nothing due needs no mail server
                smtp = _mail.smtp_of(ws, config)
            _ledger.plan(ws, schedule=report.name, period=week.label, kind=report.kind.value, start=week.start,
                         end=week.end, due_at=due_at, recipients=report.to,
                         message_id=_mail.message_id(report.name, week.label, smtp[0].from_), now=now)
            row = _ledger.get(ws, report.name, week.label)
        assert row is not None
        if row.status != "pending":
            out.append(RunResult(report.name, week.label, f"already {row.status}", row.attempts))
            continue
        if row.next_attempt_at > now:
            out.append(RunResult(report.name, week.label, "waiting", row.attempts, None, row.next_attempt_at))
            continue
        if smtp is None:
            smtp = _mail.smtp_of(ws, config)
        out.append(_deliver(ws, config, report, row, week, now, smtp, evaluate_sla, sender))
    return out


def _deliver(ws: Any, config: ReportsConfig, report: Report, row: _ledger.Planned, week: Week, now: datetime,
             smtp: tuple[EmailDestination, ResolvedSecrets, Any], evaluate_sla: Evaluate | None,
             sender: Sender) -> RunResult:
    dest, secrets, retry = smtp
    # built before the lease: a report that cannot be made (no Chromium) is not an attempt at the mail server
    try:
        built = build(ws, week, fmt=report.format, chromium=config.chromium, evaluate_sla=evaluate_sla, now=now)
    except CxError as exc:
        error = f"{type(exc).__name__}: {exc}"
        retry_at = now + timedelta(seconds=BUILD_RETRY_S)
        _ledger.failed(ws, report.name, week.label, error, final=False, retry_at=retry_at)
        log.error("report %s %s could not be made (will try again at %s): %s", report.name, week.label,
                  retry_at.isoformat(), error)
        return RunResult(report.name, week.label, "retry", row.attempts, error, retry_at)
    msg = _mail.build(built.data, html=built.html, text=built.text, pdf=built.pdf, sender=dest.from_,
                      to=row.recipients, msg_id=row.message_id, reply_to=config.email.reply_to)
    retry_at = now + timedelta(seconds=retry.delay(row.attempts + 1))
    attempt = _ledger.lease(ws, report.name, week.label, now, retry_at)
    if attempt is None:  # another run took it since it was read
        return RunResult(report.name, week.label, "taken by another run", row.attempts)
    try:
        outcome = sender(dest, secrets, msg, retry.timeout)
    except Exception as exc:  # a bug must not leave the lease looking like a send
        log.exception("report %s %s could not be sent", report.name, week.label)
        outcome = Outcome(ok=False, error=f"{type(exc).__name__}: {exc}")
    if outcome.ok:
        _ledger.delivered(ws, report.name, week.label, now, outcome.note)
        log.info("report %s %s delivered to %s (attempt %d)", report.name, week.label, ", ".join(row.recipients),
                 attempt)
        return RunResult(report.name, week.label, "delivered", attempt)
    error = outcome.error or "failed"
    if outcome.permanent or attempt >= retry.max_attempts:
        _ledger.failed(ws, report.name, week.label, error, final=True, retry_at=retry_at)
        log.error("giving up report %s %s after %d attempt(s): %s", report.name, week.label, attempt, error)
        return RunResult(report.name, week.label, "failed", attempt, error)
    if outcome.retry_after is not None:
        retry_at = max(retry_at, now + timedelta(seconds=min(outcome.retry_after, retry.max_delay)))
    _ledger.failed(ws, report.name, week.label, error, final=False, retry_at=retry_at)
    log.warning("report %s %s: attempt %d failed (%s); retrying at %s", report.name, week.label, attempt, error,
                retry_at.isoformat())
    return RunResult(report.name, week.label, "retry", attempt, error, retry_at)


def send_now(ws: Any, week: Week, to: tuple[str, ...], *, fmt: ReportFormat | str = ReportFormat.PDF,
             config: ReportsConfig | None = None, evaluate_sla: Evaluate | None = default_evaluate,
             sender: Sender = smtp_send) -> Outcome:
    """Mail `week`'s report to `to` now, once (no ledger: `cxmetrics report weekly --to`)."""
    config = config if config is not None else load_config(ws.path)
    dest, secrets, retry = _mail.smtp_of(ws, config)
    built = build(ws, week, fmt=fmt, chromium=config.chromium, evaluate_sla=evaluate_sla)
    msg = _mail.build(built.data, html=built.html, text=built.text, pdf=built.pdf, sender=dest.from_, to=to,
                      reply_to=config.email.reply_to)
    return sender(dest, secrets, msg, retry.timeout)
