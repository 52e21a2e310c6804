"""Real local servers for alert tests: an HTTP server and an SMTP server on loopback.

Nothing of the sending code is mocked: the watcher posts over TCP to `HookServer`
and speaks SMTP to aiosmtpd, and the tests read what those servers received.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

import cxmetrics


@dataclass
class Posted:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HookServer:
    """Records every POST; answers `fail_status` to the first `fail_first` requests."""

    fail_first: int = 0
    fail_status: int = 500
    retry_after: str | None = None
    received: list[Posted] = field(default_factory=list)  # every request, failed ones too
    accepted: list[Posted] = field(default_factory=list)  # requests answered 200
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Posted]:
        """Accepted posts to `path`."""
        return [p for p in self.accepted if p.path == path]


def _handler(state: HookServer) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            posted = Posted(self.path, dict(self.headers.items()), body)
            with lock:
                state.received.append(posted)
                fail = len(state.received) <= state.fail_first
                if not fail:
                    state.accepted.append(posted)
            status = state.fail_status if fail else 200
            self.send_response(status)
            if fail and state.retry_after is not None:
                self.send_header("Retry-After", state.retry_after)
            reply = b"boom" if fail else b"ok"
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def hooks():
    state = HookServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailHandler:
    """aiosmtpd handler: keeps each message; refuses the first `fail_first` with `fail_reply`."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []
        self.fail_first = 0
        self.fail_reply = "451 4.3.0 try again later"
        self.seen = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.seen += 1
        if self.seen <= self.fail_first:
            return self.fail_reply
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


@dataclass
class MailServer:
    handler: MailHandler
    port: int

    @property
    def messages(self) -> list[tuple[str, list[str], Message]]:
        return self.handler.messages


@pytest.fixture
def smtp():
    handler = MailHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield MailServer(handler, port)
    controller.stop()


@pytest.fixture
def ws_path(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    cxmetrics.open(path, create=True).close()
    return path
