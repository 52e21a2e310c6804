"""Issue 4, part 4 acceptance: tickets driven towards breach by events imported through
the workspace and a moving clock give exactly one 'at risk' and one 'breached'
delivery per SLA target to each destination (JSON webhook, Slack, e-mail), through
the real SLA package, surviving restarts of the watcher (a new watcher and a reopened
workspace) in between, and a failed delivery that is retried."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from alerts._alerts_helpers import config, utc

import cxmetrics
from cxmetrics.alerts import Watcher

POLICIES = """
[[policy]]
name = "Urgent"
conditions = { priority = ["urgent"] }
[policy.targets]
first_reply = { urgent = "1h" }
total_resolution = { urgent = "4h" }
"""

HEADER = "event_id,ticket_id,ts,kind,actor_type,actor_id,public,status_to,channel,priority,team,assignee_id\n"


def events(tmp: Path, name: str, *lines: str) -> Path:
    path = tmp / f"{name}.csv"
    path.write_text(HEADER + "\n".join(lines) + "\n")
    return path


def test_one_at_risk_and_one_breached_delivery_per_target_and_destination(tmp_path, hooks, smtp):
    path = tmp_path / "ws"
    ws = cxmetrics.open(path, create=True)
    ws.configure(timezone="Europe/Berlin")
    (path / "sla.toml").write_text(POLICIES)
    cfg = config(hooks, smtp)
    hooks.fail_first = 1  # the very first post fails with a 500 and is retried at a later step
    w = Watcher(ws, config=cfg)

    def step(hh: int, mm: int) -> list[tuple[str, str, str]]:
        r = w.run_once(utc(2025, 3, 3, hh, mm))
        return sorted((a["ticket_id"], a["metric"], a["kind"]) for a in r.new_alerts)

    # Monday 3 March 2025 (UTC). T-1 and T-2 are urgent: first reply due 1 h after
    # creation, resolution 4 h after.
    ws.import_file("events", events(tmp_path, "e1",
        "E1,T-1,2025-03-03T09:00:00Z,created,customer,C-1,,new,email,urgent,Tier 1,",
        "E2,T-1,2025-03-03T09:05:00Z,assign,system,,,,,,Tier 1,A-7",
        "E3,T-2,2025-03-03T09:10:00Z,created,customer,C-2,,new,chat,urgent,Tier 1,"))
    assert step(9, 20) == []  # T-1 first reply due 10:00, 40 min away: beyond the 30 min lead
    ws.import_file("events", events(tmp_path, "e2",
        "E4,T-2,2025-03-03T09:30:00Z,message,agent,A-8,true,,,,,"))  # T-2 answered in time
    assert step(9, 35) == [("T-1", "first_reply", "at_risk")]  # 25 min left
    assert step(9, 45) == []

    # restart: a new watcher on a reopened workspace
    ws.close()
    ws = cxmetrics.open(path, create=True)
    w = Watcher(ws, config=cfg)
    assert step(9, 50) == []
    assert step(10, 1) == [("T-1", "first_reply", "breached")]  # due 10:00, 1 min late
    ws.import_file("events", events(tmp_path, "e3",
        "E5,T-1,2025-03-03T10:20:00Z,message,agent,A-7,true,,,,,",
        "E6,T-2,2025-03-03T11:00:00Z,status,agent,A-8,,solved,,,,"))
    assert step(10, 30) == []
    assert step(12, 40) == [("T-1", "total_resolution", "at_risk")]  # due 13:00, 20 min left

    ws.close()
    ws = cxmetrics.open(path, create=True)
    w = Watcher(ws, config=cfg)
    assert step(13, 5) == [("T-1", "total_resolution", "breached")]
    ws.import_file("events", events(tmp_path, "e4",
        "E7,T-1,2025-03-03T13:20:00Z,status,agent,A-7,,solved,,,,"))
    assert step(13, 30) == []
    assert step(18, 0) == []
    ws.close()

    want = Counter({("T-1", "first_reply", "at_risk"): 1, ("T-1", "first_reply", "breached"): 1,
                    ("T-1", "total_resolution", "at_risk"): 1, ("T-1", "total_resolution", "breached"): 1})
    hook = [p.json for p in hooks.at("/hook")]
    assert Counter((p["ticket"]["ticket_id"], p["sla"]["metric"], p["kind"]) for p in hook) == want
    slack = [p.json["text"] for p in hooks.at("/slack")]
    assert Counter((t.split("ticket ")[1].split(",")[0], "first_reply" if "first reply" in t else "total_resolution",
                    "breached" if "SLA breached" in t else "at_risk") for t in slack) == want
    mails = [m for _, _, m in smtp.messages]
    assert Counter((m["Subject"].split("Ticket ")[1].split(":")[0],
                    "first_reply" if "first reply" in m["Subject"] else "total_resolution",
                    "breached" if "breached" in m["Subject"] else "at_risk") for m in mails) == want
    assert len(hooks.received) == 4 + 4 + 1  # one 500, retried

    # what the first alert said, computed by hand: created 09:00 + 1 h = 10:00 UTC =
    # 11:00 in Berlin (CET, +01:00); seen at 09:35, 25 min = 1500 s before
    first = hook[0]
    assert (first["kind"], first["sla"]["metric"], first["sla"]["policy"]) == ("at_risk", "first_reply", "Urgent")
    assert first["sla"]["due_at"] == "2025-03-03T10:00:00Z"
    assert first["sla"]["due_at_local"] == "2025-03-03T11:00:00+01:00" and first["sla"]["timezone"] == "Europe/Berlin"
    assert first["sla"]["seconds_left"] == 1500 and first["detected_at"] == "2025-03-03T09:35:00Z"
    assert first["ticket"] == {"source": "default", "ticket_id": "T-1", "priority": "urgent", "channel": "email",
                               "team": "Tier 1", "assignee_id": "A-7", "subject": None}
    assert "due Mon 3 Mar 2025 11:00 CET (25 min left)" in first["text"]
    breach = next(p for p in hook if p["kind"] == "breached" and p["sla"]["metric"] == "total_resolution")
    # due 09:00 + 4 h = 13:00 UTC, seen at 13:05: 300 s late
    assert breach["sla"]["breached_at"] == "2025-03-03T13:00:00Z" and breach["sla"]["seconds_late"] == 300
    assert "was due Mon 3 Mar 2025 14:00 CET, 5 min late" in breach["text"]

    with cxmetrics.open(path, create=True) as ws:
        states = ws.sql("SELECT status, attempts, count(*) AS n FROM alert_deliveries "
                        "GROUP BY ALL ORDER BY attempts").to_pylist()
    assert states == [{"status": "delivered", "attempts": 1, "n": 11}, {"status": "delivered", "attempts": 2, "n": 1}]


BUSINESS = """
[[policy]]
name = "Berlin office"
conditions = { team = ["Berlin"] }
[policy.targets]
first_reply = { default = "2h", hours = "business" }
"""

SCHEDULES = """
[schedules.default]
timezone = "Europe/Berlin"
hours = { mon-fri = ["09:00-17:00"] }
"""


def test_a_business_hours_target_over_a_weekend(tmp_path, hooks, smtp):
    """Created Friday 7 March 2025 16:00 in Berlin (15:00 UTC) on Mon-Fri 09:00-17:00:
    1 business hour left on Friday, the second on Monday 09:00-10:00, so due Monday
    10:00 CET = 09:00 UTC. At risk from Monday 08:30 UTC (30 min before), not over the
    weekend; shown in the schedule's zone although the workspace's is UTC."""
    path = tmp_path / "ws"
    ws = cxmetrics.open(path, create=True)
    (path / "sla.toml").write_text(BUSINESS)
    (path / "schedules.toml").write_text(SCHEDULES)
    cfg = config(hooks, smtp)
    w = Watcher(ws, config=cfg)
    ws.import_file("events", events(tmp_path, "b1",
        "B1,T-B,2025-03-07T15:00:00Z,created,customer,C-9,,new,email,normal,Berlin,"))
    for when in (utc(2025, 3, 7, 15, 5), utc(2025, 3, 7, 16, 50), utc(2025, 3, 8, 12, 0), utc(2025, 3, 10, 8, 0)):
        assert w.run_once(when).new_alerts == [], when
    r = w.run_once(utc(2025, 3, 10, 8, 35))
    assert [(a["ticket_id"], a["kind"]) for a in r.new_alerts] == [("T-B", "at_risk")]
    ws.close()
    ws = cxmetrics.open(path, create=True)
    w = Watcher(ws, config=cfg)
    assert w.run_once(utc(2025, 3, 10, 8, 50)).new_alerts == []
    r = w.run_once(utc(2025, 3, 10, 9, 2))
    assert [(a["ticket_id"], a["kind"]) for a in r.new_alerts] == [("T-B", "breached")]
    assert w.run_once(utc(2025, 3, 10, 12, 0)).new_alerts == []
    ws.close()

    at_risk, breached = (p.json for p in hooks.at("/hook"))
    assert at_risk["sla"]["business_hours"] is True and at_risk["sla"]["timezone"] == "Europe/Berlin"
    assert at_risk["sla"]["due_at"] == "2025-03-10T09:00:00Z" and at_risk["sla"]["seconds_left"] == 25 * 60
    assert "due Mon 10 Mar 2025 10:00 CET (25 min left)" in at_risk["text"]
    assert breached["sla"]["seconds_late"] == 120 and "2 min late" in breached["text"]
    assert len(hooks.at("/slack")) == 2 and len(smtp.messages) == 2


def test_a_broken_policy_file_stops_evaluation_but_not_retries(tmp_path, hooks):
    from cxmetrics.errors import UserError

    path = tmp_path / "ws"
    ws = cxmetrics.open(path, create=True)
    (path / "sla.toml").write_text(POLICIES)
    cfg = config(hooks)
    cfg = cfg.model_copy(update={"destinations": cfg.destinations[:1]})
    hooks.fail_first = 1
    w = Watcher(ws, config=cfg)
    ws.import_file("events", events(tmp_path, "e1",
        "E1,T-1,2025-03-03T09:00:00Z,created,customer,C-1,,new,email,urgent,Tier 1,"))
    [d] = w.run_once(utc(2025, 3, 3, 9, 35)).deliveries
    assert d.status == "retry"
    (path / "sla.toml").write_text("[[policy]]\nname = 'Urgent'\ntargets = { first_reply = { urgent = 'soon' } }\n")
    with pytest.raises(UserError, match="'soon' is not a duration"):
        w.run_once(utc(2025, 3, 3, 9, 40))
    ws.close()
    assert [p.json["kind"] for p in hooks.accepted] == ["at_risk"]  # the retry went out all the same
