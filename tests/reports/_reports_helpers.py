"""A local SMTP server for the report tests, and small readers of what it received."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class MailServer:
    """aiosmtpd handler that keeps each message. `fail_first` messages are refused with
    `fail_reply`; with `stall_rcpt` set, RCPT TO waits (until `release()`) so a client can
    be killed in mid-send, before the message is accepted."""

    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    fail_first: int = 0
    fail_reply: str = "451 4.3.0 try again later"
    stall_rcpt: bool = False
    rcpt_seen: threading.Event = field(default_factory=threading.Event)
    _go: threading.Event = field(default_factory=threading.Event)
    seen: int = 0
    _cond: threading.Condition = field(default_factory=threading.Condition)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if self.stall_rcpt:
            import asyncio

            self.rcpt_seen.set()
            while not self._go.is_set():
                await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        with self._cond:
            self.seen += 1
            if self.seen <= self.fail_first:
                return self.fail_reply
            msg = message_from_bytes(envelope.content, policy=policy.default)
            self.messages.append(msg)  # type: ignore[arg-type]
            self._cond.notify_all()
        return "250 OK"

    def release(self) -> None:
        self.stall_rcpt = False
        self._go.set()

    def wait_for(self, n: int = 1, timeout: float = 60.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {n} message(s) within {timeout} s, got {len(self.messages)}")
                self._cond.wait(left)
            return list(self.messages)

    def alerts_toml(self, sender: str = "CX Reports <reports@acme.example>") -> str:
        """An alerts.toml whose only e-mail destination is this server (plain SMTP on loopback)."""
        return ("[[destinations]]\nname = \"leads-mail\"\ntype = \"email\"\nhost = \"127.0.0.1\"\n"
                f"port = {self.port}\nsecurity = \"none\"\nfrom = \"{sender}\"\nto = [\"ops@acme.example\"]\n"
                "kinds = [\"breached\"]\n")


def write_reports(path: Path, body: str) -> None:
    """reports.toml in a workspace, its mtime bumped so a cached config reloads."""
    p = path / "reports.toml"
    p.write_text(body, encoding="utf-8")
    st = p.stat()
    import os

    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def part(msg: EmailMessage, ctype: str) -> Any:
    for p in msg.walk():
        if p.get_content_type() == ctype:
            return p.get_content()
    return None


def pdf_pages(data: bytes) -> int:
    """Pages of a PDF counted from its page objects (`/Type /Page`, not `/Pages`)."""
    import re

    return len(re.findall(rb"/Type\s*/Page(?![s\w])", data))
