"""Incremental SLA refresh: only tickets whose events, policy, targets or schedule changed
are recomputed, and the refresh says how many.

DuckDB only: the incremental path and its bookkeeping (`sla_tickets`, `sla_imports`,
`sla_meta`), a refresh in one transaction, policies given in Python and a bare connection are
the workspace's; a refresh on Spark recomputes every ticket from the export's `sla.toml`
(docs/spark.md). The clocks themselves run on both engines in test_sla_clocks.py,
test_sla_business.py and test_sla_reference.py.
"""

from __future__ import annotations

import duckdb
import pytest
from _sla_scenario import load, one, policies, refresh, targets, ts

import cxmetrics
from cxmetrics.sla import SlaPolicies, SlaPolicyError, refresh_sla

H = 3600.0

TWO = """
[[policy]]
name = "VIP"
description = "{desc}"
conditions = {{ customer_tier = ["vip"] }}
[policy.targets]
first_reply = {{ urgent = "{vip_urgent}", normal = "2h" }}

[[policy]]
name = "Everyone"
[policy.targets]
first_reply = {{ urgent = "{urgent}", normal = "4h" }}
"""


def two(desc: str = "top customers", vip_urgent: str = "30m", urgent: str = "1h") -> str:
    return TWO.format(desc=desc, vip_urgent=vip_urgent, urgent=urgent)


SCENARIO = """
    T1 3/08:00 created customer C1 priority=urgent tier=vip
    T2 3/08:00 created customer C2 priority=urgent
    T3 3/08:00 created customer C3 priority=urgent
    T4 3/08:00 created customer C4 priority=normal
    T5 3/08:00 created customer C5 priority=normal tier=vip
"""


def test_changing_a_policy_recomputes_only_the_tickets_it_touches(ws):
    policies(ws, two())
    load(ws, SCENARIO)
    assert refresh(ws, "3/08:10") == 5          # the first refresh computes every ticket
    assert refresh(ws, "3/08:20") == 0          # nothing changed: time moves, nothing recomputed
    # open clocks still moved: T2 urgent 1 h, 20 min elapsed
    assert one(ws, "T2", "first_reply")["elapsed_s"] == 20 * 60
    # the description is not part of any target
    policies(ws, two(desc="our best customers"))
    assert refresh(ws, "3/08:20") == 0
    # urgent tickets of 'Everyone' (T2, T3) get 2 h instead of 1 h: two tickets change
    policies(ws, two(urgent="2h"))
    assert refresh(ws, "3/08:30") == 2
    # T2: 08:00 + 2 h = 10:00, 30 min elapsed, 1.5 h left; T1 (VIP) kept 30 min: due 08:30
    assert (one(ws, "T2", "first_reply")["due_at"], one(ws, "T2", "first_reply")["seconds_left"]) == (
        "2025-03-03T10:00:00Z", 1.5 * H)
    assert one(ws, "T1", "first_reply")["due_at"] == "2025-03-03T08:30:00Z"
    # a new first policy for normal tickets takes T4 and T5 (T5 leaves VIP): two tickets
    policies(ws, '[[policy]]\nname = "Normal"\nconditions = { priority = ["normal"] }\n'
                 '[policy.targets]\nfirst_reply = { normal = "3h" }\n\n' + two(urgent="2h"))
    assert refresh(ws, "3/08:40") == 2
    assert [one(ws, t, "first_reply")["policy"] for t in ("T1", "T2", "T3", "T4", "T5")] == [
        "VIP", "Everyone", "Everyone", "Normal", "Normal"]
    # no policies at all: every ticket that had a target loses it
    (ws.path / "sla.toml").unlink()
    assert refresh(ws, "3/08:50") == 5
    assert ws.sql("SELECT count(*) AS n FROM sla_targets").to_pylist() == [{"n": 0}]


def test_new_events_recompute_only_their_tickets(ws):
    policies(ws, two())
    load(ws, SCENARIO)
    refresh(ws, "3/08:10")
    load(ws, """
        T2 3/08:45 message agent A1
        T6 3/08:50 created customer C6 priority=normal
    """)
    # T2 answered, T6 new: two tickets
    assert refresh(ws, "3/09:00") == 2
    assert one(ws, "T2", "first_reply")["state"] == "achieved"
    assert one(ws, "T6", "first_reply")["due_at"] == "2025-03-03T12:50:00Z"
    # a private note changes no clock, but the ticket is recomputed (its events changed)
    load(ws, "T3 3/09:10 note agent A1")
    assert refresh(ws, "3/09:15") == 1
    # T3 urgent 1 h from 08:00: breached at 09:00 by 09:15
    assert one(ws, "T3", "first_reply")["state"] == "breached"


def test_a_ticket_that_lost_events_without_a_new_row_is_recomputed(ws):
    policies(ws, two())
    load(ws, SCENARIO + "T4 3/08:30 message agent A1")
    refresh(ws, "3/09:00")
    assert one(ws, "T4", "first_reply")["state"] == "achieved"
    # the reply is deleted from the store (no import): the facts see it, and so must the SLA
    ws.con.execute("DELETE FROM events_stored WHERE ticket_id = 'T4' AND kind = 'message'")
    assert refresh(ws, "3/09:00") == 1
    # T4 normal 4 h from 08:00: active again, 1 h elapsed
    t = one(ws, "T4", "first_reply")
    assert (t["state"], t["completed_at"], t["elapsed_s"]) == ("active", None, H)


def test_full_refresh_and_results_equal_to_incremental(ws):
    policies(ws, two())
    load(ws, SCENARIO)
    refresh(ws, "3/08:10")
    load(ws, "T1 3/08:20 message agent A1\nT4 3/09:00 message agent A1")
    refresh(ws, "3/09:30")
    incremental = ws.sql("SELECT * EXCLUDE (evaluated_at) FROM sla_targets ORDER BY ticket_id, metric").to_pylist()
    assert refresh_sla(ws, now=ts("3/09:30"), full=True) == 5
    full = ws.sql("SELECT * EXCLUDE (evaluated_at) FROM sla_targets ORDER BY ticket_id, metric").to_pylist()
    assert incremental == full


def test_a_connection_reads_the_policies_of_its_workspace_folder(tmp_path):
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        policies(ws, two())
        load(ws, SCENARIO)
    con = duckdb.connect(str(tmp_path / "ws" / "cxmetrics.duckdb"))
    try:
        assert refresh_sla(con, now=ts("3/08:10")) == 5
        assert con.execute("SELECT count(*) FROM sla_targets").fetchall() == [(5,)]
    finally:
        con.close()


def test_policies_can_be_given_explicitly(ws):
    load(ws, SCENARIO)
    pols = SlaPolicies.loads('[[policy]]\nname = "All"\n[policy.targets]\nfirst_reply = { default = "1h" }\n')
    assert refresh_sla(ws, now=ts("3/08:10"), policies=pols) == 5
    assert {t["policy"] for t in targets(ws, "T1")} == {"All"}


def test_a_bad_policy_file_fails_the_refresh_and_leaves_the_table_as_it_was(ws):
    policies(ws, two())
    load(ws, SCENARIO)
    refresh(ws, "3/08:10")
    before = ws.sql("SELECT * FROM sla_targets ORDER BY ticket_id").to_pylist()
    policies(ws, two(urgent="1 hour"))
    with pytest.raises(SlaPolicyError, match=r"policy 'Everyone', targets.first_reply.urgent: '1 hour'"):
        refresh(ws, "3/09:00")
    assert ws.sql("SELECT * FROM sla_targets ORDER BY ticket_id").to_pylist() == before
    # a schedule that does not exist
    policies(ws, two().replace('name = "Everyone"', 'name = "Everyone"\nschedule = "ofice"').replace(
        'normal = "4h" }', 'normal = "4h", hours = "business" }'))
    with pytest.raises(SlaPolicyError, match="schedule 'ofice' is not defined"):
        refresh(ws, "3/09:00")
    assert ws.sql("SELECT * FROM sla_targets ORDER BY ticket_id").to_pylist() == before
