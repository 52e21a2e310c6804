"""SLA endpoints over the demo's policies (sla.toml): targets at risk and compliance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.api.conftest import Api, rows


def test_a_new_ticket_is_at_risk_with_its_time_left(fresh_api: Api) -> None:
    created = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0)
    event = {"event_id": "SLA-1", "ticket_id": "SLA-T", "ts": created.isoformat(), "kind": "created",
             "actor_type": "customer", "channel": "email", "priority": "normal", "team": "Tier 1"}
    assert fresh_api.post("/api/v1/events", json=[event], params={"source": "sla-test"}).json()["inserted"] == 1
    r = fresh_api.get("/api/v1/sla/at-risk", params={"within": "6d"})
    assert r.status_code == 200
    body = r.json()
    ours = [t for t in body["rows"] if t["ticket_id"] == "SLA-T"]
    # "Everyone else" (email): total resolution 120 calendar hours from creation, so due in
    # 120 h less the 5 minutes since it was created (less the seconds this test has taken)
    total = next(t for t in ours if t["metric"] == "total_resolution")
    assert total["policy"] == "Everyone else" and total["state"] == "active"
    assert 120 * 3600 - 300 - 120 <= total["due_in_s"] <= 120 * 3600 - 300
    assert body["within_s"] == 6 * 86400
    due = [t["due_in_s"] for t in body["rows"]]
    assert due == sorted(due) and all(0 < d <= 6 * 86400 for d in due)
    # a narrower window leaves it out
    short = fresh_api.get("/api/v1/sla/at-risk", params={"within": "1h"}).json()["rows"]
    assert not [t for t in short if t["ticket_id"] == "SLA-T" and t["metric"] == "total_resolution"]


@pytest.mark.parametrize(("within", "words"), [("soon", "not a duration"), ("400d", "over a year")])
def test_bad_windows_are_refused(api: Api, within: str, words: str) -> None:
    r = api.get("/api/v1/sla/at-risk", params={"within": within})
    assert r.status_code == 400 and words in r.json()["error"]["message"]


def test_compliance_counts_the_settled_targets(api: Api) -> None:
    body = api.get("/api/v1/sla/compliance", params={"by": "policy"}).json()["rows"]
    settled = dict(rows(api.ws, """SELECT policy, count(*) FROM sla_targets
                                   WHERE state IN ('achieved', 'breached') GROUP BY policy"""))
    assert {r["policy"]: r["n"] for r in body} == settled and sum(settled.values()) > 100
    for r in body:
        assert r["compliance"] == pytest.approx(100 * r["achieved"] / r["n"])
    assert api.get("/api/v1/sla/compliance", params={"by": "colour"}).status_code == 400
    # the registry's SLA metric over the API agrees with the SLA package's own count
    metric = api.get("/api/v1/metrics", params={"metrics": "sla_compliance"}).json()["rows"][0]
    assert metric["n"] == sum(settled.values())
    drill = api.get("/api/v1/tickets", params={"metric": "sla_compliance", "page_size": 1}).json()
    assert drill["total"] == metric["n"]
