"""Helpers shared by the dashboard's browser tests (imported by conftest and the tests)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cxmetrics

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).parent / "screenshots"


def chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright, for a fixture to yield from; a clear failure when
    either is missing (the project's test command installs both)."""
    import pytest

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: the browser tests drive Debian's Chromium. Run the "
                    "project's test command, ./scripts/test, which installs it (or: apt-get install chromium).",
                    pytrace=False)
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is not installed: run ./scripts/test (it installs the test extras).", pytrace=False)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
# SLA policies for the test workspaces (calendar hours: no schedule needed)
SLA_TOML = """[[policy]]
name = "VIP"
conditions = { customer_tier = ["enterprise"] }
[policy.targets]
first_reply = { urgent = "30m", default = "2h", hours = "calendar" }

[[policy]]
name = "Standard"
[policy.targets]
first_reply = { urgent = "1h", high = "4h", default = "8h", hours = "calendar" }
total_resolution = { default = "3d", hours = "calendar" }
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: Any, name: str = "cxmetrics-test-server") -> Iterator[str]:
    """Serve `app` with uvicorn on a free local port in a thread; yields its base URL and stops
    the server on exit."""
    import uvicorn

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                        timeout_graceful_shutdown=1))
    thread = threading.Thread(target=srv.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)


@dataclass
class Server:
    """A running server: its base URL, keys, and the app (for reference numbers)."""

    url: str
    admin: str
    viewer: str
    app: Any
    path: Path

    def cursor(self) -> cxmetrics.Workspace:
        """A read view of the server's own workspace (the reference for what pages show)."""
        return self.app.state.workspace.cursor(auto_refresh=False)


class Console:
    """What a page logged: errors and uncaught exceptions (a page must log none)."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
