"""Collecting an answer: what the survey page shows for a token, and storing what it posts.

`view(ws, token)` verifies the token and reads the send it names (its `survey_requests`
row) and the answer so far; `record(ws, token, score=..., comment=..., version=...)`
validates a posted answer and stores it as a `surveys` row (origin `collected`) through the
import pipeline, so the answer is checked, merged and logged as any import is.

An answer can be edited for the edit window after its first submission. Every form carries
the answer's `version` (0 before the first answer); a form whose version is not the stored
one (the same POST sent twice, a form left open in another tab) stores nothing: that is
what makes a replayed request harmless.

>>> clean_comment("  fine\\x00 thanks\\r\\n ")
'fine thanks'
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import pyarrow as pa

from cxmetrics.errors import StoreError, UserError
from cxmetrics.surveys._config import SurveysConfig, load_config, scale_range
from cxmetrics.surveys._tokens import TokenError, TokenProblem, verify_token

MAX_COMMENT = 5000  # characters, after stripping
ORIGIN = "collected"  # the surveys.origin of answers collected here (files say 'surveys')
# control characters other than tab and newline, and the bidi embeddings, overrides and
# isolates: a comment is shown in pages, CSVs and terminals, where they would hide or
# reorder text. Joiners and direction marks stay (Persian, Indic scripts and emoji need them).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class AnswerProblem(StrEnum):
    """Why an answer was not stored (each has its own message on the page)."""

    CLOSED = "closed"  # past the edit window: the stored answer stays
    STALE = "stale"  # the form's version is not the stored one (replayed, or answered elsewhere)
    INVALID_SCORE = "invalid_score"  # not a point of the send's scale
    TOO_LONG = "too_long"  # the comment is over MAX_COMMENT characters


class AnswerError(UserError):
    """A posted answer that was not stored; `reason` says why, `view` is the send as it is."""

    def __init__(self, reason: AnswerProblem, message: str, view: SendView) -> None:
        super().__init__(message)
        self.reason = reason
        self.view = view


@dataclass(frozen=True)
class SendView:
    """A send as its survey page shows it: what is asked, and the answer so far."""

    source: str
    send_id: str
    survey: str
    kind: str
    scale: str
    language: str
    ticket_id: str | None
    customer_id: str | None
    agent_id: str | None
    sent_at: datetime | None
    expires_at: datetime
    version: int  # answers stored so far (0: not answered); a form must carry it
    score: float | None
    comment: str | None
    first_answered_at: datetime | None
    last_answered_at: datetime | None
    editable_until: datetime | None  # first answer + the edit window
    now: datetime

    @property
    def answered(self) -> bool:
        return self.version > 0

    @property
    def closed(self) -> bool:
        """Answered, and the edit window is over."""
        return self.editable_until is not None and self.now >= self.editable_until

    @property
    def scale_range(self) -> tuple[int, int]:
        """The lowest and highest score (good/bad: 0 and 1, as stored)."""
        return scale_range(self.scale)

    def parse_score(self, raw: Any) -> int | None:
        """`raw` as a point of this send's scale (`good`/`bad` for good/bad), else None."""
        if raw is None:
            return None
        text = str(raw).strip().lower()
        if self.scale == "good/bad" and text in ("good", "bad"):
            return int(text == "good")
        if not re.fullmatch(r"-?\d{1,3}", text):
            return None
        value = int(text)
        lo, hi = self.scale_range
        return value if lo <= value <= hi else None


def _now(now: datetime | None) -> datetime:
    return datetime.now(UTC) if now is None else now.astimezone(UTC)


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def clean_comment(comment: str | None) -> str:
    """The comment as stored: NFC, control characters removed (tab and newline kept, CRLF
    made LF), surrounding space stripped."""
    if not comment:
        return ""
    text = unicodedata.normalize("NFC", str(comment)).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


def _fetch(con: Any, sql: str, params: list[Any]) -> dict[str, Any] | None:
    cur = con.execute(sql, params)
    rows = cur.fetchall()  # all of them: an unfinished result would block the connection's next query
    return dict(zip([d[0] for d in cur.description], rows[0], strict=True)) if rows else None


def view(ws: Any, token: str, *, now: datetime | None = None, config: SurveysConfig | None = None) -> SendView:
    """The send `token` names and its answer so far; TokenError when the token is malformed,
    tampered, expired, or names no send of this workspace (UNKNOWN)."""
    at = _now(now)
    claims = verify_token(ws.con, token, at)
    req = _fetch(ws.con, "SELECT * FROM survey_requests WHERE send_id = ? ORDER BY source LIMIT 1", [claims.send_id])
    if req is None:
        raise TokenError(TokenProblem.UNKNOWN, "this survey link names no survey of ours (it may have been removed).")
    cfg = config if config is not None else load_config(ws.path)
    source, send = req["source"], req["send_id"]
    sent = _fetch(ws.con, "SELECT sent_at FROM survey_sends WHERE source = ? AND send_id = ?", [source, send])
    state = _fetch(ws.con, "SELECT first_answered_at, last_answered_at, version FROM survey_answers "
                           "WHERE source = ? AND send_id = ?", [source, send])
    answer = _fetch(ws.con, "SELECT score, comment FROM surveys WHERE source = ? AND response_id = ?", [source, send])
    first = _utc(state["first_answered_at"]) if state else None
    return SendView(
        source=source, send_id=send, survey=req["survey"], kind=req["kind"], scale=req["scale"],
        language=req["language"], ticket_id=req["ticket_id"], customer_id=req["customer_id"],
        agent_id=req["agent_id"],
        # a link or embed send is a survey_sends row from the start; an e-mail one from its
        # delivery, and a token only reaches a customer by it: the request's time is the fallback
        sent_at=_utc(sent["sent_at"]) if sent and sent["sent_at"] else _utc(req["created_at"]),
        expires_at=claims.expires_at,
        version=int(state["version"]) if state else 0,
        score=answer["score"] if (answer and state) else None,
        comment=answer["comment"] if (answer and state) else None,
        first_answered_at=first, last_answered_at=_utc(state["last_answered_at"]) if state else None,
        editable_until=None if first is None else first + timedelta(seconds=cfg.edit_window_s),
        now=at,
    )


def record(ws: Any, token: str, *, score: Any, comment: str | None, version: Any, now: datetime | None = None,
           config: SurveysConfig | None = None) -> SendView:
    """Store the answer posted for `token` and return the send as it is now.

    Raises TokenError as `view` does, and AnswerError (nothing stored) when the answer is
    closed, the form stale, the score off the scale or the comment too long. Holds the
    workspace's write lock from the version check to the last write, so two posts of the
    same form cannot both pass the check."""
    with ws._write_lock:
        before = view(ws, token, now=now, config=config)
        at = before.now
        if before.closed:
            raise AnswerError(AnswerProblem.CLOSED, "this answer can no longer be changed: the time to change it "
                              f"ended on {before.editable_until:%Y-%m-%d %H:%M} UTC.", before)
        try:
            posted_version = int(str(version).strip())
        except ValueError:
            posted_version = -1
        if posted_version != before.version:
            raise AnswerError(AnswerProblem.STALE, f"this form is out of date (it answers version {version!r}, the "
                              f"stored answer is version {before.version}): nothing was stored; reload the page.",
                              before)
        value = before.parse_score(score)
        if value is None:
            lo, hi = before.scale_range
            raise AnswerError(AnswerProblem.INVALID_SCORE, f"score {str(score)[:20]!r} is not on this survey's "
                              f"scale ({before.scale}: {lo} to {hi}); nothing was stored.", before)
        text = clean_comment(comment)
        if len(text) > MAX_COMMENT:
            raise AnswerError(AnswerProblem.TOO_LONG, f"the comment has {len(text):,} characters; at most "
                              f"{MAX_COMMENT:,} are kept: shorten it and send again.", before)
        _store(ws, before, value, text, at)
    return view(ws, token, now=at, config=config)


_COLUMNS = ("response_id", "send_id", "ticket_id", "customer_id", "agent_id", "kind", "scale", "score", "comment",
            "sent_at", "responded_at", "origin")


def _store(ws: Any, send: SendView, score: int, comment: str, at: datetime) -> None:
    """Write the answer, then its edit state. In this order because the answer row is keyed
    by the send (response_id = send_id), so writing it is idempotent: a crash after it and
    before the state leaves the answer stored (counted) at the old version, and the customer's
    form (same version) is still accepted and updates the same row. The other order would
    lose the answer (version bumped, no row) and turn the customer's retry into 'stale'."""
    sent_at = send.sent_at if send.sent_at is not None and send.sent_at <= at else None
    row = {"response_id": send.send_id, "send_id": send.send_id, "ticket_id": send.ticket_id,
           "customer_id": send.customer_id, "agent_id": send.agent_id, "kind": send.kind, "scale": send.scale,
           "score": ("good" if score else "bad") if send.scale == "good/bad" else str(score),
           "comment": comment or None, "sent_at": sent_at.isoformat() if sent_at else None,
           "responded_at": at.isoformat(), "origin": ORIGIN}
    table = pa.table({c: pa.array([row[c]], pa.string()) for c in _COLUMNS})
    summary = ws.import_table("surveys", table, source=send.source, label=f"survey answer {send.send_id}")
    if summary.quarantined or not (summary.inserted or summary.updated or summary.unchanged):
        reasons = [r["reason"] for r in ws.quarantine(summary.import_id).to_pylist()] if summary.quarantined else []
        raise StoreError(f"the answer to send {send.send_id} was not stored: {'; '.join(reasons) or summary}")
    if send.version == 0:
        ws.con.execute("INSERT INTO survey_answers VALUES (?, ?, ?, ?, 1) ON CONFLICT DO UPDATE SET "
                       "last_answered_at = excluded.last_answered_at, version = survey_answers.version + 1",
                       [send.source, send.send_id, at, at])
    else:
        ws.con.execute("UPDATE survey_answers SET last_answered_at = ?, version = version + 1 "
                       "WHERE source = ? AND send_id = ?", [at, send.source, send.send_id])
