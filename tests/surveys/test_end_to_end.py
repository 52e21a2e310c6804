"""Issue 16's first acceptance point, end to end over a real server, a real SMTP server and
Chromium: a ticket solved through the API is surveyed after the definition's delay, the
mail's one-click link for 4 opens the survey page with 4 pre-selected, the customer adds a
comment and submits, and the dashboard's Surveys page (open, signed in) shows the new CSAT
and response rate without a reload.

The expected numbers are worked by hand from the rows this file imports (see HISTORY), not
read back from the code. Screenshots of the mail (its HTML rendered) and of the survey page,
at desktop and phone sizes, go to /tmp/sv_d/ (SV_D_SHOTS overrides).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from surveys.conftest import MailServer, free_port, make_workspace, score_link, write_surveys
from web._web_helpers import Console, chromium

import cxmetrics
from cxmetrics.web import _format as fmt

SHOTS = Path(os.environ.get("SV_D_SHOTS", "/tmp/sv_d"))
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
CUSTOMER = "pat@example.com"  # the new ticket's requester: an address, so the mail goes there
COMMENT = "Quick and friendly, thank you <b>Sam</b>!"  # markup stays text

# The workspace's survey history (source "default", as the tickets of conftest.make_workspace):
# CSAT answers for S1 (5), S2 (4) and S3 (2): CSAT (share of 4-5) = 2/3 = 66.7 %.
# Sends to S1, S2, S3, S4 and S7, of which S1-S3 are answered: response rate 3/5 = 60.0 %.
HISTORY_SURVEYS = """response_id,send_id,ticket_id,customer_id,agent_id,kind,scale,score,comment,sent_at,responded_at
R1,H1,S1,C1,A1,csat,1-5,5,,2026-03-02T16:00:00Z,2026-03-02T18:00:00Z
R2,H2,S2,C2,A1,csat,1-5,4,,2026-03-03T17:00:00Z,2026-03-03T19:00:00Z
R3,H3,S3,cara@example.com,A2,csat,1-5,2,too slow,2026-03-04T18:00:00Z,2026-03-04T20:00:00Z
"""
HISTORY_SENDS = """send_id,ticket_id,customer_id,kind,sent_at,channel
H1,S1,C1,csat,2026-03-02T16:00:00Z,email
H2,S2,C2,csat,2026-03-03T17:00:00Z,chat
H3,S3,cara@example.com,csat,2026-03-04T18:00:00Z,email
H4,S4,C4,csat,2026-03-04T19:00:00Z,email
H5,S7,C2,csat,2026-03-04T20:00:00Z,email
"""
CSAT_BEFORE, CSAT_AFTER = 100 * 2 / 3, 100 * 3 / 4  # + one answer of 4 (top box)
RATE_BEFORE, RATE_AFTER = 100 * 3 / 5, 100 * 4 / 6  # + one send, answered
DELAY_S = 2.0


@dataclass
class Live:
    url: str
    admin: str
    app: Any
    path: Path

    def cursor(self) -> cxmetrics.Workspace:
        return self.app.state.workspace.cursor(auto_refresh=False)


@pytest.fixture
def live(tmp_path: Path, smtp: MailServer) -> Iterator[Live]:
    """The app over the survey workspace (with HISTORY), surveys.toml pointing at the local
    SMTP server, a 2 s delay and a half-second scheduler, served on a known port (the
    mail's links name it: base_url)."""
    import uvicorn

    from cxmetrics.api import create_app
    from cxmetrics.api.auth import create_key

    path = make_workspace(tmp_path / "ws")
    (tmp_path / "surveys.csv").write_text(HISTORY_SURVEYS, encoding="utf-8")
    (tmp_path / "sends.csv").write_text(HISTORY_SENDS, encoding="utf-8")
    with cxmetrics.open(path) as ws:
        ws.import_file("survey_sends", tmp_path / "sends.csv")
        ws.import_file("surveys", tmp_path / "surveys.csv")
        ws.refresh()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    write_surveys(path, {
        "base_url": url, "interval": 0.5,
        "branding": {"name": "Acme Support", "colour": "#0b5fff"},
        "email": smtp.email_settings(),
        "surveys": [{"name": "csat_after_solve", "kind": "csat", "delay": f"{DELAY_S:g}s"}],
    })
    app = create_app(path, watch_alerts=False, sync_connectors=False)
    _, admin = create_key(app.state.workspace, "e2e admin", "admin")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, name="cxmetrics-e2e-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    try:
        yield Live(url, admin, app, path)
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def browser() -> Iterator[Any]:
    yield from chromium()


def csat_text(page: Any) -> str:
    return page.inner_text("#survey-csat a.big").strip()


# the "All kinds" row of the response rates table: survey_response_rate over every send
RATE_JS = ("() => { const el = document.querySelector('#rates tbody tr:last-child td:last-child a b'); "
           "return el ? el.textContent.trim() : null; }")


def rate_text(page: Any) -> str:
    return str(page.evaluate(RATE_JS))


def solve_through_the_api(live: Live, solved: datetime) -> None:
    """A new e-mail ticket from CUSTOMER, answered and solved by agent A1 (events API)."""
    events = [
        {"event_id": "e2e-c", "ticket_id": "E2E-1", "ts": (solved - timedelta(minutes=30)).isoformat(),
         "kind": "created", "actor_type": "customer", "actor_id": CUSTOMER, "requester_id": CUSTOMER,
         "channel": "email", "priority": "normal", "team": "Support", "subject": "Invoice copy"},
        {"event_id": "e2e-r", "ticket_id": "E2E-1", "ts": (solved - timedelta(minutes=20)).isoformat(),
         "kind": "message", "actor_type": "agent", "actor_id": "A1", "public": True, "body": "Here it is."},
        {"event_id": "e2e-s", "ticket_id": "E2E-1", "ts": solved.isoformat(), "kind": "status",
         "actor_type": "agent", "actor_id": "A1", "status_to": "solved"},
    ]
    r = httpx.post(live.url + "/api/v1/events", json=events, headers={"Authorization": f"Bearer {live.admin}"})
    assert r.status_code == 200, r.text


def test_a_solved_ticket_is_surveyed_answered_and_counted_live(live: Live, smtp: MailServer, browser: Any) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    # --- the dashboard's Surveys page, open and signed in, over a period holding every answer
    board = browser.new_context(viewport={"width": 1440, "height": 900})
    assert board.request.post(live.url + "/login", form={"key": live.admin, "next": "/favicon.ico"}).ok
    dash = board.new_page()
    dash_console = Console(dash)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
    dash.goto(f"{live.url}/surveys?from=2026-01-01&to={tomorrow}")
    dash.wait_for_selector("#live.on")
    assert csat_text(dash) == fmt.value(CSAT_BEFORE, "percent") == "66.7%"
    assert rate_text(dash) == fmt.value(RATE_BEFORE, "percent") == "60.0%"
    dash.evaluate("window.__not_reloaded = true")

    # --- a ticket is solved through the API; the survey is due DELAY_S later
    solved = datetime.now(UTC).replace(microsecond=0)
    solve_through_the_api(live, solved)
    [mail] = smtp.wait_for(1, timeout=30)
    assert mail.rcpt_tos == [CUSTOMER]
    assert mail.received_at >= solved + timedelta(seconds=DELAY_S), (mail.received_at, solved)
    assert mail.message["From"] == "Acme Support <support@acme.example>"
    assert mail.message["To"] == CUSTOMER and mail.message["Subject"]
    assert mail.text and mail.html  # plain text and HTML alternatives
    assert "Acme Support" in mail.html and "Invoice copy" in mail.html  # the branding, the request's subject
    # one mail only: the old tickets were solved before the survey was switched on
    time.sleep(1.5)
    assert len(smtp.messages) == 1, [m.rcpt_tos for m in smtp.messages]

    # --- the mail as a mail client shows it, at desktop and phone widths
    mailview = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    mp = mailview.new_page()
    mp.set_content(mail.html)
    mp.screenshot(path=str(SHOTS / "mail-desktop.png"), full_page=True)
    mp.set_viewport_size(PHONE)
    mp.screenshot(path=str(SHOTS / "mail-phone.png"), full_page=True)
    mailview.close()
    link = score_link(mail.html, 4)
    assert link.startswith(live.url + "/s/"), link
    assert link.split("?")[0] in mail.text  # the plain-text part has the survey's address too
    for score in (1, 2, 3, 5):  # the whole 1-5 scale is one click away
        score_link(mail.html, score)

    # --- the customer (no key, no session) opens the link for 4: it is pre-selected, not recorded
    customer = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = customer.new_page()
    console = Console(page)
    page.goto(link)
    assert page.locator("input[type=radio][name=score][value='4']").is_checked()
    assert page.locator("input[type=radio][name=score]:checked").count() == 1
    page.screenshot(path=str(SHOTS / "page-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(SHOTS / "page-desktop.png"), full_page=True)
    with live.cursor() as ws:  # opening the link stored nothing (mail scanners open links)
        assert ws.sql("SELECT count(*) AS n FROM surveys WHERE origin = 'collected'").to_pylist()[0]["n"] == 0

    # --- a comment, submit: the thank-you state shows the answer
    page.fill("textarea[name=comment]", COMMENT)
    page.click("button[type=submit]")
    page.wait_for_selector("#your-score")
    assert page.inner_text("#your-score").strip() == "4 out of 5"
    assert page.inner_text("#your-comment").strip() == COMMENT  # shown as text, markup and all
    assert page.locator("#your-comment b").count() == 0
    page.screenshot(path=str(SHOTS / "thanks-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / "thanks-phone.png"), full_page=True)
    assert console.errors == [], console.errors

    # --- the stored answer: linked to its ticket, agent and send
    with live.cursor() as ws:
        rows = ws.sql("SELECT s.ticket_id, s.agent_id, s.customer_id, s.kind, s.scale, s.score, s.comment, "
                      "s.send_id, s.origin, d.send_id AS sent FROM surveys s "
                      "JOIN survey_sends d ON d.source = s.source AND d.send_id = s.send_id "
                      "WHERE s.origin = 'collected'").to_pylist()
    assert len(rows) == 1, rows
    row = rows[0]
    assert (row["ticket_id"], row["agent_id"], row["kind"], row["scale"], row["score"], row["comment"]) == (
        "E2E-1", "A1", "csat", "1-5", 4, COMMENT)

    # --- the dashboard, never reloaded, shows 3 of 4 satisfied and 4 of 6 sends answered
    dash.wait_for_function("t => document.querySelector('#survey-csat a.big').textContent.trim() === t",
                           arg=fmt.value(CSAT_AFTER, "percent"), timeout=15_000)
    dash.wait_for_function(f"t => ({RATE_JS})() === t", arg=fmt.value(RATE_AFTER, "percent"), timeout=15_000)
    assert fmt.value(CSAT_AFTER, "percent") == "75.0%" and fmt.value(RATE_AFTER, "percent") == "66.7%"
    assert dash.evaluate("window.__not_reloaded") is True
    dash.screenshot(path=str(SHOTS / "dashboard-surveys.png"), full_page=True)
    assert dash_console.errors == [], dash_console.errors
    customer.close()
    board.close()
