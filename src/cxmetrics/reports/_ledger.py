"""The report ledger (`report_deliveries`, migration 0018): one row per schedule and period.

`plan()` inserts the row of a period whose send time has come; the key (schedule, period)
makes a second insert do nothing, whichever process (the server, a restarted server, a cron
job's `report run-due`) gets there. `lease()` takes a pending row for one attempt: its attempt
count goes up and `next_attempt_at` moves to the retry time, in one committed statement, before
the SMTP call. A process killed during the call leaves the row pending with its retry time, so
the next run after the backoff tries again; a row delivered is never sent again. (The one
window left: killed after the SMTP server accepted the message but before `settle()`
committed. The retry then sends it a second time with the same Message-ID, which mail
clients show as one message.)
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


def write_turn(ws: Any) -> AbstractContextManager[Any]:
    """The workspace's write lock (the server's cursors take turns writing under it)."""
    return getattr(ws, "_write_lock", None) or nullcontext()


@dataclass(frozen=True)
class Planned:
    """A period of a schedule that is due, as the ledger holds it."""

    schedule: str
    period: str
    kind: str
    period_start: date
    period_end: date
    due_at: datetime
    recipients: tuple[str, ...]
    message_id: str
    status: str
    attempts: int
    next_attempt_at: datetime


def plan(ws: Any, *, schedule: str, period: str, kind: str, start: date, end: date, due_at: datetime,
         recipients: tuple[str, ...], message_id: str, now: datetime) -> None:
    """Record that `schedule`'s report of `period` is due (nothing if it is recorded already)."""
    with write_turn(ws):
        ws.con.execute("""
            INSERT INTO report_deliveries (schedule, period, kind, period_start, period_end, due_at, recipients,
                                           message_id, status, attempts, next_attempt_at, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)
            ON CONFLICT DO NOTHING
        """, [schedule, period, kind, start, end, due_at, list(recipients), message_id, due_at, now])


def get(ws: Any, schedule: str, period: str) -> Planned | None:
    rows = ws.con.execute("""
        SELECT schedule, period, kind, period_start, period_end, due_at, recipients, message_id, status, attempts,
               next_attempt_at
        FROM report_deliveries WHERE schedule = ? AND period = ?
    """, [schedule, period]).fetchall()
    if not rows:
        return None
    r = list(rows[0])
    r[6] = tuple(r[6])
    return Planned(*r)


def lease(ws: Any, schedule: str, period: str, now: datetime, retry_at: datetime) -> int | None:
    """Take the row for one attempt (the count, committed before the send); None when it is
    not pending and due (delivered, given up, or taken by another run since it was read)."""
    with write_turn(ws):
        got = ws.con.execute("""
            UPDATE report_deliveries SET attempts = attempts + 1, last_attempt_at = ?, next_attempt_at = ?
            WHERE schedule = ? AND period = ? AND status = 'pending' AND next_attempt_at <= ?
            RETURNING attempts
        """, [now, retry_at, schedule, period, now]).fetchall()
    return got[0][0] if got else None


def delivered(ws: Any, schedule: str, period: str, now: datetime, note: str | None = None) -> None:
    """Delivered (an earlier attempt's error stays in last_error unless `note` replaces it)."""
    with write_turn(ws):
        ws.con.execute("UPDATE report_deliveries SET status = 'delivered', delivered_at = ?, "
                       "last_error = coalesce(?, last_error) WHERE schedule = ? AND period = ?",
                       [now, note, schedule, period])


def failed(ws: Any, schedule: str, period: str, error: str, *, final: bool, retry_at: datetime) -> None:
    """A failed attempt: given up (`final`), or tried again at `retry_at`."""
    with write_turn(ws):
        ws.con.execute("UPDATE report_deliveries SET last_error = ?, next_attempt_at = ?, "
                       "status = CASE WHEN ? THEN 'failed' ELSE status END WHERE schedule = ? AND period = ?",
                       [error, retry_at, final, schedule, period])


def rows(ws: Any, schedule: str | None = None) -> list[dict[str, Any]]:
    """The ledger, newest period first (for `report status` and the tests)."""
    return ws.sql("""
        SELECT schedule, period, status, attempts, CAST(recipients AS VARCHAR[]) AS recipients, due_at,
               last_attempt_at, delivered_at, next_attempt_at, last_error, message_id
        FROM report_deliveries WHERE ? IS NULL OR schedule = ?
        ORDER BY period DESC, schedule
    """, [schedule, schedule]).to_pylist()
