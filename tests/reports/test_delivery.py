"""Scheduled delivery: a due report is mailed once per schedule and period, across server
restarts, cron runs, retries and a process killed in mid-send (issue 11, item 8)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

import cxmetrics
from cxmetrics.cli import main
from cxmetrics.reports import Week, run_due
from cxmetrics.reports._ledger import rows
from reports._reports_helpers import MailServer, part, pdf_pages, write_reports
from web._web_helpers import serving

# a fixed clock for the tests that pass one: Wednesday 4 March 2026, 12:00 UTC -> week 2026-W09
# (Mon 23 Feb - Sun 1 Mar) went out on Monday 2 March 08:00
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
SCHEDULE = """[[report]]
name = "weekly"
kind = "weekly"
to = ["lead@acme.example", "cfo@acme.example"]
send = "monday 08:00"
timezone = "Europe/Berlin"
format = "pdf"
"""


def _setup(path: Path, smtp: MailServer, schedule: str = SCHEDULE) -> None:
    (path / "alerts.toml").write_text(smtp.alerts_toml(), encoding="utf-8")
    write_reports(path, schedule)


def _reports(smtp: MailServer) -> list:
    return [m for m in smtp.messages if m["X-Cxmetrics-Report"]]


def test_a_due_report_is_mailed_once_over_two_server_restarts(ws_path: Path, smtp: MailServer) -> None:
    from cxmetrics.api import create_app

    _setup(ws_path, smtp)
    week = Week.ending_before(datetime.now(UTC).date())  # Berlin's Monday 08:00 is past unless it is Monday early
    for start in range(3):  # the first start sends; two restarts find the period in the ledger
        app = create_app(ws_path, watch_alerts=False, sync_connectors=False, send_surveys=False)
        with serving(app, f"reports-server-{start}"):
            scheduler = app.state.report_scheduler
            assert scheduler is not None and scheduler.wait_runs(1, timeout=120), "the scheduler did not run"
            if start == 0:
                smtp.wait_for(1)
    mails = _reports(smtp)
    assert len(mails) == 1, [m["Subject"] for m in mails]
    sent = mails[0]
    assert sent["X-Cxmetrics-Report"] in (week.label, week.previous().label)
    assert sorted(a.strip() for a in sent["To"].split(",")) == ["cfo@acme.example", "lead@acme.example"]
    with cxmetrics.open(ws_path, read_only=True) as ws:
        ledger = rows(ws)
    assert [(r["schedule"], r["status"], r["attempts"]) for r in ledger] == [("weekly", "delivered", 1)]
    # the server brought the SLA clocks to now before reading the breaches (its own evaluation)
    assert "SLA breaches" in part(sent, "text/html") and "SLAs are not set up" not in part(sent, "text/html")
    assert "No SLA target was breached" not in part(sent, "text/html")
    pdf = part(sent, "application/pdf")
    assert pdf is not None and pdf[:5] == b"%PDF-" and pdf_pages(pdf) >= 1


def test_cron_run_due_sends_once_and_says_so(ws_path: Path, smtp: MailServer) -> None:
    _setup(ws_path, smtp)
    runner = CliRunner()
    first = runner.invoke(main, ["-w", str(ws_path), "report", "run-due"])
    assert first.exit_code == 0, first.output
    assert "delivered (attempt 1)" in first.output
    second = runner.invoke(main, ["-w", str(ws_path), "report", "run-due"])
    assert second.exit_code == 0, second.output
    assert "already delivered" in second.output
    assert len(_reports(smtp)) == 1
    status = runner.invoke(main, ["-w", str(ws_path), "report", "status"])
    assert status.exit_code == 0 and "delivered after 1 attempt(s)" in status.output, status.output


def test_not_due_before_the_send_time(ws_path: Path, smtp: MailServer) -> None:
    _setup(ws_path, smtp)
    # Monday 2 March 07:59 Berlin = 06:59 UTC: W09's time has not come; W08's (23 Feb) has
    with cxmetrics.open(ws_path) as ws:
        got = run_due(ws, now=datetime(2026, 3, 2, 6, 59, tzinfo=UTC), evaluate_sla=None)
        assert [(r.period, r.status) for r in got] == [("2026-W08", "delivered")]
        got = run_due(ws, now=datetime(2026, 3, 2, 7, 0, tzinfo=UTC), evaluate_sla=None)  # 08:00 Berlin
        assert [(r.period, r.status) for r in got] == [("2026-W09", "delivered")]
        got = run_due(ws, now=NOW, evaluate_sla=None)
        assert [(r.period, r.status) for r in got] == [("2026-W09", "already delivered")]
    assert [m["X-Cxmetrics-Report"] for m in _reports(smtp)] == ["2026-W08", "2026-W09"]


def test_a_temporary_failure_is_retried_after_the_backoff(ws_path: Path, smtp: MailServer) -> None:
    _setup(ws_path, smtp)
    smtp.fail_first = 1  # 451: try again later
    with cxmetrics.open(ws_path) as ws:
        first = run_due(ws, now=NOW, evaluate_sla=None)
        assert [(r.status, r.attempt) for r in first] == [("retry", 1)]
        assert "451" in (first[0].error or "")
        assert first[0].next_attempt_at == NOW + timedelta(seconds=10)  # the alerts' first backoff
        assert run_due(ws, now=NOW + timedelta(seconds=9), evaluate_sla=None)[0].status == "waiting"
        again = run_due(ws, now=NOW + timedelta(seconds=10), evaluate_sla=None)
        assert [(r.status, r.attempt) for r in again] == [("delivered", 2)]
    assert len(_reports(smtp)) == 1 and smtp.seen == 2


def test_a_permanent_failure_is_not_retried(ws_path: Path, smtp: MailServer) -> None:
    _setup(ws_path, smtp)
    smtp.fail_first, smtp.fail_reply = 5, "554 5.7.1 rejected"
    with cxmetrics.open(ws_path) as ws:
        got = run_due(ws, now=NOW, evaluate_sla=None)
        assert [(r.status, r.attempt) for r in got] == [("failed", 1)]
        later = run_due(ws, now=NOW + timedelta(hours=2), evaluate_sla=None)
        assert [r.status for r in later] == ["already failed"]
    assert smtp.seen == 1 and not _reports(smtp)


_KILLED = """
import sys
from datetime import datetime
import cxmetrics
from cxmetrics.reports import run_due
with cxmetrics.open(sys.argv[1]) as ws:
    print(run_due(ws, now=datetime.fromisoformat(sys.argv[2]), evaluate_sla=None), flush=True)
"""


def test_a_process_killed_in_mid_send_retries_and_sends_once(ws_path: Path, smtp: MailServer) -> None:
    _setup(ws_path, smtp)
    smtp.stall_rcpt = True  # the SMTP session hangs at RCPT TO: the process is killed before DATA
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(_KILLED), str(ws_path), NOW.isoformat()],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ})
    try:
        assert smtp.rcpt_seen.wait(120), proc.stderr.read().decode() if proc.poll() is not None else "no RCPT"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    smtp.release()
    assert not smtp.messages
    with cxmetrics.open(ws_path) as ws:
        (row,) = rows(ws)
        # the lease was committed before the SMTP call: the attempt is counted, its retry set
        assert (row["status"], row["attempts"]) == ("pending", 1)
        assert row["next_attempt_at"] == NOW + timedelta(seconds=10)
        assert run_due(ws, now=NOW + timedelta(seconds=5), evaluate_sla=None)[0].status == "waiting"
        got = run_due(ws, now=NOW + timedelta(seconds=10), evaluate_sla=None)
        assert [(r.status, r.attempt) for r in got] == [("delivered", 2)]
        assert run_due(ws, now=NOW + timedelta(days=1), evaluate_sla=None)[0].status == "already delivered"
    assert len(_reports(smtp)) == 1


def test_report_weekly_to_mails_it_now_html_only_without_a_pdf(ws_path: Path, smtp: MailServer) -> None:
    (ws_path / "alerts.toml").write_text(smtp.alerts_toml(), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["-w", str(ws_path), "report", "weekly", "--week", "2026-W09", "--format", "html",
                                  "--to", "lead@acme.example"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "sent the weekly report for 2026-W09 to lead@acme.example"
    (mail,) = _reports(smtp)
    assert mail["Subject"] == "Weekly support report, 2026-W09"
    assert mail["From"] == "CX Reports <reports@acme.example>" and mail["To"] == "lead@acme.example"
    assert part(mail, "application/pdf") is None and "Headline KPIs" in part(mail, "text/html")
    assert "Headline KPIs" in part(mail, "text/plain")
    result = runner.invoke(main, ["-w", str(ws_path), "report", "weekly", "--week", "2026-W09",
                                  "--to", "lead@acme.example"])
    assert result.exit_code == 0, result.output
    pdf = part(_reports(smtp)[1], "application/pdf")
    assert pdf[:5] == b"%PDF-" and pdf_pages(pdf) >= 4
    with cxmetrics.open(ws_path, read_only=True) as ws:
        assert rows(ws) == []  # a report mailed by hand is not a schedule's delivery
