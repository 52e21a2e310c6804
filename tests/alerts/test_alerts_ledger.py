"""The ledger and outbox against a targets table shaped like `sla_targets`, with
deliveries to real loopback servers: once per state change, retries with backoff,
permanent failures, restarts, backfill."""

from __future__ import annotations

import hashlib
import hmac
import logging

import pytest
from alerts._alerts_helpers import SECRET, ClockedTargets, config, minutes, rows, utc

import cxmetrics
from cxmetrics.alerts import SIGNATURE_HEADER, Watcher

T0 = utc(2025, 3, 3, 11, 0)  # a Monday
DUE = utc(2025, 3, 3, 12, 0)


def define(ws_path, *targets):
    with cxmetrics.open(ws_path, create=True) as ws:
        for ticket_id, due, kw in targets:
            ClockedTargets.define(ws.con, ticket_id, due, **kw)


def watcher(ws_path, cfg, **kw):
    return Watcher(ws_path, config=cfg, targets=ClockedTargets(), **kw)


def deliveries(ws_path):
    with cxmetrics.open(ws_path, create=True) as ws:
        return rows(ws.con, "SELECT a.kind, a.ticket_id, d.* FROM alert_deliveries d JOIN alerts a USING (alert_id) "
                            "ORDER BY a.detected_at, d.destination")


def test_each_state_change_is_delivered_once_per_destination_across_restarts(ws_path, hooks, smtp):
    define(ws_path, ("T-1", DUE, {}))
    cfg = config(hooks, smtp)
    w = watcher(ws_path, cfg)
    assert w.run_once(T0).new_alerts == []  # due in 60 min: not within the 30 min lead
    r = w.run_once(T0 + minutes(35))  # 25 min left
    assert [(a["kind"], a["ticket_id"]) for a in r.new_alerts] == [("at_risk", "T-1")]
    assert sorted((d.destination, d.status) for d in r.deliveries) == [
        ("leads-mail", "delivered"), ("ops-hook", "delivered"), ("team-slack", "delivered")]
    assert w.run_once(T0 + minutes(40)).deliveries == []
    w = watcher(ws_path, cfg)  # a restart: a new watcher, the workspace opened again
    assert w.run_once(T0 + minutes(50)).deliveries == []
    r = w.run_once(T0 + minutes(65))  # 5 min past due
    assert [a["kind"] for a in r.new_alerts] == ["breached"]
    w = watcher(ws_path, cfg)
    assert w.run_once(T0 + minutes(70)).new_alerts == []
    assert w.run_once(T0 + minutes(90)).deliveries == []

    hook = hooks.at("/hook")
    assert [p.json["kind"] for p in hook] == ["at_risk", "breached"]
    assert len(hooks.at("/slack")) == 2 and len(hooks.received) == 4
    at_risk, breached = (p.json for p in hook)
    # 11:35 -> 12:00 is 25 min = 1500 s left; 12:05 is 5 min = 300 s late
    assert at_risk["sla"]["seconds_left"] == 1500 and at_risk["sla"]["seconds_late"] is None
    assert breached["sla"]["seconds_late"] == 300 and breached["sla"]["seconds_left"] is None
    assert at_risk["sla"]["due_at"] == "2025-03-03T12:00:00Z"
    assert breached["sla"]["breached_at"] == "2025-03-03T12:00:00Z"
    assert at_risk["ticket"]["ticket_id"] == "T-1" and at_risk["sla"]["metric"] == "first_reply"
    assert at_risk["alert_id"] != breached["alert_id"]
    for p in hook:  # signed: HMAC-SHA256 of "<t>." + the raw body with the shared secret
        t, v1 = (part.split("=", 1)[1] for part in p.headers[SIGNATURE_HEADER].split(","))
        assert v1 == hmac.new(SECRET.encode(), t.encode() + b"." + p.body, hashlib.sha256).hexdigest()
        assert p.headers["X-Team"] == "support" and p.headers["X-Cxmetrics-Alert-Id"] == p.json["alert_id"]
    slack_texts = [p.json["text"] for p in hooks.at("/slack")]
    assert "SLA at risk" in slack_texts[0] and "SLA breached" in slack_texts[1]
    assert all(p.json["blocks"][0]["type"] == "section" for p in hooks.at("/slack"))
    assert len(smtp.messages) == 2
    (sender, rcpts, first), (_, _, second) = smtp.messages
    assert rcpts == ["leads@example.com", "oncall@example.com"] and sender == "sla@example.com"
    assert first["Subject"] == "[SLA at risk] Ticket T-1: first reply, 25 min left"
    assert second["Subject"] == "[SLA breached] Ticket T-1: first reply, 5 min late"
    assert all(d["status"] == "delivered" and d["attempts"] == 1 for d in deliveries(ws_path))


def test_failed_deliveries_are_retried_with_exponential_backoff(ws_path, hooks):
    hooks.fail_first = 2
    define(ws_path, ("T-1", DUE, {}))
    cfg = config(hooks).model_copy(update={"destinations": config(hooks).destinations[:1]})  # the webhook only
    w = watcher(ws_path, cfg)
    t = T0 + minutes(40)
    r = w.run_once(t)
    assert [(d.status, d.attempt) for d in r.deliveries] == [("retry", 1)]
    assert r.deliveries[0].next_attempt_at == t + minutes(10 / 60)  # base delay 10 s
    assert r.deliveries[0].error == "HTTP 500 Internal Server Error: boom"
    assert w.run_once(t + minutes(5 / 60)).deliveries == []  # not due yet
    r = w.run_once(t + minutes(10 / 60))
    assert [(d.status, d.attempt) for d in r.deliveries] == [("retry", 2)]
    assert r.deliveries[0].next_attempt_at == t + minutes(30 / 60)  # then 20 s: 10 + 20
    w = watcher(ws_path, cfg)  # the outbox survives a restart
    r = w.run_once(t + minutes(30 / 60))
    assert [(d.status, d.attempt) for d in r.deliveries] == [("delivered", 3)]
    assert len(hooks.received) == 3 and len(hooks.accepted) == 1
    assert hooks.accepted[0].headers["X-Cxmetrics-Attempt"] == "3"
    [d] = deliveries(ws_path)
    assert (d["status"], d["attempts"], d["last_error"]) == ("delivered", 3, "HTTP 500 Internal Server Error: boom")


def test_a_client_error_fails_for_good_and_is_logged(ws_path, hooks, caplog):
    hooks.fail_first, hooks.fail_status = 100, 404
    define(ws_path, ("T-1", DUE, {}))
    cfg = config(hooks)
    w = watcher(ws_path, cfg)
    with caplog.at_level(logging.INFO, logger="cxmetrics.alerts"):
        r = w.run_once(T0 + minutes(40))
        assert {(d.destination, d.status, d.attempt) for d in r.deliveries} == {
            ("ops-hook", "failed", 1), ("team-slack", "failed", 1)}
        assert w.run_once(T0 + minutes(50)).deliveries == []
    assert len(hooks.received) == 2
    assert all(d["status"] == "failed" and d["last_error"].startswith("HTTP 404") for d in deliveries(ws_path))
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2 and all("giving up" in e and "permanent" in e for e in errors)


def test_attempts_stop_at_max_attempts(ws_path, hooks):
    hooks.fail_first = 100
    define(ws_path, ("T-1", DUE, {}))
    cfg = config(hooks)
    cfg = cfg.model_copy(update={"destinations": cfg.destinations[:1]})
    w = watcher(ws_path, cfg)
    t = T0 + minutes(40)
    seen = []
    # delays 10, 20, 40 s after attempts 1-3: attempts at 0, 10, 30 and 70 s, none between
    for k in (0, 5, 10, 25, 30, 65, 70, 150, 600):
        seen += [(k, d.status, d.attempt) for d in w.run_once(t + minutes(k / 60)).deliveries]
    assert seen == [(0, "retry", 1), (10, "retry", 2), (30, "retry", 3), (70, "failed", 4)]
    assert len(hooks.received) == 4


def test_too_many_requests_waits_as_long_as_the_receiver_asks(ws_path, hooks):
    hooks.fail_first, hooks.fail_status, hooks.retry_after = 1, 429, "120"
    define(ws_path, ("T-1", DUE, {}))
    cfg = config(hooks)
    cfg = cfg.model_copy(update={"destinations": cfg.destinations[:1]})
    w = watcher(ws_path, cfg)
    t = T0 + minutes(40)
    [d] = w.run_once(t).deliveries
    assert d.status == "retry" and d.next_attempt_at == t + minutes(2)
    assert w.run_once(t + minutes(1)).deliveries == []
    assert [x.status for x in w.run_once(t + minutes(2)).deliveries] == ["delivered"]


def test_a_refused_connection_is_retried(ws_path, hooks, smtp):
    from alerts.conftest import free_port

    define(ws_path, ("T-1", DUE, {}))
    cfg = config(hooks, smtp)
    dead = free_port()  # nothing listens there
    cfg = config(hooks, smtp).model_copy(update={"destinations": tuple(
        d.model_copy(update={"port": dead}) if d.type == "email" else d for d in cfg.destinations)})
    w = watcher(ws_path, cfg)
    r = w.run_once(T0 + minutes(40))
    mail = [d for d in r.deliveries if d.destination == "leads-mail"]
    assert [(d.status, d.error) for d in mail] == [("retry", "cannot connect: connection refused")]
    assert {d.status for d in r.deliveries if d.destination != "leads-mail"} == {"delivered"}


def test_smtp_transient_replies_are_retried_and_permanent_ones_are_not(ws_path, smtp):
    define(ws_path, ("T-1", DUE, {}), ("T-2", DUE + minutes(1), {}))
    smtp.handler.fail_first = 1  # 451: try again later
    w = watcher(ws_path, config(smtp=smtp))
    t = T0 + minutes(40)
    r = w.run_once(t)
    # T-1's message got the 451; T-2's waits for the next step (the server is having trouble)
    assert [(d.ticket_id, d.status) for d in r.deliveries] == [("T-1", "retry")]
    assert r.deliveries[0].error.startswith("SMTP 451")
    r = w.run_once(t + minutes(10 / 60))
    assert sorted((d.ticket_id, d.status) for d in r.deliveries) == [("T-1", "delivered"), ("T-2", "delivered")]
    assert len(smtp.messages) == 2

    smtp.handler.seen, smtp.handler.fail_first, smtp.handler.fail_reply = 0, 1, "550 5.1.1 mailbox unavailable"
    r = w.run_once(DUE + minutes(5))  # both breach
    statuses = sorted((d.ticket_id, d.status) for d in r.deliveries)
    assert statuses == [("T-1", "failed"), ("T-2", "delivered")]


def test_old_breaches_are_not_alerted_on_the_first_run_but_none_is_lost_while_down(ws_path, hooks):
    define(ws_path,
           ("OLD", T0 - minutes(180), {}),     # breached 3 h before the first run: history
           ("RECENT", T0 - minutes(30), {}),   # 30 min before: within the 1 h backfill
           ("LATER", T0 + minutes(120), {}))   # breaches while the watcher is down
    cfg = config(hooks)
    cfg = cfg.model_copy(update={"destinations": cfg.destinations[:1]})
    w = watcher(ws_path, cfg)
    assert [(a["ticket_id"], a["kind"]) for a in w.run_once(T0).new_alerts] == [("RECENT", "breached")]
    # down from 11:00 to 16:00: LATER was at risk and breached (13:00) meanwhile
    r = watcher(ws_path, cfg).run_once(T0 + minutes(300))
    assert [(a["ticket_id"], a["kind"]) for a in r.new_alerts] == [("LATER", "breached")]


def test_secrets_stay_out_of_logs_and_the_ledger(ws_path, hooks, caplog):
    hooks.fail_first = 1
    define(ws_path, ("T-1", DUE, {}))
    token = "T0000/B0000/slackTOKENxyz"
    cfg = config(hooks)
    cfg = cfg.model_copy(update={"destinations": (
        cfg.destinations[0], cfg.destinations[1].model_copy(update={"url": None, "url_env": "CX_SLACK"}))})
    from cxmetrics.alerts import AlertsConfig

    cfg = AlertsConfig.from_dict(
        {"retry": {"base_delay": "10s"}, "destinations": [
            {"name": "ops-hook", "type": "webhook", "url": hooks.url("/hook"), "secret_env": "S",
             "headers_env": {"Authorization": "AUTH"}},
            {"name": "team-slack", "type": "slack", "url_env": "SLACK"}]},
        environ={"S": SECRET, "AUTH": "Bearer authTOKEN123", "SLACK": hooks.url("/slack/" + token)})
    assert SECRET not in repr(cfg) and token not in repr(cfg) and "authTOKEN123" not in repr(cfg)
    w = watcher(ws_path, cfg)
    with caplog.at_level(logging.DEBUG):
        w.run_once(T0 + minutes(40))
        w.run_once(T0 + minutes(41))
    assert len(hooks.accepted) == 2 and hooks.at("/slack/" + token)
    assert hooks.at("/hook")[0].headers["Authorization"] == "Bearer authTOKEN123"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "attempt 1 failed" in logged
    for secret in (SECRET, token, "authTOKEN123", str(hooks.port)):
        assert secret not in logged
        assert all(secret not in str(v) for d in deliveries(ws_path) for v in d.values())


@pytest.mark.parametrize("hold", ["at_risk", "all"])
def test_quiet_hours_hold_alerts_until_they_end(ws_path, hooks, hold):
    due = utc(2025, 3, 4, 6, 50)  # Tuesday 06:50 UTC, in the quiet 22:00-07:00 UTC
    define(ws_path, ("T-1", due, {}))
    cfg = config(hooks, quiet_hours={"timezone": "UTC", "hold": hold, "spans": ["22:00-07:00"]})
    # the Slack destination ignores quiet hours
    cfg = cfg.model_copy(update={"destinations": (
        cfg.destinations[0], cfg.destinations[1].model_copy(update={"quiet_hours": False}))})
    w = watcher(ws_path, cfg)
    r = w.run_once(utc(2025, 3, 4, 6, 30))  # at risk, 20 min left
    assert sorted((d.destination, d.status) for d in r.deliveries) == [
        ("ops-hook", "held"), ("team-slack", "delivered")]
    assert [d.next_attempt_at for d in r.deliveries if d.status == "held"] == [utc(2025, 3, 4, 7, 0)]
    r = w.run_once(utc(2025, 3, 4, 6, 55))  # breached
    expected = "held" if hold == "all" else "delivered"
    assert sorted((d.destination, d.status) for d in r.deliveries) == [
        ("ops-hook", expected), ("team-slack", "delivered")]
    w = watcher(ws_path, cfg)  # held deliveries survive a restart too
    r = w.run_once(utc(2025, 3, 4, 7, 0))
    sent = [d.kind for d in r.deliveries if d.status == "delivered"]
    assert sent == (["at_risk", "breached"] if hold == "all" else ["at_risk"])
    assert [p.json["kind"] for p in hooks.at("/hook")] == (
        ["at_risk", "breached"] if hold == "all" else ["breached", "at_risk"])
    assert all(d.status == "delivered" for d in [*r.deliveries]) and len(hooks.at("/slack")) == 2
    # once delivered, nothing more
    assert w.run_once(utc(2025, 3, 4, 8, 0)).deliveries == []


def test_destination_filters_choose_what_each_destination_gets(ws_path, hooks, tmp_path):
    csv = tmp_path / "tickets.csv"
    csv.write_text("ticket_id,created_at,priority,team\nT-1,2025-03-03T10:00:00Z,urgent,Billing\n"
                   "T-2,2025-03-03T10:00:00Z,low,Billing\nT-3,2025-03-03T10:00:00Z,urgent,Tier 1\n")
    with cxmetrics.open(ws_path, create=True) as ws:
        ws.import_file("tickets", csv)
    define(ws_path, *[(t, DUE, {}) for t in ("T-1", "T-2", "T-3")])
    from cxmetrics.alerts import AlertsConfig

    cfg = AlertsConfig.from_dict({"destinations": [
        {"name": "urgent-billing", "type": "webhook", "url": hooks.url("/a"), "priorities": ["Urgent"],
         "teams": ["Billing"]},
        {"name": "breaches", "type": "webhook", "url": hooks.url("/b"), "kinds": ["breached"]},
        {"name": "other-policy", "type": "webhook", "url": hooks.url("/c"), "policies": ["VIP"]},
    ]})
    w = watcher(ws_path, cfg)
    w.run_once(T0 + minutes(40))
    w.run_once(T0 + minutes(70))
    got = sorted((p.path, p.json["ticket"]["ticket_id"], p.json["kind"]) for p in hooks.accepted)
    assert got == [("/a", "T-1", "at_risk"), ("/a", "T-1", "breached"),
                   ("/b", "T-1", "breached"), ("/b", "T-2", "breached"), ("/b", "T-3", "breached")]
    a = hooks.at("/a")[0].json["ticket"]
    assert (a["priority"], a["team"]) == ("urgent", "Billing")
