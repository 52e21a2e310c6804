"""Shared fixtures for the survey tests (any test under tests/surveys/ may use them).

- `smtp`: a real SMTP server (aiosmtpd) on a free loopback port that keeps every message it
  receives; `smtp.email_toml()` is the `[email]` table that points `surveys.toml` at it, and
  `smtp.wait_for(n)` waits until n messages arrived (the scheduler delivers in a thread).
- `survey_ws` / `survey_ws_path`: a small workspace of tickets and customers, each ticket
  chosen for one rule of the contract (see TICKETS below; the numbers are checked by hand).
- `write_surveys(path, body)`: writes `surveys.toml` into a workspace folder (a TOML text,
  or a dict written as TOML), bumping the file's mtime so the cached config reloads.
- `NOW`: a clock two days after the last solve, for tests that pass `now=`.

Helpers: `html_part(message)`, `text_part(message)`, `links(html)` (every href of a mail).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

import cxmetrics

# ---------------------------------------------------------------------------------------------
# The workspace. Every ticket is "email" unless said; all times UTC. What a rule should do with
# each (the contract's "not surveyed" list):
#   S1  solved 2 Mar 15:00, requester C1 (customers.email ann@example.com, locale de-AT) -> German
#   S2  solved 3 Mar 16:00, requester C2 (bob@example.com, locale en), chat               -> English
#   S3  solved 4 Mar 17:00, requester cara@example.com (no customer row)                 -> address = requester
#   S4  solved 4 Mar 18:00, requester C4 (a customer row without e-mail)                 -> skipped: no address
#   S5  open (not solved), requester C5 (dan@example.com)                                -> skipped: not solved
#   S6  status spam, requester C6 (eve@example.com)                                      -> skipped: excluded
#   S7  solved 4 Mar 19:00, requester C2 again, team Billing                             -> throttled after S2's send
# ---------------------------------------------------------------------------------------------
TICKETS_CSV = """ticket_id,created_at,channel,priority,status,requester_id,assignee_id,team,topic,first_reply_at,solved_at
S1,2026-03-02T09:00:00Z,email,normal,solved,C1,A1,Support,billing,2026-03-02T09:30:00Z,2026-03-02T15:00:00Z
S2,2026-03-03T10:00:00Z,chat,high,solved,C2,A1,Support,login,2026-03-03T10:05:00Z,2026-03-03T16:00:00Z
S3,2026-03-04T11:00:00Z,email,normal,solved,cara@example.com,A2,Support,billing,2026-03-04T12:00:00Z,2026-03-04T17:00:00Z
S4,2026-03-04T12:00:00Z,email,normal,solved,C4,A2,Support,login,2026-03-04T13:00:00Z,2026-03-04T18:00:00Z
S5,2026-03-04T13:00:00Z,email,normal,open,C5,A2,Support,login,,
S6,2026-03-04T14:00:00Z,email,normal,spam,C6,,Support,,,
S7,2026-03-04T15:00:00Z,email,normal,solved,C2,A1,Billing,billing,2026-03-04T15:30:00Z,2026-03-04T19:00:00Z
"""
CUSTOMERS_CSV = """customer_id,created_at,tier,region,segment,email,locale,name
C1,2025-01-10T00:00:00Z,enterprise,EMEA,smb,ann@example.com,de-AT,Ann Example
C2,2025-02-10T00:00:00Z,pro,NA,mid,bob@example.com,en,Bob Example
C4,2025-03-10T00:00:00Z,free,NA,smb,,en,No Mail
C5,2025-04-10T00:00:00Z,pro,EMEA,smb,dan@example.com,fr_CA,Dan Example
C6,2025-05-10T00:00:00Z,free,APAC,smb,eve@example.com,,Eve Example
"""
#: ticket id -> the address a send for it goes to (None: no address)
ADDRESSES = {"S1": "ann@example.com", "S2": "bob@example.com", "S3": "cara@example.com", "S4": None,
             "S5": "dan@example.com", "S6": "eve@example.com", "S7": "bob@example.com"}
#: ticket id -> solved_at
SOLVED = {"S1": datetime(2026, 3, 2, 15, tzinfo=UTC), "S2": datetime(2026, 3, 3, 16, tzinfo=UTC),
          "S3": datetime(2026, 3, 4, 17, tzinfo=UTC), "S4": datetime(2026, 3, 4, 18, tzinfo=UTC),
          "S7": datetime(2026, 3, 4, 19, tzinfo=UTC)}
#: a clock after every solve (+ a 1 h delay): tests that pass `now=` use it
NOW = datetime(2026, 3, 6, 12, tzinfo=UTC)
SOURCE = "default"  # the source a plain `import_file` gives


def make_workspace(path: Path) -> Path:
    """Create the small survey workspace at `path` (facts refreshed) and return `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tickets = path.parent / f"{path.name}-tickets.csv"
    customers = path.parent / f"{path.name}-customers.csv"
    tickets.write_text(TICKETS_CSV, encoding="utf-8")
    customers.write_text(CUSTOMERS_CSV, encoding="utf-8")
    with cxmetrics.open(path, create=True) as ws:
        ws.import_file("customers", customers)
        ws.import_file("tickets", tickets)
        ws.refresh()
    return path


@pytest.fixture
def survey_ws_path(tmp_path: Path) -> Path:
    """The small survey workspace's folder (closed: open it yourself, or start a server on it)."""
    return make_workspace(tmp_path / "ws")


@pytest.fixture
def survey_ws(survey_ws_path: Path) -> Iterator[cxmetrics.Workspace]:
    """The small survey workspace, open."""
    with cxmetrics.open(survey_ws_path) as ws:
        yield ws


# ---------------------------------------------------------------------------------------------
# surveys.toml
# ---------------------------------------------------------------------------------------------
def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {v!r} as TOML")


def to_toml(data: Mapping[str, Any]) -> str:
    """A small TOML writer for surveys.toml's shape: top-level keys, tables (`branding`,
    `email`) and the `[[surveys]]` list."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, (Mapping, list))]
    for k, v in data.items():
        if isinstance(v, Mapping):
            lines += ["", f"[{k}]", *(f"{kk} = {_toml_value(vv)}" for kk, vv in v.items())]
    for k, v in data.items():
        if isinstance(v, list):
            for item in v:
                lines += ["", f"[[{k}]]", *(f"{kk} = {_toml_value(vv)}" for kk, vv in item.items())]
    return "\n".join(lines).strip() + "\n"


def write_surveys(workspace: Path | str, body: str | Mapping[str, Any]) -> Path:
    """Write `surveys.toml` into the workspace folder. The mtime is moved forward so a config
    cached by mtime reloads even when two writes land within the file system's resolution."""
    p = Path(workspace) / "surveys.toml"
    old = p.stat().st_mtime_ns if p.exists() else 0
    p.write_text(body if isinstance(body, str) else to_toml(body), encoding="utf-8")
    if p.stat().st_mtime_ns <= old:
        os.utime(p, ns=(old + 10_000_000, old + 10_000_000))
    return p


@pytest.fixture(name="write_surveys")
def write_surveys_fixture() -> Any:
    """`write_surveys(path, body)` as a fixture (same function)."""
    return write_surveys


# ---------------------------------------------------------------------------------------------
# SMTP
# ---------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mail:
    """One received message: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    received_at: datetime  # when the server took it (UTC)

    @property
    def html(self) -> str:
        return html_part(self.message)

    @property
    def text(self) -> str:
        return text_part(self.message)

    @property
    def links(self) -> list[str]:
        return links(self.html)


@dataclass
class MailServer:
    """What the local SMTP server received; refuses the first `fail_first` messages with
    `fail_reply` (a temporary failure by default) to test retries."""

    port: int = 0
    messages: list[Mail] = field(default_factory=list)
    fail_first: int = 0
    fail_reply: str = "451 4.3.0 try again later"
    seen: int = 0
    _cond: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        with self._cond:
            self.seen += 1
            if self.seen <= self.fail_first:
                return self.fail_reply
            msg = message_from_bytes(envelope.content, policy=policy.default)
            self.messages.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), msg,  # type: ignore[arg-type]
                                      datetime.now(UTC)))
            self._cond.notify_all()
        return "250 OK"

    def wait_for(self, n: int = 1, timeout: float = 30.0) -> list[Mail]:
        """Block until at least `n` messages arrived; AssertionError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {n} message(s) at the test SMTP server within {timeout} s, "
                                         f"got {len(self.messages)}")
                self._cond.wait(left)
            return list(self.messages)

    def to(self, address: str) -> list[Mail]:
        """The messages sent to `address`."""
        return [m for m in self.messages if address in m.rcpt_tos]

    def email_settings(self, sender: str = "Acme Support <support@acme.example>") -> dict[str, Any]:
        """surveys.toml's `[email]` table for this server (plain SMTP on loopback)."""
        return {"host": "127.0.0.1", "port": self.port, "security": "none", "from": sender}

    def email_toml(self, sender: str = "Acme Support <support@acme.example>") -> str:
        """The same as a TOML text (`[email]` and its keys)."""
        return "[email]\n" + "\n".join(f"{k} = {_toml_value(v)}" for k, v in self.email_settings(sender).items())


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    """A local SMTP server (aiosmtpd) on a free port that keeps what it receives."""
    server = MailServer(port=free_port())
    controller = Controller(server, hostname="127.0.0.1", port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


def html_part(message: Message) -> str:
    """The text/html part of a message ("" if none)."""
    for part in message.walk():
        if part.get_content_type() == "text/html":
            return str(part.get_content()) if isinstance(part, EmailMessage) else _decoded(part)
    return ""


def text_part(message: Message) -> str:
    """The text/plain part of a message ("" if none)."""
    for part in message.walk():
        if part.get_content_type() == "text/plain" and not part.is_multipart():
            return str(part.get_content()) if isinstance(part, EmailMessage) else _decoded(part)
    return ""


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    return payload.decode(part.get_content_charset() or "utf-8") if isinstance(payload, bytes) else ""


def links(html: str) -> list[str]:
    """Every href of an HTML text, entities decoded (`&amp;` -> `&`), in order."""
    return [unescape(h) for h in re.findall(r'href\s*=\s*"([^"]*)"', html, flags=re.IGNORECASE)]


def score_link(html: str, score: int) -> str:
    """The one-click rating link for `score` (`.../s/TOKEN?score=N`); AssertionError if the
    mail has none or more than one."""
    found = [h for h in links(html) if re.search(rf"/s/[^/?#\s]+\?(?:[^#]*&)?score={score}(?:&|#|$)", h)]
    assert len(found) == 1, f"expected one link for score {score}, found {found} in {links(html)}"
    return found[0]
