"""Webhooks in: a help desk's webhook delivery, verified by the vendor's own scheme, refused
when stale or replayed, then landed as the vendor's API pages through its `convert`
(docs/connectors.md, "Webhooks"; the route is `POST /api/v1/webhooks/{vendor}`).

Verification, per vendor (the secret: [connectors.VENDOR] webhook_secret_env or
webhook_secret_file; compared in constant time, never logged or echoed):

- Zendesk: `X-Zendesk-Webhook-Signature` = base64(HMAC-SHA256(secret, timestamp + body)),
  the timestamp in `X-Zendesk-Webhook-Signature-Timestamp`;
- Intercom: `X-Hub-Signature` = `sha1=` + hex(HMAC-SHA1(the app's client secret, body)); the
  time is the notification's signed `created_at`;
- Chatwoot: `X-Chatwoot-Signature` = `sha256=` + hex(HMAC-SHA256(secret, timestamp + "." +
  body)), the timestamp in `X-Chatwoot-Timestamp` (Chatwoot 4.x signs every webhook);
- Freshdesk (automation webhooks are not signed): the shared secret, sent in the
  `X-Cxmetrics-Webhook-Secret` header the rule adds, or as the password of the rule's
  basic authentication.

Replays: a delivery timed more than 5 minutes from now (either way) is refused (401);
one already accepted is refused (409). A delivery is known by a key the signature covers:
Intercom's notification id, else the SHA-256 of what was signed (timestamp and body), and
by the delivery id header the vendor sends (Zendesk's invocation id, Chatwoot's
`X-Chatwoot-Delivery`). Freshdesk sends neither a time nor an id: the same body again
within 5 minutes is a replay (its body names only the ticket, which is then read through
the API, so a replay can never bring in anything the help desk does not hold).

>>> sign_zendesk("s3cret", "2025-03-10T09:00:00Z", b'{"ticket_id": "1"}')
'bjKBrWieic+qv0LSVICnEJcs0lu48A/NWAh1kSp4qps='
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from cxmetrics._workspace import Workspace, translate_errors
from cxmetrics.connectors import _webhook_pages as wp
from cxmetrics.connectors._plumbing import LAND_ORDER, Batch, ConnectorSummary, land
from cxmetrics.connectors._state import secret
from cxmetrics.errors import ConnectorError, UnknownNameError
from cxmetrics.settings import CONNECTOR_VENDORS

MAX_SKEW = timedelta(minutes=5)
KEEP_DELIVERIES = timedelta(days=1)
FRESHDESK_HEADER = "x-cxmetrics-webhook-secret"
VENDORS = tuple(sorted(CONNECTOR_VENDORS))


class WebhookRefused(ConnectorError):
    """A delivery refused: `status` 401 (not signed by the secret, or stale), 403 (no
    secret set up), 409 (a replay), 400/422 (not the vendor's payload), 502/503 (the
    vendor's API failed); the message says why, never with the secret."""

    def __init__(self, status: int, message: str, *, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.headers = status, code, headers


@dataclass(frozen=True)
class Received:
    """What a delivery did: the reconciled landing (None when it carried nothing to
    store, as a ping), why it was ignored, and the keys it is known by now."""

    vendor: str
    summary: ConnectorSummary | None
    ignored: str | None = None
    keys: tuple[str, ...] = field(default=())

    @property
    def changed_tables(self) -> list[str]:
        tables = self.summary.tables if self.summary else {}
        return [t for t, s in tables.items() if s.inserted or s.updated]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": True, "vendor": self.vendor, "stored": self.summary is not None}
        if self.ignored:
            out["ignored"] = self.ignored
        if self.summary is not None:
            out["tables"] = {k: v.to_dict() for k, v in self.summary.tables.items()}
        return out


def _hmac(secret_value: str, message: bytes, digest: str) -> bytes:
    return hmac.new(secret_value.encode("utf-8"), message, digest).digest()


def sign_zendesk(secret_value: str, timestamp: str, body: bytes) -> str:
    """What Zendesk sends in X-Zendesk-Webhook-Signature for this timestamp and body."""
    return base64.b64encode(_hmac(secret_value, timestamp.encode() + body, "sha256")).decode()


def sign_intercom(secret_value: str, body: bytes) -> str:
    """What Intercom sends in X-Hub-Signature for this body."""
    return "sha1=" + _hmac(secret_value, body, "sha1").hex()


def sign_chatwoot(secret_value: str, timestamp: str, body: bytes) -> str:
    """What Chatwoot sends in X-Chatwoot-Signature for this timestamp and body."""
    return "sha256=" + _hmac(secret_value, timestamp.encode() + b"." + body, "sha256").hex()


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.strip().encode(), expected.encode())


def _when(raw: Any, what: str) -> datetime:
    """A delivery's time: Unix seconds or ISO 8601."""
    text = str(raw).strip() if raw is not None else ""
    if not text:
        raise WebhookRefused(401, f"{what} is missing: the delivery is not timed, so it may be a replay.")
    try:
        if text.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(text), timezone.utc)
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise WebhookRefused(401, f"{what} {text[:40]!r} is not a time (Unix seconds or ISO 8601).") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)


def _fresh(at: datetime, now: datetime, what: str) -> None:
    if abs(now - at) > MAX_SKEW:
        age = (now - at).total_seconds()
        where = f"{age / 60:.0f} minutes old" if age > 0 else f"{-age / 60:.0f} minutes in the future"
        raise WebhookRefused(401, f"{what} is {where}: deliveries more than 5 minutes from now are refused as "
                                  "replays (check the clocks if this is a fresh delivery).", code="stale")


def _bad_signature(header: str) -> WebhookRefused:
    return WebhookRefused(401, f"{header} does not match the body signed with the webhook secret: the secret set in "
                               "the help desk and the workspace's differ, or the body was changed on the way.",
                          code="bad_signature")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookRefused(400, f"the body is not JSON ({exc}).") from None


def _sha(*parts: bytes) -> str:
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


@dataclass(frozen=True)
class _Verified:
    payload: Any
    keys: tuple[str, ...]  # what the delivery is known by (checked, then recorded)
    window: bool = False  # keys are replays only within MAX_SKEW (Freshdesk: body hashes)


def verify(vendor: str, secret_value: str, headers: Mapping[str, str], body: bytes, now: datetime) -> _Verified:
    """Check a delivery's signature and time (WebhookRefused when they fail); its payload
    and replay keys. `headers` are lower-cased names."""
    h = {k.lower(): v for k, v in headers.items()}
    if vendor == "zendesk":
        ts = h.get("x-zendesk-webhook-signature-timestamp", "")
        if not _same(h.get("x-zendesk-webhook-signature"), sign_zendesk(secret_value, ts, body)):
            raise _bad_signature("X-Zendesk-Webhook-Signature")
        _fresh(_when(ts, "X-Zendesk-Webhook-Signature-Timestamp"), now, "X-Zendesk-Webhook-Signature-Timestamp")
        keys = [f"sha256:{_sha(ts.encode(), body)}"]
        if h.get("x-zendesk-webhook-invocation-id"):
            keys.append(f"invocation:{h['x-zendesk-webhook-invocation-id'][:200]}")
        return _Verified(_json(body), tuple(keys))
    if vendor == "intercom":
        if not _same(h.get("x-hub-signature"), sign_intercom(secret_value, body)):
            raise _bad_signature("X-Hub-Signature")
        payload = _json(body)
        if not isinstance(payload, dict):
            raise WebhookRefused(400, "the body is not a JSON object: not an Intercom notification.")
        _fresh(_when(payload.get("created_at"), "the notification's created_at"), now,
               "the notification's created_at")
        nid = payload.get("id")
        keys = (f"notification:{str(nid)[:200]}",) if isinstance(nid, str) and nid else (f"sha256:{_sha(body)}",)
        return _Verified(payload, keys)
    if vendor == "chatwoot":
        ts = h.get("x-chatwoot-timestamp", "")
        if not _same(h.get("x-chatwoot-signature"), sign_chatwoot(secret_value, ts, body)):
            raise _bad_signature("X-Chatwoot-Signature")
        _fresh(_when(ts, "X-Chatwoot-Timestamp"), now, "X-Chatwoot-Timestamp")
        keys = [f"sha256:{_sha(ts.encode(), body)}"]
        if h.get("x-chatwoot-delivery"):
            keys.append(f"delivery:{h['x-chatwoot-delivery'][:200]}")
        return _Verified(_json(body), tuple(keys))
    # freshdesk: the shared secret in our header, or as basic authentication's password
    given = h.get(FRESHDESK_HEADER)
    auth = h.get("authorization", "")
    if given is None and auth.lower().startswith("basic "):
        try:
            given = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8").partition(":")[2]
        except (ValueError, UnicodeDecodeError):
            given = None
    if not _same(given, secret_value):
        raise WebhookRefused(401, "the webhook secret is missing or wrong: the Freshdesk rule must send it in the "
                                  "X-Cxmetrics-Webhook-Secret header (or as the basic-authentication password).",
                             code="bad_signature")
    return _Verified(_json(body), (f"sha256:{_sha(body)}",), window=True)


def _seen(ws: Workspace, vendor: str, verified: _Verified, now: datetime) -> str | None:
    """The first of a delivery's keys already accepted, or None."""
    for key in verified.keys:
        row = ws.con.execute("SELECT received_at FROM webhook_deliveries WHERE vendor = ? AND delivery_id = ?",
                             [vendor, key]).fetchone()
        if row is not None and (not verified.window or now - _utc(row[0]) <= MAX_SKEW):
            return key
    return None


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _record(ws: Workspace, vendor: str, keys: tuple[str, ...], now: datetime) -> None:
    ws.con.executemany("INSERT OR REPLACE INTO webhook_deliveries VALUES (?, ?, ?)",
                       [(vendor, k, now) for k in keys])
    # a timed delivery that old is refused as stale before its key is looked at; a day covers
    # the vendors' retries of one delivery (same id, new time) and keeps the table small
    ws.con.execute("DELETE FROM webhook_deliveries WHERE received_at < ?", [now - KEEP_DELIVERIES])


def _pages(ws: Workspace, vendor: str, payload: Any, now: datetime) -> wp.Pages:
    try:
        if vendor == "intercom":
            return wp.intercom_pages(payload)
        if vendor == "chatwoot":
            return wp.chatwoot_pages(payload, now)
        if vendor == "zendesk":
            return wp.zendesk_pages(ws.settings, payload)
        return wp.freshdesk_pages(ws.settings, payload)
    except wp.PayloadError as exc:
        raise WebhookRefused(422, str(exc), code="invalid_payload") from None
    except wp.UpstreamError as exc:
        headers = {"Retry-After": exc.retry_after} if exc.retry_after else None
        raise WebhookRefused(exc.status, str(exc), code="upstream", headers=headers) from None
    except ConnectorError as exc:  # the API is not set up: what to add
        raise WebhookRefused(403, str(exc), code="not_configured") from None


def _unusable(batch: Batch) -> str | None:
    """Why nothing of a converted payload can be stored, or None when something can."""
    if any(batch.rows[t] for t in LAND_ORDER):
        return None
    reasons = [r.reason for t in LAND_ORDER for r in batch.rejects[t]]
    return "; ".join(reasons[:5]) if reasons else None


@dataclass(frozen=True)
class Prepared:
    """A delivery verified and converted, not yet stored (`commit` stores it)."""

    vendor: str
    verified: _Verified
    found: wp.Pages
    batch: Batch | None
    now: datetime


def prepare(ws: Workspace, vendor: str, headers: Mapping[str, str], body: bytes, *,
            now: datetime | None = None) -> Prepared:
    """Verify a delivery and turn it into canonical rows, storing nothing (the slow part:
    a Zendesk or Freshdesk webhook reads the ticket through the API); WebhookRefused
    (with its status) when it cannot be accepted."""
    if vendor not in VENDORS:
        raise UnknownNameError("help desk", vendor, VENDORS)
    now = now or datetime.now(timezone.utc)
    try:
        secret_value = secret(ws.settings, vendor, "webhook_secret")
    except ConnectorError as exc:
        raise WebhookRefused(403, f"{vendor} webhooks are not set up in this workspace: {exc}",
                             code="not_configured") from None
    verified = verify(vendor, secret_value, headers, body, now)
    _refuse_replay(ws, vendor, verified, now)  # before asking the vendor's API anything
    found = _pages(ws, vendor, verified.payload, now)
    batch = None
    if found.pages:
        from cxmetrics.connectors import VENDORS as CONVERTERS  # the package imports what imports this

        batch = CONVERTERS[vendor].convert(found.pages)
        why = _unusable(batch)
        if why is not None:
            raise WebhookRefused(422, f"nothing in the {vendor} payload can be stored: {why}.", code="invalid_payload")
    return Prepared(vendor, verified, found, batch, now)


def _refuse_replay(ws: Workspace, vendor: str, verified: _Verified, now: datetime) -> None:
    with translate_errors():
        replay = _seen(ws, vendor, verified, now)
    if replay is not None:
        kind, _, value = replay.partition(":")
        raise WebhookRefused(409, f"this {vendor} delivery was already accepted ({kind} {value[:16]}): a replay is "
                                  "not stored again.", code="replay")


def commit(ws: Workspace, prepared: Prepared) -> Received:
    """Store a prepared delivery and record its keys (the caller may hold the write lock).
    Landing is idempotent and the keys are recorded only after it: a delivery that failed
    half-way is taken again when the vendor retries it."""
    vendor, verified = prepared.vendor, prepared.verified
    with ws._write_lock:
        _refuse_replay(ws, vendor, verified, prepared.now)  # again: the same delivery may have raced this one
        summary = None
        if prepared.batch is not None:
            # each delivery its own import-log label, so its quarantine entries stay beside the others'
            label = f"webhook:{verified.keys[0].partition(':')[2][:16]}"
            summary = land(ws, vendor, label, prepared.batch, source=vendor)
        with translate_errors():
            _record(ws, vendor, verified.keys, prepared.now)
    return Received(vendor, summary, prepared.found.ignored, verified.keys)


def receive(ws: Workspace, vendor: str, headers: Mapping[str, str], body: bytes, *,
            now: datetime | None = None) -> Received:
    """Verify and land one webhook delivery into `ws` (`prepare`, then `commit`)."""
    return commit(ws, prepare(ws, vendor, headers, body, now=now))


__all__ = ["MAX_SKEW", "Prepared", "Received", "WebhookRefused", "commit", "prepare", "receive", "sign_chatwoot",
           "sign_intercom", "sign_zendesk", "verify"]
