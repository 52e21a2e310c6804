"""The server's survey sender (issue 16, items 2-3 and 5's webhook trigger): a thread that
runs the rules on a clock and when new facts arrive, wired into `cxmetrics serve`; a
help-desk webhook that solves a ticket gets its survey mailed without anyone running a
command."""

from __future__ import annotations

import importlib.util
import logging
import sys
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import cxmetrics
from cxmetrics.api import create_app
from cxmetrics.surveys._scheduler import SurveyScheduler
from cxmetrics.surveys._tokens import send_id

from .conftest import NOW, write_surveys

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def _webhooks() -> Any:
    """tests/connectors/test_webhooks.py: its fake Zendesk API, payloads and signing."""
    path = Path(__file__).parents[1] / "connectors" / "test_webhooks.py"
    spec = importlib.util.spec_from_file_location("_survey_webhook_fixtures", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


wh = _webhooks()
fake_api = wh.fake_api  # the module's fixture (a local fake of the vendor API)


def surveys_toml(smtp: Any, **survey: Any) -> dict[str, Any]:
    return {"base_url": "https://cx.example.com", "interval": "1h", "email": smtp.email_settings(),
            "surveys": [{"name": "csat", "kind": "csat", "delay": "1h", **survey}]}


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def test_the_thread_runs_at_once_and_when_notified_and_tells_the_server(survey_ws, smtp) -> None:
    write_surveys(survey_ws.path, surveys_toml(smtp))
    clock = Clock(datetime(2026, 3, 1, tzinfo=UTC))
    changes: list[list[str]] = []
    sched = SurveyScheduler(survey_ws, changes.append, clock=clock).start()
    try:
        assert sched.wait_runs(1) and sched.running
        assert len(smtp.messages) == 0 and changes == []  # first sight, 1 Mar: nothing solved yet
        clock.at = NOW
        sched.notify()  # "new facts" (the interval is an hour: only the notice can wake it)
        assert sched.wait_runs(2)
        smtp.wait_for(3)
        assert changes == [["survey_sends"]]
        assert sched.last is not None and sched.last.delivered == 3
    finally:
        sched.stop()
    assert not sched.running
    assert survey_ws.con.execute("SELECT count(*) FROM survey_sends").fetchall()[0][0] == 3


def test_a_broken_surveys_toml_is_logged_and_the_next_run_works(survey_ws, smtp, caplog) -> None:
    write_surveys(survey_ws.path, '[[surveys]]\nname = "csat"\nkind = "csatt"\n')
    sched = SurveyScheduler(survey_ws, clock=Clock(NOW))
    with caplog.at_level(logging.ERROR, logger="cxmetrics.surveys"):
        assert sched.step() is None
    assert sched.failures == 1 and "SurveysConfigError" in (sched.last_error or "") and "csatt" in caplog.text
    write_surveys(survey_ws.path, surveys_toml(smtp))
    report = sched.step()
    assert report is not None and sched.last_error is None


def test_the_server_sends_what_is_due_and_starts_with_a_broken_surveys_toml(survey_ws_path, smtp) -> None:
    write_surveys(survey_ws_path, "this is not toml [")
    with TestClient(create_app(survey_ws_path, watch_alerts=False, sync_connectors=False)) as client:
        assert client.get("/api/v1/health").status_code == 200  # the dashboard still starts
        sched = client.app.state.survey_scheduler
        assert sched is not None and sched.running
        assert sched.wait_runs(1) and sched.failures >= 1
        # fixed while the server runs: sent without a restart (the file is read again when it changes)
        sched.clock = Clock(datetime(2026, 3, 1, tzinfo=UTC))
        write_surveys(survey_ws_path, surveys_toml(smtp))
        sched.notify()
        assert sched.wait_runs(2)
        sched.clock = Clock(NOW)
        sched.notify()
        smtp.wait_for(3)
    assert not sched.running  # stopped with the server


def test_a_help_desk_webhook_that_solves_a_ticket_gets_its_survey_mailed(
        tmp_path: Path, fake_api: str, smtp, monkeypatch: pytest.MonkeyPatch) -> None:
    for vendor, env in (("zendesk", "ZD"), ("freshdesk", "FD"), ("intercom", "IC"), ("chatwoot", "CW")):
        monkeypatch.setenv(f"CXM_TEST_{env}_HOOK", wh.SECRETS[vendor])
    monkeypatch.setenv("CXM_TEST_ZD_TOKEN", wh.TOKENS["zendesk"])
    monkeypatch.setenv("CXM_TEST_FD_TOKEN", wh.TOKENS["freshdesk"])
    path = tmp_path / "ws"
    customers = tmp_path / "customers.csv"
    customers.write_text("customer_id,email,locale,name\n100,requester@example.com,de,Rita Requester\n")
    with cxmetrics.open(path, create=True) as ws:
        ws.import_file("customers", customers, source="zendesk")  # Zendesk's requester 100
    with open(path / "settings.toml", "a", encoding="utf-8") as fh:
        fh.write(wh._settings(fake_api))
    with TestClient(create_app(path, watch_alerts=False, sync_connectors=False, refresh_delay_s=0.05)) as client:
        sched = client.app.state.survey_scheduler
        assert sched.wait_runs(1)  # started with the server: no surveys.toml yet, idle
        # Zendesk's ticket 7 is solved at 2025-03-10 09:30: the definition is first seen then, with
        # no delay, so the webhook's solve is due at once
        sched.clock = Clock(datetime(2025, 3, 10, 9, 30, tzinfo=UTC))
        # no throttle: the webhook also lands Zendesk's own rating of ticket 7 as a send to customer 100
        # (a survey that reached them, which the 7-day throttle would rightly count)
        write_surveys(path, {**surveys_toml(smtp, delay="0s"), "throttle": "0s"})
        runs = sched.runs
        body = wh.zendesk_body()
        r = client.post("/api/v1/webhooks/zendesk", content=body,
                        headers={"Content-Type": "application/json", **wh.zendesk_headers(body)})
        assert r.status_code == 200, r.text
        # nobody notifies the scheduler but the refresher's after hook: the webhook's write did
        mail = smtp.wait_for(1)[0]
        assert sched.wait_runs(runs + 1)
        assert mail.rcpt_tos == ["requester@example.com"]
        assert mail.message["Subject"] == "Wie zufrieden waren Sie mit Ihrer Anfrage 7?"
        deadline = time.monotonic() + 10
        ws = client.app.state.workspace
        while time.monotonic() < deadline:
            got = ws.con.cursor().execute("SELECT source, send_id, ticket_id, agent_id FROM survey_sends "
                                          "WHERE survey = 'csat'").fetchall()
            if got:
                break
            time.sleep(0.05)
        assert ("zendesk", send_id("csat", "zendesk", "ticket", "7"), "7", "200") in got


def test_notify_before_start_and_stop_twice_are_harmless(survey_ws) -> None:
    sched = SurveyScheduler(survey_ws)
    sched.notify()
    sched.stop()
    sched.stop()
    assert not sched.running and sched.runs == 0


def test_the_thread_wakes_when_a_delay_ends_not_a_whole_interval_later(survey_ws, smtp) -> None:
    # interval one hour; S3 (solved 17:00, delay 1 h) falls due 2 s after the clock's start
    write_surveys(survey_ws.path, surveys_toml(smtp, where={"channel": ["email"]}))
    start = time.monotonic()
    t0 = datetime(2026, 3, 4, 17, 59, 58, tzinfo=UTC)

    def clock() -> datetime:
        return t0 + timedelta(seconds=time.monotonic() - start)

    SurveyScheduler(survey_ws, clock=Clock(datetime(2026, 3, 1, tzinfo=UTC))).step()  # first sight: 1 Mar
    sched = SurveyScheduler(survey_ws, clock=clock).start()
    try:
        mails = smtp.wait_for(2, timeout=15)  # S1 at once; S3 when its delay ends, 2 s later
    finally:
        sched.stop()
    assert [m.rcpt_tos[0] for m in mails] == ["ann@example.com", "cara@example.com"]
    assert time.monotonic() - start < 12  # not the hour of the interval


def test_a_stream_of_new_facts_does_not_keep_the_sender_busy(tmp_path: Path) -> None:
    """A run reads every ticket (a third of a second at a million): woken after each of many
    refreshes, the sender rests four times as long as its last run took (issue 17)."""

    class Timed(SurveyScheduler):
        def step(self) -> None:  # type: ignore[override]
            time.sleep(0.1)  # a run that takes 100 ms
            with self._idle:
                self.runs += 1
                self._idle.notify_all()
            return None

        def _wait_s(self, report: Any) -> float:
            return 3600.0  # only the notices wake it

    from types import SimpleNamespace

    sched = Timed(SimpleNamespace(path=tmp_path)).start()
    try:
        assert sched.wait_runs(1)
        until = time.monotonic() + 1.2
        while time.monotonic() < until:  # new facts every 20 ms
            sched.notify()
            time.sleep(0.02)
        runs = sched.runs
    finally:
        sched.stop()
    # 100 ms of work then 400 ms of rest: about 3 runs in 1.2 s, not 10 back to back
    assert 2 <= runs <= 5, runs


class _Counting(SurveyScheduler):
    """A sender whose runs only count (and note when they began), woken only by notices."""

    def __init__(self, path: Path, **kw: Any) -> None:
        from types import SimpleNamespace

        super().__init__(SimpleNamespace(path=path), **kw)
        self.began: list[float] = []

    def step(self) -> None:  # type: ignore[override]
        self.began.append(time.monotonic())
        with self._idle:
            self.runs += 1
            self._idle.notify_all()
        return None

    def _wait_s(self, report: Any) -> float:
        return 3600.0


def test_a_run_waits_for_the_writes_to_pause(tmp_path: Path) -> None:
    """In the middle of a stream of writes a run held each write up (issue 17): it starts once
    the server's writes have paused for quiet_s, not while they come."""
    start = time.monotonic()
    busy_until = start + 0.6  # writes under way for the first 0.6 s

    def quiet() -> float:
        now = time.monotonic()
        return 0.0 if now < busy_until else now - busy_until

    sched = _Counting(tmp_path, quiet=quiet, quiet_s=0.3, max_lag_s=30.0).start()
    try:
        assert sched.wait_runs(1, timeout=10)
    finally:
        sched.stop()
    waited = sched.began[0] - start
    assert 0.85 <= waited < 3.0, waited  # 0.6 s of writes, then 0.3 s of quiet (not the 30 s lag)


def test_a_stream_that_never_pauses_still_gets_its_runs_every_max_lag(tmp_path: Path) -> None:
    start = time.monotonic()
    sched = _Counting(tmp_path, quiet=lambda: 0.0, quiet_s=0.3, max_lag_s=0.5).start()
    try:
        assert sched.wait_runs(1, timeout=10)
        sched.notify()  # new facts: the next run, again at most max_lag_s later
        assert sched.wait_runs(2, timeout=10)
    finally:
        sched.stop()
    # writes never paused: each run waited the lag (0.5 s), no more
    assert 0.45 <= sched.began[0] - start < 3.0
    assert 0.45 <= sched.began[1] - sched.began[0] < 3.0
