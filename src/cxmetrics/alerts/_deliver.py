"""Sending one alert to one destination: webhook, Slack, e-mail.

Each sender makes one attempt and says how it went (`Outcome`); retrying is the
watcher's job. What counts as worth retrying:

- HTTP: connection errors, timeouts, 408, 429 (honouring `Retry-After`) and 5xx are
  transient; every other 4xx, and redirects (a webhook URL should be the final one),
  are permanent.
- SMTP: connection errors, timeouts, disconnects and 4xx replies are transient; 5xx
  replies (recipient refused, authentication failed) are permanent.

Errors are described without the URL, headers or credentials, so they can be logged
and stored.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import smtplib
import socket
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from cxmetrics.alerts import _message
from cxmetrics.alerts._config import (
    EmailDestination,
    ResolvedSecrets,
    Security,
    SlackDestination,
    WebhookDestination,
)

USER_AGENT = "cxmetrics-alerts/0.1"
#: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`, as Stripe and Zendesk sign:
#: the time is signed with the body, so a captured delivery cannot be replayed later
#: (receivers refuse a `t` older than their tolerance; docs/alerts.md has the recipe).
SIGNATURE_HEADER = "X-Cxmetrics-Signature"


@dataclass(frozen=True)
class Outcome:
    """How one attempt went: ok, or an error that is `permanent` or worth retrying
    (after `retry_after` seconds if the receiver said so)."""

    ok: bool
    error: str | None = None
    permanent: bool = False
    retry_after: float | None = None
    note: str | None = None  # e.g. some e-mail recipients refused on a delivered message


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The signature header's value for `body` sent at `timestamp` (now by default):
    `t=<timestamp>,v1=<hex HMAC-SHA256 of b"<timestamp>." + body>` under `secret`.

    >>> sign("s3cret", b"{}", 1700000000) == (
    ...     "t=1700000000,v1=" + hmac.new(b"s3cret", b"1700000000.{}", hashlib.sha256).hexdigest())
    True
    """
    t = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx surfaces as an HTTPError: a permanent failure


_OPENER = urllib.request.build_opener(_NoRedirect)


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers})
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            resp.read(65536)
            return Outcome(ok=True)
    except urllib.error.HTTPError as exc:
        code = exc.code
        try:
            detail = exc.read(300).decode("utf-8", "replace").strip().replace("\n", " ")
        except Exception:  # noqa: BLE001 - the body is only a hint
            detail = ""
        error = f"HTTP {code} {exc.reason}" + (f": {detail[:200]}" if detail else "")
        if code == 429 or code == 408 or code >= 500:
            return Outcome(ok=False, error=error, retry_after=_retry_after(exc.headers.get("Retry-After")))
        if 300 <= code < 400:
            error += " (redirect not followed: set url to the final address)"
        return Outcome(ok=False, error=error, permanent=True)
    except urllib.error.URLError as exc:
        return Outcome(ok=False, error=f"cannot connect: {_reason(exc.reason)}")
    except TimeoutError:
        return Outcome(ok=False, error=f"no answer within {timeout:g} s")
    except (http.client.HTTPException, ConnectionError, OSError) as exc:
        return Outcome(ok=False, error=f"connection failed: {type(exc).__name__}: {exc}")


def _reason(reason: object) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "timed out"
    if isinstance(reason, socket.gaierror):
        return f"host not found ({reason.strerror})"
    return str(reason)


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from datetime import datetime
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None


def send_webhook(dest: WebhookDestination, secrets: ResolvedSecrets, alert: dict[str, Any], attempt: int,
                 timeout: float) -> Outcome:
    """POST the alert's JSON payload; signed when the destination has a secret."""
    body = json.dumps(_message.payload(alert), separators=(",", ":")).encode()
    headers = {**dest.headers, **{k: v.get_secret_value() for k, v in secrets.headers.items()},
               "X-Cxmetrics-Event": f"sla.{alert['kind']}", "X-Cxmetrics-Alert-Id": alert["alert_id"],
               "X-Cxmetrics-Attempt": str(attempt)}
    if secrets.secret is not None:  # signed at each attempt: a retry carries its own time
        headers[SIGNATURE_HEADER] = sign(secrets.secret.get_secret_value(), body)
    assert secrets.url is not None
    return _post(secrets.url.get_secret_value(), body, headers, timeout)


def send_slack(dest: SlackDestination, secrets: ResolvedSecrets, alert: dict[str, Any], attempt: int,
               timeout: float) -> Outcome:
    """POST `{"text": ..., "blocks": [...]}` to a Slack-compatible incoming webhook."""
    body = json.dumps(_message.slack(alert), ensure_ascii=False).encode()
    assert secrets.url is not None
    return _post(secrets.url.get_secret_value(), body, {}, timeout)


def send_email(dest: EmailDestination, secrets: ResolvedSecrets, alert: dict[str, Any], attempt: int,
               timeout: float) -> Outcome:
    """Send one plain-text message to every address of the destination."""
    msg = _message.email(alert, dest.from_, dest.to)
    return smtp_send(dest, secrets, msg, timeout)


def smtp_send(dest: EmailDestination, secrets: ResolvedSecrets, msg: EmailMessage, timeout: float) -> Outcome:
    """One SMTP session that sends `msg` (to its own To/Cc) through `dest`'s server, with
    its security and login; the survey e-mails use it too (surveys/_deliver.py)."""
    if "Date" not in msg:
        msg["Date"] = formatdate(localtime=False, usegmt=True)
    context = ssl.create_default_context(cafile=dest.ca_file)
    try:
        if dest.security is Security.SSL:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(dest.host, dest.effective_port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(dest.host, dest.effective_port, timeout=timeout)
        with smtp:
            if dest.security is Security.STARTTLS:
                smtp.starttls(context=context)
            if secrets.username is not None and secrets.password is not None:
                smtp.login(secrets.username.get_secret_value(), secrets.password.get_secret_value())
            refused = smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        error = "every recipient refused: " + ", ".join(f"{r} ({c})" for r, (c, _) in exc.recipients.items())
        return Outcome(ok=False, error=error, permanent=all(c >= 500 for c in codes))
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        error = f"SMTP {exc.smtp_code}: {text.strip()[:200]} ({type(exc).__name__})"
        return Outcome(ok=False, error=error, permanent=exc.smtp_code >= 500)
    except smtplib.SMTPNotSupportedError as exc:
        return Outcome(ok=False, error=f"SMTP server does not support it: {exc}", permanent=True)
    except ssl.SSLCertVerificationError as exc:
        return Outcome(ok=False, error=f"TLS certificate not trusted: {exc.verify_message} (set ca_file)",
                       permanent=True)
    except ConnectionRefusedError:
        return Outcome(ok=False, error="cannot connect: connection refused")
    except TimeoutError:
        return Outcome(ok=False, error=f"no answer within {timeout:g} s")
    except (smtplib.SMTPException, OSError) as exc:
        return Outcome(ok=False, error=f"SMTP failed: {type(exc).__name__}: {exc}")
    if refused:
        listed = ", ".join(f"{r} ({c})" for r, (c, _) in refused.items())
        return Outcome(ok=True, note=f"some recipients refused: {listed}")
    return Outcome(ok=True)


def send(dest: WebhookDestination | SlackDestination | EmailDestination, secrets: ResolvedSecrets,
         alert: dict[str, Any], attempt: int, timeout: float) -> Outcome:
    """One attempt to deliver `alert` to `dest`."""
    if isinstance(dest, WebhookDestination):
        return send_webhook(dest, secrets, alert, attempt, timeout)
    if isinstance(dest, SlackDestination):
        return send_slack(dest, secrets, alert, attempt, timeout)
    return send_email(dest, secrets, alert, attempt, timeout)
