"""The report e-mail and the SMTP server it goes through.

The server is an e-mail destination of `alerts.toml` (its host, port, security, CA file and
login from the environment), the one `reports.toml [email] destination` names or else the
only one there; the alerts' retry policy (`[retry]` of alerts.toml) paces the attempts.
The message: a plain-text part, the HTML report as its alternative, and the PDF attached
(format "pdf"). Its Message-ID is derived from the schedule and period, so a retry after a
crash in mid-send is the same message to the mail clients.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

from cxmetrics.alerts._config import (
    AlertsConfig,
    AlertsConfigError,
    EmailDestination,
    ResolvedSecrets,
    RetryPolicy,
    _resolve,
)
from cxmetrics.reports._config import CONFIG_FILE, ReportsConfig, ReportsConfigError


def smtp_of(workspace: Any, config: ReportsConfig) -> tuple[EmailDestination, ResolvedSecrets, RetryPolicy]:
    """The SMTP server, its login (read from the environment) and the retry policy; a
    ReportsConfigError saying what to set when there is none."""
    path = Path(getattr(workspace, "path", workspace))
    if not (path / "alerts.toml").is_file():
        raise ReportsConfigError(
            f"reports are mailed through an e-mail destination of alerts.toml, and {path / 'alerts.toml'} does not "
            "exist: create it with one, e.g.\n  [[destinations]]\n  name = \"mail\"\n  type = \"email\"\n"
            "  host = \"smtp.example.com\"\n  from = \"cx@example.com\"\n  to = [\"lead@example.com\"]\n"
            "(docs/alerts.md; the login goes in username_env and password_env), or write the report to a file "
            "without --to.")
    try:
        alerts = AlertsConfig.load(path)
    except AlertsConfigError as exc:
        raise ReportsConfigError(f"reports are mailed through an e-mail destination of alerts.toml, which cannot be "
                                 f"read: {exc}") from None
    emails = [d for d in alerts.destinations if isinstance(d, EmailDestination)]
    name = config.email.destination
    if name is None:
        if len(emails) != 1:
            raise ReportsConfigError(
                f"{CONFIG_FILE}: [email] destination is not set and alerts.toml has "
                f"{'no' if not emails else len(emails)} e-mail destinations"
                + (f" ({', '.join(d.name for d in emails)})" if emails else "")
                + ": set destination = \"<name>\" under [email] in reports.toml, naming one"
                + ("" if emails else " you add to alerts.toml ([[destinations]] with type = \"email\", host, from, to;"
                                     " docs/alerts.md)") + ".")
        dest = emails[0]
    else:
        found = alerts.destination(name)
        if not isinstance(found, EmailDestination):
            raise ReportsConfigError(
                f"{CONFIG_FILE}: [email] destination '{name}' is not an e-mail destination of alerts.toml (those "
                f"are: {', '.join(d.name for d in emails) or 'none'}); set it to one of them.")
        dest = found
    if config.email.from_:
        dest = dest.model_copy(update={"from_": config.email.from_})
    try:
        secrets = _resolve(dest, os.environ)
    except ValueError as exc:
        text = str(exc).replace("starting the watcher", "starting the server (or running the command)")
        raise ReportsConfigError(f"alerts.toml destination '{dest.name}': {text}") from None
    return dest, secrets, alerts.retry


def message_id(schedule: str, period: str, sender: str) -> str:
    """The same id for every attempt at one schedule's period (a repeat shows as one message)."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "cxmetrics.local"
    digest = hashlib.sha256(f"{schedule}\x00{period}".encode()).hexdigest()[:16]
    return f"<report-{period.lower()}-{digest}@{domain}>"


def build(data: dict[str, Any], *, html: str, text: str, pdf: bytes | None, sender: str, to: tuple[str, ...],
          msg_id: str | None = None, reply_to: str | None = None) -> EmailMessage:
    """The report e-mail: text, the HTML alternative, and the PDF attached when given."""
    msg = EmailMessage()
    msg["Subject"] = data["title"]
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    if msg_id:
        msg["Message-ID"] = msg_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to a report
    msg["X-Cxmetrics-Report"] = data["week"]
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    if pdf is not None:
        msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"cx-weekly-{data['week']}.pdf")
    return msg
