"""Survey links: `/s/TOKEN`, where the token names one send and is signed by the server.

A token is `1.<key id>.<send id>.<expiry, unix seconds>.<MAC>`, the MAC being the first
16 bytes of HMAC-SHA256 over everything before it, base64url. The key is one of the
workspace's `survey_keys` (32 random bytes, made on first use); rotating adds a key and
retires the old one, which still verifies the links it signed until they expire. The
token carries no ticket or customer: the send it names does, so a token can only ever
answer its own send, and changing any character (the send, the expiry) breaks the MAC.

Send ids are made by `send_id()`: 20 lower-case base32 characters, derived from the
survey, the source and the ticket or customer cycle, so planning a send twice gives
the same id (the store's key then keeps it once).

>>> send_id("csat", "default", "ticket", "T-1") == send_id("csat", "default", "ticket", "T-1")
True
>>> len(send_id("csat", "default", "ticket", "T-1"))
20
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from cxmetrics.errors import UserError

VERSION = "1"
_TOKEN = re.compile(r"^1\.([a-z0-9]{1,16})\.([a-z2-7]{20})\.(\d{9,11})\.([A-Za-z0-9_-]{22})$")
MAX_TOKEN_LENGTH = 120


class TokenProblem(StrEnum):
    """Why a token answers nothing (each has its own page for the customer)."""

    MALFORMED = "malformed"  # not a survey token at all (cut short when pasted?)
    TAMPERED = "tampered"  # well formed, but its MAC does not verify (or its key is unknown)
    EXPIRED = "expired"  # verified, past its expiry
    UNKNOWN = "unknown"  # verified and current, but the workspace has no such send


class TokenError(UserError):
    """A survey token that cannot be used; `problem` says why."""

    def __init__(self, problem: TokenProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True)
class Claims:
    """What a verified token says: the send it names and when it expires."""

    send_id: str
    expires_at: datetime
    key_id: str


def send_id(survey: str, source: str, subject: str, ident: str, cycle: int | str = 0) -> str:
    """The id of the send of `survey` to one ticket (`subject="ticket"`, `ident` its id) or
    one customer (`"customer"`, with the relationship `cycle`) of `source`."""
    digest = hashlib.sha256("\x1f".join((survey, source, subject, ident, str(cycle))).encode()).digest()
    return base64.b32encode(digest).decode().lower()[:20]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _mac(secret_hex: str, body: str) -> str:
    return _b64(hmac.new(bytes.fromhex(secret_hex), body.encode(), hashlib.sha256).digest()[:16])


def _now(now: datetime | None) -> datetime:
    return datetime.now(UTC) if now is None else now.astimezone(UTC)


def current_key(con: Any, now: datetime | None = None) -> tuple[str, str]:
    """The key new links are signed with (id, secret hex): the newest unretired one,
    made (32 random bytes) when the workspace has none."""
    row = con.execute("SELECT key_id, secret FROM survey_keys WHERE retired_at IS NULL "
                      "ORDER BY created_at DESC, key_id DESC LIMIT 1").fetchall()
    if row:
        return row[0][0], row[0][1]
    return rotate_key(con, now)


def rotate_key(con: Any, now: datetime | None = None) -> tuple[str, str]:
    """Make a new signing key and retire the current one (its links keep working until
    they expire). Returns the new key (id, secret hex)."""
    n = con.execute("SELECT count(*) FROM survey_keys").fetchall()[0][0]
    key_id, secret = f"k{n + 1}", secrets.token_hex(32)
    at = _now(now)
    con.execute("UPDATE survey_keys SET retired_at = ? WHERE retired_at IS NULL", [at])
    con.execute("INSERT INTO survey_keys VALUES (?, ?, ?, NULL)", [key_id, secret, at])
    return key_id, secret


def make_token(con: Any, send: str, expires_at: datetime, now: datetime | None = None) -> str:
    """A token for `send` that expires at `expires_at`, signed with the current key."""
    key_id, secret = current_key(con, now)
    body = f"{VERSION}.{key_id}.{send}.{int(expires_at.timestamp())}"
    return f"{body}.{_mac(secret, body)}"


def verify_token(con: Any, token: str, now: datetime | None = None) -> Claims:
    """The claims of a valid, current token; TokenError (malformed, tampered or expired)
    otherwise. Whether the send exists is the caller's to check (TokenProblem.UNKNOWN)."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise TokenError(TokenProblem.MALFORMED, "this is not a survey link.")
    m = _TOKEN.match(token)
    if m is None:
        raise TokenError(TokenProblem.MALFORMED, "this is not a survey link (was it cut short when copied?).")
    key_id, send, exp, mac = m.groups()
    row = con.execute("SELECT secret FROM survey_keys WHERE key_id = ?", [key_id]).fetchall()
    body = token[: token.rfind(".")]
    if not row or not hmac.compare_digest(_mac(row[0][0], body), mac):
        raise TokenError(TokenProblem.TAMPERED, "this survey link is not valid (it was changed, or not made here).")
    expires_at = datetime.fromtimestamp(int(exp), UTC)
    if _now(now) >= expires_at:
        raise TokenError(TokenProblem.EXPIRED, f"this survey link expired on {expires_at:%Y-%m-%d}.")
    return Claims(send_id=send, expires_at=expires_at, key_id=key_id)


def survey_url(base_url: str, token: str, score: int | None = None) -> str:
    """The address of the survey page for `token`; with `score`, the page opens with that
    score selected (recorded only when the customer confirms it: docs/surveys.md).

    >>> survey_url("https://cx.example.com/", "1.k1.abc.1.x", 4)
    'https://cx.example.com/s/1.k1.abc.1.x?score=4'
    """
    url = f"{base_url.rstrip('/')}/s/{token}"
    return url if score is None else f"{url}?score={int(score)}"
