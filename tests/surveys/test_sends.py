"""Sends (issue 16, items 2-3): exactly once across runs and restarts, links for other
channels, sending a list now, and the commands. Hand-worked on the small survey workspace
(tests/surveys/conftest.py) with the clock under the test's control."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner

import cxmetrics
from cxmetrics.cli import main
from cxmetrics.surveys import SurveysConfig, SurveysConfigError, verify_token
from cxmetrics.surveys._sends import SendError, base_url, link, recent_sends, request_row, run, send_now
from cxmetrics.surveys._tokens import send_id

from .conftest import NOW, SOURCE, write_surveys

FIRST_SIGHT = datetime(2026, 3, 1, tzinfo=UTC)


def config(smtp: Any = None, **top: Any) -> SurveysConfig:
    data: dict[str, Any] = {"base_url": "https://cx.example.com", **top,
                            "surveys": [{"name": "csat", "kind": "csat", "delay": "1h"}]}
    if smtp is not None:
        data["email"] = smtp.email_settings()
    return SurveysConfig.from_dict(data)


def count(ws: cxmetrics.Workspace, sql: str) -> int:
    return ws.con.execute(sql).fetchall()[0][0]


def test_running_twice_at_the_same_time_plans_nothing_twice(survey_ws) -> None:
    c = config()
    run(survey_ws, now=FIRST_SIGHT, config=c, deliver=False)
    first = run(survey_ws, now=NOW, config=c, deliver=False)
    again = run(survey_ws, now=NOW, config=c, deliver=False)
    assert first.planned == 3 and again.planned == 0 and again.send_ids == []
    assert count(survey_ws, "SELECT count(*) FROM survey_requests") == 3
    assert count(survey_ws, "SELECT count(*) FROM survey_deliveries WHERE purpose = 'invite'") == 3
    assert count(survey_ws, "SELECT count(*) FROM survey_sends") == 0  # e-mails not delivered: no sends yet


def test_a_run_killed_in_mid_delivery_sends_each_mail_once_after_the_restart(survey_ws, smtp) -> None:
    c = config(smtp)
    run(survey_ws, now=FIRST_SIGHT, config=c, deliver=False)
    calls: list[str] = []

    def dies(dest: Any, secrets: Any, msg: Any, timeout: float) -> Any:
        calls.append(msg["To"])
        raise KeyboardInterrupt  # the process is killed while the SMTP server is being talked to

    from cxmetrics.surveys import _deliver, _sends

    with pytest.raises(KeyboardInterrupt):
        _sends.run(survey_ws, now=NOW, config=c, deliver=False)
        _deliver.deliver(survey_ws, c, NOW, lambda: "https://cx.example.com", sender=dies)
    assert len(calls) == 1
    # the lease was committed before the call: attempt 1, retry 10 s later (RetryPolicy's base delay)
    assert survey_ws.con.execute("SELECT attempts, next_attempt_at FROM survey_deliveries WHERE attempts > 0"
                                 ).fetchall() == [(1, NOW + timedelta(seconds=10))]
    # "restart": at the same time the leased one waits, the two others go
    r = run(survey_ws, now=NOW, config=c)
    assert r.delivered == 2 and len(smtp.messages) == 2
    r = run(survey_ws, now=NOW + timedelta(seconds=10), config=c)
    assert r.delivered == 1 and len(smtp.messages) == 3
    for later in (20, 3600, 86400):
        assert run(survey_ws, now=NOW + timedelta(seconds=later), config=c).delivered == 0
    assert sorted(a for m in smtp.messages for a in m.rcpt_tos) == ["ann@example.com", "bob@example.com",
                                                                    "cara@example.com"]
    assert count(survey_ws, "SELECT count(*) FROM survey_sends") == 3


def test_survey_sends_rows_are_written_again_when_lost_between_delivery_and_import(survey_ws, smtp) -> None:
    c = config(smtp)
    run(survey_ws, now=FIRST_SIGHT, config=c, deliver=False)
    run(survey_ws, now=NOW, config=c)
    survey_ws.con.execute("DELETE FROM survey_sends")  # as if the process died before the import
    r = run(survey_ws, now=NOW + timedelta(minutes=1), config=c)
    assert r.sends_written == 3 and r.delivered == 0 and len(smtp.messages) == 3
    got = survey_ws.con.execute("SELECT ticket_id, sent_at, delay_s FROM survey_sends ORDER BY ticket_id").fetchall()
    # sent when delivered (NOW), the delay being NOW - solve
    assert got == [("S1", NOW, (NOW - datetime(2026, 3, 2, 15, tzinfo=UTC)).total_seconds()),
                   ("S2", NOW, (NOW - datetime(2026, 3, 3, 16, tzinfo=UTC)).total_seconds()),
                   ("S3", NOW, (NOW - datetime(2026, 3, 4, 17, tzinfo=UTC)).total_seconds())]


def test_a_link_is_a_send_at_once_not_throttled_and_the_same_for_the_same_ticket(survey_ws) -> None:
    c = config()
    info = link(survey_ws, "S4", score=4, now=NOW, config=c)  # S4's customer has no e-mail: a link still works
    token = info.url.removeprefix("https://cx.example.com/s/").removesuffix("?score=4")
    assert info.url == f"https://cx.example.com/s/{info.token}?score=4" and token == info.token
    assert verify_token(survey_ws.con, token, NOW).send_id == info.send_id == send_id("csat", SOURCE, "ticket", "S4")
    assert info.expires_at == NOW + timedelta(days=30)
    assert survey_ws.con.execute("SELECT ticket_id, sent_at, delivery, \"trigger\", agent_id FROM survey_sends"
                                 ).fetchall() == [("S4", NOW, "link", "on_demand", "A2")]
    assert link(survey_ws, "S4", now=NOW + timedelta(hours=1), config=c).send_id == info.send_id
    assert count(survey_ws, "SELECT count(*) FROM survey_sends") == 1
    row = request_row(survey_ws, info.send_id)
    assert row is not None and row["ticket_id"] == "S4" and row["delivery"] == "link"
    assert request_row(survey_ws, "aaaaaaaaaaaaaaaaaaaa") is None
    # S2 and S7 share customer C2: links are what an agent asked for, never throttled
    assert link(survey_ws, "S2", now=NOW, config=c).send_id != link(survey_ws, "S7", now=NOW, config=c).send_id


def test_link_errors_name_the_fix(survey_ws) -> None:
    c = config()
    with pytest.raises(SendError, match=r"no ticket 'NOPE'"):
        link(survey_ws, "NOPE", now=NOW, config=c)
    with pytest.raises(SendError, match=r"score 6 is not on the scale of survey 'csat' \(1-5"):
        link(survey_ws, "S1", score=6, now=NOW, config=c)
    no_base = SurveysConfig.from_dict({"surveys": [{"name": "csat", "kind": "csat"}]})
    with pytest.raises(SurveysConfigError, match="set base_url in surveys.toml"):
        base_url(survey_ws, no_base)
    two = SurveysConfig.from_dict({"base_url": "https://x.example", "surveys": [
        {"name": "csat", "kind": "csat"}, {"name": "ces", "kind": "ces"}]})
    with pytest.raises(SendError, match=r"several ticket surveys \(csat, ces\); say which with --survey"):
        link(survey_ws, "S1", now=NOW, config=two)


def test_base_url_defaults_to_the_running_servers_address(survey_ws) -> None:
    (survey_ws.path / "server.json").write_text('{"pid": 1, "url": "http://127.0.0.1:8765/", "token": "t"}')
    assert base_url(survey_ws, SurveysConfig()) == "http://127.0.0.1:8765"


def test_send_now_is_throttled_unless_forced_and_skips_what_it_cannot_send(survey_ws, smtp) -> None:
    c = config(smtp)
    r = send_now(survey_ws, "csat", tickets=["S2", "S7", "S6", "S4", "NOPE"], now=NOW, config=c)
    # S2 goes; S7 (C2 again) throttled; S6 spam; S4 no address; NOPE unknown
    assert r.planned == 1 and r.delivered == 1
    assert r.skipped == {"throttled": 1, "excluded": 1, "no_address": 1, "unknown": 1}
    assert [m.rcpt_tos for m in smtp.messages] == [["bob@example.com"]]
    r = send_now(survey_ws, "csat", tickets=["S7", "S2"], now=NOW, config=c, force=True)
    assert r.planned == 1 and r.skipped == {"already_sent": 1}  # S2 had its survey
    assert len(smtp.messages) == 2
    r = send_now(survey_ws, "csat", customers=["C5"], now=NOW, config=c)
    assert r.planned == 1 and smtp.messages[-1].rcpt_tos == ["dan@example.com"]
    assert survey_ws.con.execute("SELECT \"language\", \"trigger\" FROM survey_requests WHERE customer_id = 'C5'"
                                 ).fetchall() == [("fr", "on_demand")]  # locale fr_CA
    with pytest.raises(SendError, match="give the tickets or customers"):
        send_now(survey_ws, "csat", now=NOW, config=c)


def test_sends_lists_each_sends_state(survey_ws, smtp) -> None:
    c = config(smtp)
    run(survey_ws, now=FIRST_SIGHT, config=c, deliver=False)
    smtp.fail_first, smtp.fail_reply = 1, "550 5.1.1 no such mailbox"
    run(survey_ws, now=NOW, config=c)
    states = {r["ticket_id"]: r["status"] for r in recent_sends(survey_ws)}
    assert states == {"S1": "failed", "S2": "delivered", "S3": "delivered"}  # S1 went first and was refused
    assert [r["ticket_id"] for r in recent_sends(survey_ws, status="failed")] == ["S1"]


def test_cli_run_link_send_sends_and_rotate_key(survey_ws_path, smtp) -> None:
    write_surveys(survey_ws_path, {"base_url": "https://cx.example.com", "email": smtp.email_settings(),
                                   "surveys": [{"name": "csat", "kind": "csat", "delay": "1h"}]})
    cli = CliRunner()
    w = ["-w", str(survey_ws_path)]
    r = cli.invoke(main, [*w, "surveys", "run", "--now", "2026-03-01T00:00:00Z"])
    assert r.exit_code == 0, r.output
    r = cli.invoke(main, [*w, "surveys", "run", "--now", "2026-03-06T12:00:00Z", "--dry-run", "--format", "json"])
    assert r.exit_code == 0, r.output
    import json

    dry = json.loads(r.output)
    assert dry["planned"] == 3 and dry["dry_run"] and len(smtp.messages) == 0
    r = cli.invoke(main, [*w, "surveys", "run", "--now", "2026-03-06T12:00:00Z"])
    assert r.exit_code == 0, r.output
    assert "planned 3 send(s)" in r.output and "3 delivered" in r.output
    assert "not surveyed: excluded 1, not_solved 1, no_address 1, throttled 1" in r.output
    assert len(smtp.messages) == 3
    r = cli.invoke(main, [*w, "surveys", "link", "S4", "--score", "2"])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("https://cx.example.com/s/1.") and r.stdout.strip().endswith("?score=2")
    r = cli.invoke(main, [*w, "surveys", "sends", "--status", "delivered", "--format", "json"])
    assert r.exit_code == 0 and len(json.loads(r.output)) == 4  # 3 e-mails + the link
    r = cli.invoke(main, [*w, "surveys", "run", "--now", "yesterday"])
    assert r.exit_code == 1 and "UserError: --now 'yesterday' is not an ISO 8601 time" in r.output
    r = cli.invoke(main, [*w, "surveys", "send", "nope", "--tickets", "S1"])
    assert r.exit_code == 1 and "SurveysConfigError: no survey 'nope'" in r.output
    r = cli.invoke(main, [*w, "surveys", "rotate-key"])
    assert r.exit_code == 0 and "New survey signing key k2" in r.output


def test_two_runs_reading_the_same_due_mail_send_it_once(survey_ws, smtp, monkeypatch) -> None:
    # the CLI's `surveys run` beside the server's sender: both read the outbox before either leases
    from cxmetrics.surveys import _deliver

    c = config(smtp)
    run(survey_ws, now=FIRST_SIGHT, config=c, deliver=False)
    run(survey_ws, now=NOW, config=c, deliver=False)
    stale = _deliver.due(survey_ws, NOW)
    assert len(_deliver.deliver(survey_ws, c, NOW, lambda: "https://cx.example.com")) == 3
    monkeypatch.setattr(_deliver, "due", lambda ws, now: stale)  # the second run read before the first leased
    assert _deliver.deliver(survey_ws, c, NOW, lambda: "https://cx.example.com") == []
    assert smtp.seen == 3


def test_without_email_settings_the_plan_is_made_and_the_report_says_what_to_set(survey_ws, smtp,
                                                                                 monkeypatch) -> None:
    bare = config()
    run(survey_ws, now=FIRST_SIGHT, config=bare, deliver=False)
    r = run(survey_ws, now=NOW, config=bare)
    assert r.planned == 3 and r.delivered == 0
    assert r.problem is not None and "surveys.toml has no [email] table" in r.problem
    login = SurveysConfig.from_dict({"base_url": "https://cx.example.com",
                                     "surveys": [{"name": "csat", "kind": "csat"}],
                                     "email": {**smtp.email_settings(), "username_env": "SV_TEST_USER",
                                               "password_env": "SV_TEST_PASSWORD"}})
    monkeypatch.delenv("SV_TEST_USER", raising=False)
    r = run(survey_ws, now=NOW, config=login)
    assert r.problem is not None and "environment variable SV_TEST_USER is not set" in r.problem
    r = run(survey_ws, now=NOW + timedelta(minutes=1), config=config(smtp))  # fixed: the three go
    assert r.problem is None and r.delivered == 3 and len(smtp.messages) == 3
