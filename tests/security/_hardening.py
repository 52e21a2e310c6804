"""Shared setup for the hardening tests (issue 9, items 7-11): an app over a small new
workspace with an admin and a viewer key, and a real server for streams."""

from __future__ import annotations

import socket
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

import cxmetrics
from cxmetrics.api import create_app
from cxmetrics.api.auth import create_key

COOKIE = "cxm_session"
HERE = "http://testserver"  # the TestClient's origin
#: A few tickets whose text a spreadsheet would run as formulas, and a harmless one.
RISKY_SUBJECTS = ["=HYPERLINK(\"http://evil.example\",\"open\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
                  "\tTabbed", "\rReturned"]
SAFE_SUBJECT = "Refund for order 12"


@dataclass
class App:
    client: TestClient
    path: Path
    admin: str
    viewer: str
    admin_id: str
    viewer_id: str

    @property
    def app(self) -> Any:
        return self.client.app

    @property
    def ws(self) -> cxmetrics.Workspace:
        return self.client.app.state.workspace

    def bearer(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def sign_in(self, token: str) -> str:
        """Sign in the test client with `token` (as the dashboard does); returns the cookie."""
        self.client.cookies.clear()
        r = self.client.post("/api/v1/session", json={"key": token}, headers={"Origin": HERE})
        assert r.status_code == 200, r.text
        return self.client.cookies[COOKIE]


def tickets_csv(path: Path) -> Path:
    """A flat tickets file with one ticket per risky subject and one safe one (all email,
    March 2025, answered after an hour); each ticket's topic is its subject."""
    import csv

    out = path / "tickets.csv"
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["ticket_id", "created_at", "channel", "first_reply_at", "subject", "topic"])
        for i, subject in enumerate([*RISKY_SUBJECTS, SAFE_SUBJECT]):
            w.writerow([f"T{i}", f"2025-03-0{i + 1}T08:00:00Z", "email", f"2025-03-0{i + 1}T09:00:00Z", subject,
                        subject])
    return out


def make_app(tmp_path: Path, *, with_tickets: bool = False, **kwargs: Any) -> Iterator[App]:
    path = tmp_path / "ws"
    with cxmetrics.Workspace(path) as ws:  # (the constructor creates a workspace; open() may refuse to)
        if with_tickets:
            ws.import_file("tickets", tickets_csv(tmp_path))
    app = create_app(path, watch_alerts=False, **kwargs)
    admin_id, admin = create_key(app.state.workspace, "sec admin", "admin")
    viewer_id, viewer = create_key(app.state.workspace, "sec viewer", "viewer")
    with TestClient(app) as client:
        yield App(client, path, admin, viewer, admin_id, viewer_id)


@pytest.fixture
def sec_app(tmp_path: Path) -> Iterator[App]:
    yield from make_app(tmp_path)


@pytest.fixture
def sec_app_with_tickets(tmp_path: Path) -> Iterator[App]:
    yield from make_app(tmp_path, with_tickets=True)


@dataclass
class Live:
    url: str
    app: Any
    admin: str
    viewer: str
    viewer_id: str


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[Live]:
    """A real server (streams need one), with keep-alives far apart so that a stream that
    ends does so because of what the test did."""
    cxmetrics.Workspace(tmp_path / "ws").close()
    app = create_app(tmp_path / "ws", keepalive_s=60.0, watch_alerts=False)
    _, admin = create_key(app.state.workspace, "live admin", "admin")
    viewer_id, viewer = create_key(app.state.workspace, "live viewer", "viewer")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                        timeout_graceful_shutdown=1))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield Live(f"http://127.0.0.1:{port}", app, admin, viewer, viewer_id)
    srv.should_exit = True
    thread.join(10)
