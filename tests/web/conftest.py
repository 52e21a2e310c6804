"""Fixtures for the dashboard tests.

- `demo_path`: a 3,000-ticket demo workspace, generated once per session (facts refreshed).
- `tiny`: a hand-made workspace of three tickets whose numbers are checked by hand.
- `server`: the app (API + dashboard) over a copy of the demo, served by uvicorn on a free
  loopback port in a thread, with an admin and a viewer key.
- `browser`: Debian's Chromium driven by Playwright's sync API. Missing Chromium fails the
  tests (with the fix), it never skips them.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import cxmetrics
from cxmetrics.demo import DemoConfig, generate
from web._web_helpers import SCREENSHOTS, SLA_TOML, Console, Server, chromium, serving

DEMO_TICKETS = 3000
ORDER = ("agents", "customers", "tickets", "events", "surveys", "survey_sends", "activity", "funnel", "costs",
         "annotations")

# Three tickets in the week of Monday 2 March 2026 (UTC workspace), answered by hand:
#   T1 09:00 -> reply 09:30 (1,800 s), CSAT 5;  T2 10:00 -> 11:00 (3,600 s), CSAT 4;
#   T3 11:00 -> 13:00 (7,200 s), CSAT 2.   All solved the same day, by email.
TINY_CSV = """ticket_id,created_at,channel,priority,status,requester_id,assignee_id,team,topic,first_reply_at,solved_at,csat
T1,2026-03-02T09:00:00Z,email,normal,solved,C1,A1,Billing,billing,2026-03-02T09:30:00Z,2026-03-02T15:00:00Z,5
T2,2026-03-03T10:00:00Z,email,high,solved,C2,A1,Billing,billing,2026-03-03T11:00:00Z,2026-03-03T16:00:00Z,4
T3,2026-03-04T11:00:00Z,chat,normal,solved,C3,A2,Tier 1,login,2026-03-04T13:00:00Z,2026-03-04T17:00:00Z,2
"""


def import_demo(path: Path, tickets: int = DEMO_TICKETS, seed: int = 11) -> None:
    with cxmetrics.open(path, create=True) as ws:
        for batch in generate(DemoConfig(tickets=tickets, seed=seed)):
            for name in ORDER:
                if name in batch and batch[name].num_rows:
                    ws.import_table(name, batch[name], source="demo", label=f"demo:{name}", canonical=True)
        ws.refresh()


@pytest.fixture(scope="session")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("web-demo") / "ws"
    import_demo(path)
    return path


@pytest.fixture(scope="session")
def demo_ws(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[cxmetrics.Workspace]:
    """A read-only view of a copy of the demo (for page-data tests)."""
    copy = tmp_path_factory.mktemp("web-demo-ro") / "ws"
    shutil.copytree(demo_path, copy)
    with cxmetrics.open(copy, create=True) as ws:
        yield ws


@pytest.fixture
def tiny(tmp_path: Path) -> Iterator[cxmetrics.Workspace]:
    csv = tmp_path / "tiny.csv"
    csv.write_text(TINY_CSV, encoding="utf-8")
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        ws.import_file("tickets", csv)
        ws.refresh()
        yield ws


@pytest.fixture(scope="session")
def server(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from cxmetrics.api import create_app
    from cxmetrics.api.auth import create_key

    path = tmp_path_factory.mktemp("web-server") / "ws"
    shutil.copytree(demo_path, path)
    (path / "sla.toml").write_text(SLA_TOML, encoding="utf-8")
    app = create_app(path, watch_alerts=False)
    _, admin = create_key(app.state.workspace, "browser admin", "admin")
    _, viewer = create_key(app.state.workspace, "browser viewer", "viewer")
    with serving(app, "cxmetrics-test-server") as url:
        yield Server(url, admin, viewer, app, path)


# (package scope: the browser closes when tests/web is done. Playwright's sync API runs an event
# loop while it is open, and a browser held for the whole run broke every later test that starts
# one of its own, tests/reports' browser test and any asyncio.run(), when tests/web ran first)
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    SCREENSHOTS.mkdir(exist_ok=True)
    yield from chromium()


@pytest.fixture(scope="package")
def signed_in(browser: Any, server: Server) -> Iterator[Any]:
    """A browser context at 1440x900 holding an admin session (one sign-in per session)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    r = context.request.post(server.url + "/login", form={"key": server.admin, "next": "/favicon.ico"})
    assert r.ok, r.status
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(signed_in: Any) -> Iterator[Any]:
    """A new page in the signed-in context, with its console recorded as `page.console`."""
    pg = signed_in.new_page()
    pg.console = Console(pg)  # type: ignore[attr-defined]
    try:
        yield pg
    finally:
        pg.close()
