"""Delivering survey e-mails, and the `survey_sends` rows they make.

`survey_deliveries` is the outbox: one `invite` row per e-mail send, and at most one
`reminder` row (its key is (source, send_id, purpose)). A due row is leased before the
SMTP call (its attempt count goes up and `next_attempt_at` moves to the retry time, in one
committed statement), as the alerts' ledger does: a process killed in mid-call retries the
mail after the backoff and never forgets it. Failures follow the alerts' rules: connection
errors, timeouts and 4xx replies are retried with exponential backoff (RetryPolicy's
defaults: 8 attempts, 10 s doubling to 30 min); 5xx replies fail for good.

`sync_sends()` writes the canonical `survey_sends` rows from the outbox, through the
import pipeline: one per delivered invite (sent_at = when it was delivered), one per link
or embed send at once, and `reminded_at` once the reminder went. It reads only the store,
so running it again (after a crash between the SMTP answer and the import) makes what is
missing and nothing twice. A failed invite never becomes a send: the response rate counts
what reached customers.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from cxmetrics.alerts._config import EmailDestination, ResolvedSecrets, RetryPolicy, _resolve
from cxmetrics.alerts._deliver import Outcome, smtp_send
from cxmetrics.surveys import _mail
from cxmetrics.surveys._config import SurveysConfig, SurveysConfigError
from cxmetrics.surveys._tokens import make_token

log = logging.getLogger("cxmetrics.surveys")

RETRY = RetryPolicy()
SEND_LABEL = "surveys:sends"
Sender = Callable[[EmailDestination, ResolvedSecrets, Any, float], Outcome]


@dataclass(frozen=True)
class DeliveryResult:
    """What happened to one survey e-mail in a run: `delivered`, `retry` (again at
    `next_attempt_at`), `failed` (given up) or `cancelled` (answered, or its survey is gone)."""

    source: str
    send_id: str
    purpose: str
    survey: str
    ticket_id: str | None
    status: str
    attempt: int
    error: str | None = None
    next_attempt_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["next_attempt_at"] = None if self.next_attempt_at is None else self.next_attempt_at.isoformat()
        return d


def write_turn(ws: Any) -> AbstractContextManager[Any]:
    """The workspace's write lock (writes from the server's cursors take turns under it)."""
    return getattr(ws, "_write_lock", None) or nullcontext()


def cancel_stale(ws: Any, config: SurveysConfig, now: datetime) -> list[DeliveryResult]:
    """Cancel the pending reminders of answered sends, and every pending e-mail of a survey
    no longer defined or enabled (re-enabling it must not mail a backlog)."""
    live = [s.name for s in config.surveys if s.enabled]
    with write_turn(ws):
        rows = ws.con.execute("""
            SELECT d.source, d.send_id, d.purpose, r.survey, r.ticket_id, d.attempts,
                   CASE WHEN NOT list_contains(?, r.survey) THEN 'survey ' || r.survey || ' is no longer enabled'
                        ELSE 'answered before the reminder' END
            FROM survey_deliveries d JOIN survey_requests r ON r.source = d.source AND r.send_id = d.send_id
            WHERE d.status = 'pending'
              AND (NOT list_contains(?, r.survey)
                   OR (d.purpose = 'reminder' AND EXISTS (SELECT 1 FROM surveys s WHERE s.source = d.source
                                                           AND s.send_id = d.send_id)))
        """, [live, live]).fetchall()
        for src, send, purpose, _, _, _, why in rows:  # few: answered reminders since the last run
            ws.con.execute("UPDATE survey_deliveries SET status = 'cancelled', last_error = ? "
                           "WHERE source = ? AND send_id = ? AND purpose = ?", [why, src, send, purpose])
    return [DeliveryResult(s, i, p, sv, t, "cancelled", a, e) for s, i, p, sv, t, a, e in rows]


def due(ws: Any, now: datetime) -> list[dict[str, Any]]:
    """Pending e-mails whose time has come, oldest first, with what their message needs."""
    return ws.con.sql("""
        SELECT d.purpose, d.attempts, r.*, t.subject AS ticket_subject, c.name AS customer_name
        FROM survey_deliveries d
        JOIN survey_requests r ON r.source = d.source AND r.send_id = d.send_id
        LEFT JOIN tickets t ON t.source = r.source AND t.ticket_id = r.ticket_id
        LEFT JOIN customers c ON c.source = r.source AND c.customer_id = r.customer_id
        WHERE d.status = 'pending' AND d.next_attempt_at <= ?
        ORDER BY d.next_attempt_at, d.purpose, r.source, r.send_id
    """, params=[now]).to_arrow_table().to_pylist()


def next_attempt(ws: Any) -> datetime | None:
    """When the next pending e-mail (a retry, a reminder, an invite) is due, if any."""
    return ws.con.execute("SELECT min(next_attempt_at) FROM survey_deliveries WHERE status = 'pending'"
                          ).fetchall()[0][0]


def _lease(ws: Any, row: dict[str, Any], now: datetime, retry_at: datetime) -> int | None:
    """Take the delivery for one attempt; None when another run took it since it was read
    (the CLI's `surveys run` beside the server's sender: each mail is attempted once)."""
    with write_turn(ws):
        got = ws.con.execute("""
            UPDATE survey_deliveries SET attempts = attempts + 1, last_attempt_at = ?, next_attempt_at = ?
            WHERE source = ? AND send_id = ? AND purpose = ? AND status = 'pending' AND next_attempt_at <= ?
            RETURNING attempts
        """, [now, retry_at, row["source"], row["send_id"], row["purpose"], now]).fetchall()
    return got[0][0] if got else None


def _settle(ws: Any, config: SurveysConfig, row: dict[str, Any], outcome: Outcome, attempt: int, now: datetime,
            retry_at: datetime) -> DeliveryResult:
    key = [row["source"], row["send_id"], row["purpose"]]
    base = {"source": row["source"], "send_id": row["send_id"], "purpose": row["purpose"], "survey": row["survey"],
            "ticket_id": row["ticket_id"], "attempt": attempt}
    with write_turn(ws):
        if outcome.ok:
            ws.con.execute("UPDATE survey_deliveries SET status = 'delivered', delivered_at = ?, "
                           "last_error = coalesce(?, last_error) WHERE source = ? AND send_id = ? AND purpose = ?",
                           [now, outcome.note, *key])
            survey = next((s for s in config.surveys if s.name == row["survey"]), None)
            if row["purpose"] == "invite" and survey is not None and survey.reminder_s is not None:
                # the key (source, send_id, 'reminder') makes "one reminder" hold, however often this runs
                ws.con.execute("INSERT INTO survey_deliveries VALUES (?, ?, 'reminder', 'pending', 0, ?, NULL, NULL, "
                               "NULL, ?) ON CONFLICT DO NOTHING",
                               [row["source"], row["send_id"], now + timedelta(seconds=survey.reminder_s), now])
            log.info("survey %s %s (%s) delivered, attempt %d", row["survey"], row["purpose"], row["send_id"], attempt)
            return DeliveryResult(**base, status="delivered")
        error = outcome.error or "failed"
        if outcome.permanent or attempt >= RETRY.max_attempts:
            ws.con.execute("UPDATE survey_deliveries SET status = 'failed', last_error = ? "
                           "WHERE source = ? AND send_id = ? AND purpose = ?", [error, *key])
            log.error("giving up survey %s %s (%s) after %d attempt(s): %s", row["survey"], row["purpose"],
                      row["send_id"], attempt, error)
            return DeliveryResult(**base, status="failed", error=error)
        if outcome.retry_after is not None:
            retry_at = max(retry_at, now + timedelta(seconds=min(outcome.retry_after, RETRY.max_delay)))
        ws.con.execute("UPDATE survey_deliveries SET last_error = ?, next_attempt_at = ? "
                       "WHERE source = ? AND send_id = ? AND purpose = ?", [error, retry_at, *key])
        log.warning("survey %s %s (%s): attempt %d failed (%s); retrying at %s", row["survey"], row["purpose"],
                    row["send_id"], attempt, error, retry_at.isoformat())
        return DeliveryResult(**base, status="retry", error=error, next_attempt_at=retry_at)


def smtp_of(ws: Any, config: SurveysConfig) -> tuple[EmailDestination, ResolvedSecrets]:
    """The SMTP server and its login (from the environment), or SurveysConfigError saying what to set."""
    if config.email is None:
        raise SurveysConfigError("surveys.toml has no [email] table, so survey e-mails cannot go out: add [email] "
                                 "with destination = \"<an e-mail destination of alerts.toml>\", or host and from "
                                 "(docs/surveys.md, \"Delivery: e-mail and links\").")
    dest = config.email.smtp(ws.path)
    try:
        secrets = _resolve(dest, os.environ)
    except ValueError as exc:
        text = str(exc).replace("starting the watcher", "starting the server (or running the command)")
        raise SurveysConfigError(f"surveys.toml [email]: {text}") from None
    return dest, secrets


def deliver(ws: Any, config: SurveysConfig, now: datetime, base_url: Callable[[], str], *,
            sender: Sender = smtp_send) -> list[DeliveryResult]:
    """Send every e-mail due at `now`, once each: lease, send (outside the write turn: a slow
    SMTP server must not hold up imports), settle. After a transient failure the server is
    left alone until the next run."""
    out = cancel_stale(ws, config, now)
    rows = due(ws, now)
    if not rows:
        return out
    dest, secrets = smtp_of(ws, config)
    base = base_url()
    logo = config.logo_path(ws.path)
    reply_to = config.email.reply_to if config.email is not None else None
    surveys = {s.name: s for s in config.surveys}
    for row in rows:
        retry_at = now + timedelta(seconds=RETRY.delay(row["attempts"] + 1))
        attempt = _lease(ws, row, now, retry_at)
        if attempt is None:
            continue
        expires = now + timedelta(seconds=config.token_ttl_s)
        try:
            with write_turn(ws):  # the first token of a workspace makes its signing key
                token = make_token(ws.con, row["send_id"], expires, now)
            msg = _mail.build(surveys[row["survey"]], config, base, _mail.MailInput(
                request=row, token=token, expires_at=expires, reminder=row["purpose"] == "reminder",
                ticket_subject=row["ticket_subject"], customer_name=row["customer_name"]),
                sender=dest.from_, logo=logo, reply_to=reply_to)
            outcome = sender(dest, secrets, msg, RETRY.timeout)
        except Exception as exc:  # a bug must not leave the lease looking like a send
            log.exception("survey e-mail %s could not be sent", row["send_id"])
            outcome = Outcome(ok=False, error=f"unexpected error: {type(exc).__name__}: {exc}")
        result = _settle(ws, config, row, outcome, attempt, now, retry_at)
        out.append(result)
        if result.status == "retry":
            break  # the server is down or busy: the rest waits for the next run
    return out


_SENDS = """
    SELECT r.source, r.send_id, r.ticket_id, r.customer_id, r.kind, s_at AS sent_at, r.channel, r.survey, r.agent_id,
           r."trigger", r.delivery, r."language",
           CASE WHEN r."trigger" = 'embed' THEN 0.0
                WHEN r."trigger" = 'solved' AND r.delay_s IS NOT NULL
                     THEN greatest(0.0, epoch(s_at) - (epoch(r.due_at) - r.delay_s)) END AS delay_s,
           rem.delivered_at AS reminded_at
    FROM (SELECT r.*, CASE r.delivery WHEN 'link' THEN r.created_at WHEN 'embed' THEN r.due_at
                      ELSE inv.delivered_at END AS s_at
          FROM survey_requests r
          LEFT JOIN survey_deliveries inv ON inv.source = r.source AND inv.send_id = r.send_id
               AND inv.purpose = 'invite' AND inv.status = 'delivered') r
    LEFT JOIN survey_deliveries rem ON rem.source = r.source AND rem.send_id = r.send_id
         AND rem.purpose = 'reminder' AND rem.status = 'delivered'
    LEFT JOIN survey_sends s ON s.source = r.source AND s.send_id = r.send_id
    WHERE r.s_at IS NOT NULL
      AND (s.send_id IS NULL OR s.reminded_at IS DISTINCT FROM rem.delivered_at)
    ORDER BY r.source, r.send_id"""


def sync_sends(ws: Any) -> int:
    """Write the survey_sends rows the outbox implies and the table lacks (see the module
    doc); returns how many rows were written."""
    with write_turn(ws):
        table: pa.Table = ws.con.sql(_SENDS).to_arrow_table()
        if table.num_rows == 0:
            return 0
        summary = ws.import_table("survey_sends", table, label=SEND_LABEL)
    if summary.quarantined:  # a bug, not the customer's doing: say so loudly (the rows wait in the quarantine)
        log.error("%d survey_sends row(s) were quarantined (import %s)", summary.quarantined, summary.import_id)
    return int(summary.inserted + summary.updated)
