"""Business and people metrics on hand-worked data (METRICS.md, "Customers and business",
backlog, cost_per_resolution, employee_turnover).

Conventions under test: a stock at an instant counts what happened strictly before it, an
event at a period's first instant belongs to that period; periods are local to the workspace
time zone; a period with nothing to measure has value None (not 0).
"""

from __future__ import annotations

import math

import pytest

import cxmetrics
from conftest import write
from cxmetrics.metrics._registry import registry
from cxmetrics.metrics._sources import DIMENSIONS
from cxmetrics.metrics._stats import wilson

BUSINESS = ("backlog", "cost_per_resolution", "employee_turnover", "crr", "churn_rate", "conversion_rate",
            "activation_rate", "dau", "wau", "mau", "dau_mau", "retention_d1", "retention_d7", "retention_d30",
            "support_retention", "support_retention_contacted", "support_retention_other")


def load(ws, tmp_path, kind: str, text: str) -> None:
    summary = ws.import_file(kind, write(tmp_path / f"{kind}.csv", text))
    assert summary.quarantined == 0, ws.quarantine().to_pylist()


def one(ws, metric: str, **kw) -> dict:
    rows = ws.metrics([metric], **kw).to_pylist()
    assert len(rows) == 1, rows
    return rows[0]


def periods(ws, metric: str, **kw) -> dict[str, float | None]:
    return {r["period"].isoformat(): r["value"] for r in ws.metrics([metric], **kw).to_pylist()}


def rows_by(ws, metric: str, key: str, **kw) -> dict:
    return {(r[key], r["period"].isoformat() if r.get("period") else None): r for r in ws.metrics([metric], **kw).to_pylist()}


def approx(x: float) -> object:
    return pytest.approx(x, abs=1e-9)


def wilson_pct(k: int, n: int) -> tuple[object, object]:
    lo, hi = wilson(k, n)
    return approx(100 * lo), approx(100 * hi)


@pytest.fixture
def segment_dimension(monkeypatch):
    """`segment` (customers, funnel) as a dimension: the shared DIMENSIONS lists it once the
    metric layer adopts it; until then tests add it here."""
    monkeypatch.setitem(DIMENSIONS, "segment", "segment")


def test_every_business_metric_is_declared_as_a_custom_query():
    reg = registry()
    for name in BUSINESS:
        spec = reg.resolve(name).spec
        assert spec.kind.value == "custom" and spec.sql == name


# -- crr and churn_rate ------------------------------------------------------------------------

CUSTOMERS = """customer_id,created_at,tier,region,segment,churned_at
C1,2024-12-01T00:00:00Z,pro,EMEA,smb,
C2,2024-12-15T00:00:00Z,free,NA,smb,2025-01-10T00:00:00Z
C3,2024-12-20T00:00:00Z,pro,EMEA,mid-market,2025-02-01T00:00:00Z
C4,2025-01-05T00:00:00Z,free,EMEA,smb,
C5,2025-01-20T00:00:00Z,pro,NA,smb,2025-01-25T00:00:00Z
C6,2024-11-01T00:00:00Z,enterprise,APAC,enterprise,
"""


@pytest.fixture
def customers_ws(ws, tmp_path):
    load(ws, tmp_path, "customers", CUSTOMERS)
    return ws


@pytest.mark.engines  # on DuckDB and on Spark (tests/_engines.py)
def test_crr_and_churn_when_a_customer_churns_and_new_ones_join(customers_ws):
    ws = customers_ws
    # January: at start C1 C2 C3 C6 = 4; new C4 C5; lost C2 and C5 (who joined in January);
    # at end C1 C3 C4 C6 = 4 (C3 churns at February's first instant, so in February).
    # crr = (4 - 2) / 4 = 50; churn = 2 / 4 = 50.
    # February: start 4, new 0, lost C3, end 3: crr = 3 / 4 = 75, churn = 25.
    crr = rows_by(ws, "crr", "metric", grain="month", start="2025-01-01", end="2025-03-01")
    churn = rows_by(ws, "churn_rate", "metric", grain="month", start="2025-01-01", end="2025-03-01")
    assert {p: r["value"] for (_, p), r in crr.items()} == {"2025-01-01": approx(50.0), "2025-02-01": approx(75.0)}
    assert {p: r["value"] for (_, p), r in churn.items()} == {"2025-01-01": approx(50.0), "2025-02-01": approx(25.0)}
    assert {p: r["n"] for (_, p), r in churn.items()} == {"2025-01-01": 4, "2025-02-01": 4}  # customers at start
    assert all(r["ci_low"] is None for r in [*crr.values(), *churn.values()])
    # without a grain, one window: start 4, new 2, lost C2 C5 C3 = 3, end 3
    assert one(ws, "churn_rate", start="2025-01-01", end="2025-03-01")["value"] == approx(75.0)
    assert one(ws, "crr", start="2025-01-01", end="2025-03-01")["value"] == approx(25.0)


def test_crr_and_churn_empty_start_is_none_and_a_quiet_month_is_zero(customers_ws):
    ws = customers_ws
    # the periods run from the first signup (C6, November 2024): no customer before it
    # November: start 0 -> None; December: start C6 = 1, nobody lost -> churn 0, crr (4 - 3) / 1
    churn = periods(ws, "churn_rate", grain="month")
    assert list(churn) == ["2024-11-01", "2024-12-01", "2025-01-01", "2025-02-01"]
    assert churn["2024-11-01"] is None and churn["2024-12-01"] == approx(0.0)
    crr = periods(ws, "crr", grain="month")
    assert crr["2024-11-01"] is None and crr["2024-12-01"] == approx(100.0)
    # March 2025 when asked for: start C1 C4 C6 = 3, nobody leaves: 0% churn is a real zero
    march = one(ws, "churn_rate", start="2025-03-01", end="2025-04-01")
    assert march["value"] == approx(0.0) and march["n"] == 3 and march["flags"] == []
    # a window before any customer: undefined
    before = one(ws, "crr", start="2020-01-01", end="2020-02-01")
    assert before["value"] is None and before["n"] == 0 and before["flags"] == ["undefined"]


def test_crr_and_churn_by_tier_and_filtered_by_region(customers_ws):
    ws = customers_ws
    jan = {"start": "2025-01-01", "end": "2025-02-01"}
    # pro: start C1 C3 = 2, new C5, lost C5: churn 50, crr (2 - 1) / 2 = 50
    # free: start C2 = 1, new C4, lost C2: churn 100, crr (1 - 1) / 1 = 0
    # enterprise: start C6: churn 0, crr 100
    churn = {r["tier"]: r["value"] for r in ws.metrics(["churn_rate"], by="tier", **jan).to_pylist()}
    crr = {r["tier"]: r["value"] for r in ws.metrics(["crr"], by="tier", **jan).to_pylist()}
    assert churn == {"pro": approx(50.0), "free": approx(100.0), "enterprise": approx(0.0)}
    assert crr == {"pro": approx(50.0), "free": approx(0.0), "enterprise": approx(100.0)}
    # EMEA: start C1 C3 = 2, new C4, nobody lost (C2 and C5 are NA): churn 0, crr (3 - 1) / 2 = 100
    assert one(ws, "churn_rate", where={"region": "EMEA"}, **jan)["value"] == approx(0.0)
    assert one(ws, "crr", where={"region": ["EMEA", "APAC"]}, **jan)["value"] == approx(100.0)


def test_churn_by_segment(customers_ws, segment_dimension):
    # January, smb: start C1 C2 = 2 (C3 is mid-market), lost C2 and C5: 2 / 2 = 100
    rows = customers_ws.metrics(["churn_rate"], by="segment", start="2025-01-01", end="2025-02-01").to_pylist()
    assert {r["segment"]: r["value"] for r in rows} == {
        "smb": approx(100.0), "mid-market": approx(0.0), "enterprise": approx(0.0)}


@pytest.mark.engines  # on DuckDB and on Spark (tests/_engines.py)
def test_churn_months_are_local_and_know_leap_days(ws, tmp_path):
    ws.configure(timezone="Europe/Berlin")
    load(ws, tmp_path, "customers", """customer_id,created_at,churned_at
D1,2024-01-10T00:00:00Z,2024-02-29T23:30:00Z
D2,2024-01-10T00:00:00Z,2024-02-29T22:30:00Z
D3,2024-01-31T23:30:00Z,
D4,2024-01-15T00:00:00Z,
""")
    # Berlin is UTC+1 in winter: D1 churns 1 March 00:30, D2 on leap day 29 February 23:30,
    # D3 signs up 1 February 00:30.
    # February: start D1 D2 D4 = 3, new D3, lost D2: churn 1/3, crr (3 - 1) / 3
    # March: start D1 D3 D4 = 3, lost D1: churn 1/3, crr 2/3
    kw = {"grain": "month", "start": "2024-02-01", "end": "2024-04-01"}
    assert periods(ws, "churn_rate", **kw) == {"2024-02-01": approx(100 / 3), "2024-03-01": approx(100 / 3)}
    assert periods(ws, "crr", **kw) == {"2024-02-01": approx(200 / 3), "2024-03-01": approx(200 / 3)}
    # in UTC, D3 joined in January and both churns fall on 29 February: 2 of 4
    ws.configure(timezone="UTC")
    assert periods(ws, "churn_rate", **kw) == {"2024-02-01": approx(50.0), "2024-03-01": approx(0.0)}


# -- employee_turnover -------------------------------------------------------------------------

AGENTS = """agent_id,name,type,team,hired_at,left_at
A1,Ann,human,T1,2024-01-01,
A2,Bob,human,T1,2024-01-01,2025-01-15
A3,Cem,human,T2,2024-06-01,2025-02-01T00:00:00Z
A4,Dee,human,T2,2025-01-10,2025-01-20
A5,Eli,human,T1,2025-01-20,
B1,Bot,bot,Automation,2024-01-01,2025-01-05
"""


@pytest.fixture
def agents_ws(ws, tmp_path):
    load(ws, tmp_path, "agents", AGENTS)
    return ws


def test_turnover_with_an_agent_hired_and_leaving_in_the_period(agents_ws):
    ws = agents_ws
    # January: headcount at start A1 A2 A3 = 3, at end A1 A3 A5 = 3 (A4 came and went; A3
    # leaves at February's first instant), leavers A2 A4: 2 / mean(3, 3) = 66.67; the bot
    # leaving is not turnover. n = agents employed at some time: 3 + hires A4 A5 = 5.
    # February: start A1 A3 A5 = 3, end 2, leaver A3: 1 / 2.5 = 40.
    rows = {r["period"].isoformat(): r for r in agents_ws.metrics(["employee_turnover"], grain="month",
                                                       start="2025-01-01", end="2025-03-01").to_pylist()}
    assert rows["2025-01-01"]["value"] == approx(200 / 3) and rows["2025-01-01"]["n"] == 5
    assert rows["2025-02-01"]["value"] == approx(40.0) and rows["2025-02-01"]["n"] == 3
    # the two months as one window: start 3, end 2, leavers 3: 3 / 2.5 = 120
    assert one(ws, "employee_turnover", start="2025-01-01", end="2025-03-01")["value"] == approx(120.0)


def test_turnover_quiet_and_empty_periods(agents_ws):
    ws = agents_ws
    # December 2024: 3 at start and end, nobody left: 0 (a real zero)
    assert one(ws, "employee_turnover", start="2024-12-01", end="2025-01-01")["value"] == approx(0.0)
    # before the first hire nobody is employed: undefined, not 0
    before = one(ws, "employee_turnover", start="2023-01-01", end="2023-02-01")
    assert before["value"] is None and before["n"] == 0


def test_turnover_by_team(agents_ws):
    # January, T1: start A1 A2, end A1 A5, leaver A2: 1 / 2 = 50; T2: start A3, end A3, leaver A4: 100
    rows = agents_ws.metrics(["employee_turnover"], by="team", start="2025-01-01", end="2025-02-01").to_pylist()
    assert {r["team"]: r["value"] for r in rows} == {"T1": approx(50.0), "T2": approx(100.0)}
    t2 = one(agents_ws, "employee_turnover", where={"team": "T2"}, grain="month", start="2025-02-01",
             end="2025-03-01")
    assert t2["value"] == approx(200.0)  # start A3, end nobody, A3 leaves: 1 / 0.5


@pytest.mark.engines  # on DuckDB and on Spark (tests/_engines.py)
def test_turnover_months_are_local_across_a_leap_day(ws, tmp_path):
    ws.configure(timezone="Europe/Berlin")
    load(ws, tmp_path, "agents", """agent_id,hired_at,left_at
L1,2023-01-01,2024-02-29T23:30:00Z
L2,2023-01-01,
L3,2024-02-29T22:00:00Z,
""")
    # L1 leaves 1 March 00:30 Berlin; L3 starts on leap day 29 February 23:00 Berlin.
    # February: start L1 L2 = 2, end L1 L2 L3 = 3, nobody left: 0
    # March: start 3, end 2, L1 left: 1 / 2.5 = 40
    assert periods(ws, "employee_turnover", grain="month", start="2024-02-01", end="2024-04-01") == {
        "2024-02-01": approx(0.0), "2024-03-01": approx(40.0)}


# -- backlog -----------------------------------------------------------------------------------

FLAT = """ticket_id,created_at,channel,status,solved_at
T1,2025-01-05T10:00:00Z,email,solved,2025-01-06T10:00:00Z
T2,2025-01-20T10:00:00Z,email,solved,2025-02-10T10:00:00Z
T3,2025-01-25T10:00:00Z,chat,open,
T4,2025-01-10T10:00:00Z,email,open,2025-01-12T10:00:00Z
T5,2025-02-01T00:00:00Z,chat,new,
T6,2025-01-15T10:00:00Z,chat,deleted,
T7,2025-01-31T23:59:59Z,chat,solved,2025-02-01T00:00:00Z
T8,2025-01-03T10:00:00Z,email,closed,
"""


@pytest.fixture
def tickets_ws(ws, tmp_path):
    load(ws, tmp_path, "tickets", FLAT)
    return ws


@pytest.mark.engines  # on DuckDB and on Spark (tests/_engines.py)
def test_backlog_at_the_end_of_each_month(tickets_ws):
    # end of January (before 1 February 00:00): T2 (solved in February), T3 (never solved),
    # T4 (solved, then reopened: a flat row cannot say when, so open from its solve),
    # T7 (solved at February's first instant) = 4. T1 solved, T5 not yet created, T6 deleted,
    # T8 closed without a solve time (solved at its last event).
    # end of February: T3, T4, T5 = 3; end of March (asked for): still 3.
    assert periods(tickets_ws, "backlog", grain="month") == {"2025-01-01": 4.0, "2025-02-01": 3.0}
    assert periods(tickets_ws, "backlog", grain="month", start="2025-01-01", end="2025-04-01") == {
        "2025-01-01": 4.0, "2025-02-01": 3.0, "2025-03-01": 3.0}
    # before any ticket: a real zero (a count)
    assert periods(tickets_ws, "backlog", grain="month", start="2024-12-01", end="2025-01-01") == {"2024-12-01": 0.0}


def test_backlog_without_grain_is_at_the_end_or_now(tickets_ws):
    # at 31 January 00:00: T2, T3, T4 (reopened after its 12 January solve) = 3 (T7 not created)
    at = one(tickets_ws, "backlog", end="2025-01-31T00:00:00Z")
    assert at["value"] == 3.0 and at["n"] == 3
    # now: T3, T4, T5
    assert one(tickets_ws, "backlog")["value"] == 3.0
    # at the very creation instant of T5 it is not counted yet
    assert one(tickets_ws, "backlog", end="2025-02-01T00:00:00Z")["value"] == 4.0


def test_backlog_by_channel_and_where(tickets_ws):
    # end of January: email T2 T4, chat T3 T7
    rows = tickets_ws.metrics(["backlog"], by="channel", grain="month").to_pylist()
    assert {(r["channel"], r["period"].isoformat()): r["value"] for r in rows} == {
        ("chat", "2025-01-01"): 2.0, ("email", "2025-01-01"): 2.0,
        ("chat", "2025-02-01"): 2.0, ("email", "2025-02-01"): 1.0}  # February: chat T3 T5, email T4
    assert one(tickets_ws, "backlog", where={"channel": "email"}, end="2025-02-01")["value"] == 2.0


def test_a_test_of_change_reads_both_backlogs_in_one_query_and_the_tiles_reuse_it(tickets_ws):
    from cxmetrics.metrics._compare import compare
    from cxmetrics.metrics._query import run_metrics, shared_rows
    from tests.metrics.test_compare import _Counting

    # at 31 January 00:00: email T2 T4, chat T3 (T7 not created yet) = 3; at 1 February 00:00:
    # email T2 T4, chat T3 T7 (solved at that very instant: not before it) = 4 (T5 created then)
    a, b = ("2025-01-03", "2025-01-31"), ("2025-01-31", "2025-02-01")
    tickets_ws.refresh()
    con = _Counting(tickets_ws.con)
    with shared_rows():
        row = compare(con, ["backlog"], a, b).to_pylist()[0]
        tile = run_metrics(con, ["backlog"], start=b[0], end=b[1]).to_pylist()[0]
    assert con.queries == 1  # both instants in one read of the tickets, the tile from it
    assert (row["a_value"], row["b_value"], tile["value"], tile["n"]) == (3.0, 4.0, 4.0, 4)
    by = {(r["channel"]): (r["a_value"], r["b_value"]) for r in compare(con, ["backlog"], a, b, by=["channel"]).to_pylist()}
    assert by == {"email": (2.0, 2.0), "chat": (1.0, 2.0)}
    chat = compare(con, ["backlog"], a, b, where={"channel": "chat"}).to_pylist()[0]
    assert (chat["a_value"], chat["b_value"]) == (1.0, 2.0)


def test_backlog_reopen_time_from_status_events(ws, tmp_path):
    load(ws, tmp_path, "events", """event_id,ticket_id,ts,kind,actor_type,status_to
E1,R1,2025-01-05T10:00:00Z,created,customer,new
E2,R1,2025-01-06T10:00:00Z,status,agent,solved
E3,R1,2025-02-15T10:00:00Z,status,customer,open
E4,R2,2025-01-07T10:00:00Z,created,customer,new
E5,R2,2025-01-08T10:00:00Z,status,agent,pending
""")
    # R1 was solved on 6 January and reopened on 15 February: not in January's backlog, in
    # February's. R2 is pending (unsolved): counted in both.
    assert periods(ws, "backlog", grain="month", start="2025-01-01", end="2025-03-01") == {
        "2025-01-01": 1.0, "2025-02-01": 2.0}


@pytest.mark.engines  # on DuckDB and on Spark (tests/_engines.py)
def test_backlog_age_is_the_median_age_of_the_open_tickets(tickets_ws):
    # end of January (1 February 00:00): open T2 (created 20 Jan 10:00: 11 d 14 h), T3 (25 Jan
    # 10:00: 6 d 14 h), T4 (10 Jan 10:00: 21 d 14 h), T7 (31 Jan 23:59:59: 1 s); the median of
    # 4 is the mean of the middle two: (6 d 14 h + 11 d 14 h) / 2 = 9 d 2 h
    day, hour = 86400, 3600
    jan = (6 * day + 14 * hour + 11 * day + 14 * hour) / 2
    # end of February (1 March 00:00): T3 (25 Jan 10:00 -> 25 Feb 10:00 is 31 d, then 3 d 14 h:
    # 34 d 14 h), T4 (49 d 14 h), T5 (28 d): the median is T3's
    feb = 34 * day + 14 * hour
    rows = tickets_ws.metrics(["backlog_age", "backlog"], grain="month").to_pylist()
    got = {(r["metric"], r["period"].isoformat()): (r["value"], r["n"]) for r in rows}
    assert got[("backlog_age", "2025-01-01")] == (approx(jan), 4)
    assert got[("backlog_age", "2025-02-01")] == (approx(feb), 3)
    # n is the backlog
    assert [got[("backlog", p)][0] for p in ("2025-01-01", "2025-02-01")] == [4.0, 3.0]
    # by channel at the end of January: email T2, T4 -> (11 d 14 h + 21 d 14 h) / 2; chat T3, T7
    rows = tickets_ws.metrics(["backlog_age"], by="channel", end="2025-02-01").to_pylist()
    assert {r["channel"]: (r["value"], r["n"]) for r in rows} == {
        "email": (approx(16 * day + 14 * hour), 2), "chat": (approx((6 * day + 14 * hour + 1) / 2), 2)}


def test_backlog_age_is_undefined_without_open_tickets(tickets_ws):
    # on 4 January 00:00 only T8 (created 3 January, closed) existed... and it is closed: nothing open
    at = one(tickets_ws, "backlog_age", end="2025-01-04T00:00:00Z")
    assert (at["value"], at["n"]) == (None, 0)
    # on 6 January 00:00: T1 (created 5 Jan 10:00, open for 14 h)
    at = one(tickets_ws, "backlog_age", end="2025-01-06T00:00:00Z")
    assert (at["value"], at["n"]) == (approx(14 * 3600), 1)


# -- cost_per_resolution -----------------------------------------------------------------------

COSTS = """period,category,amount,currency
2025-01,salaries,1000,EUR
2025-01,tools,200,EUR
2025-02,salaries,900,EUR
2025-Q1,overhead,300,EUR
"""
SOLVED = """ticket_id,created_at,status,solved_at
S1,2025-01-02T10:00:00Z,solved,2025-01-03T10:00:00Z
S2,2025-01-05T10:00:00Z,closed,2025-01-06T10:00:00Z
S3,2025-01-10T10:00:00Z,solved,2025-01-31T10:00:00Z
S4,2025-01-30T10:00:00Z,solved,2025-02-01T00:00:00Z
S5,2025-02-03T10:00:00Z,solved,2025-02-04T10:00:00Z
S6,2025-01-04T10:00:00Z,open,2025-01-20T10:00:00Z
S7,2025-01-04T10:00:00Z,deleted,2025-01-20T10:00:00Z
S8,2025-03-01T10:00:00Z,solved,2025-03-02T10:00:00Z
"""


@pytest.fixture
def costs_ws(ws, tmp_path):
    load(ws, tmp_path, "costs", COSTS)
    load(ws, tmp_path, "tickets", SOLVED)
    return ws


@pytest.mark.engines  # on DuckDB and on Spark (tests/_engines.py)
def test_cost_per_resolution_per_month(costs_ws):
    # January: costs 1000 + 200 + the quarter's 300 (it starts in January) = 1500; solved
    # S1 S2 S3 = 3 (S4 solved at February's first instant, S6 reopened and open, S7 deleted): 500.
    # February: 900 / (S4 S5) = 450. March: no cost line starts in it: None, not 0 (S8 solved).
    rows = {r["period"].isoformat(): r for r in costs_ws.metrics(["cost_per_resolution"], grain="month").to_pylist()}
    assert {p: r["value"] for p, r in rows.items()} == {"2025-01-01": approx(500.0), "2025-02-01": approx(450.0),
                                                         "2025-03-01": None}
    assert {p: r["n"] for p, r in rows.items()} == {"2025-01-01": 3, "2025-02-01": 2, "2025-03-01": 1}
    assert rows["2025-01-01"]["unit"] == "currency"


def test_cost_per_resolution_per_quarter_and_window(costs_ws):
    # Q1: 2400 / 6 solved = 400; without a grain the window is the costs' span (Q1): the same
    assert periods(costs_ws, "cost_per_resolution", grain="quarter") == {"2025-01-01": approx(400.0)}
    assert one(costs_ws, "cost_per_resolution")["value"] == approx(400.0)
    # a window with costs but nothing solved: undefined
    empty = one(costs_ws, "cost_per_resolution", start="2025-04-01", end="2025-05-01")
    assert empty["value"] is None and empty["n"] == 0


def test_cost_per_resolution_refuses_fine_grains_mixed_currencies_and_ticket_dimensions(costs_ws, tmp_path):
    with pytest.raises(cxmetrics.UserError, match="costs are monthly.*month, quarter, year"):
        costs_ws.metrics(["cost_per_resolution"], grain="week")
    with pytest.raises(cxmetrics.UserError, match="cannot be grouped or filtered by 'channel'.*supports source"):
        costs_ws.metrics(["cost_per_resolution"], by="channel")
    load(costs_ws, tmp_path, "costs", "period,category,amount,currency\n2025-02,tools,50,USD\n")
    with pytest.raises(cxmetrics.CxError, match="several currencies"):
        costs_ws.metrics(["cost_per_resolution"], grain="month")


# -- conversion_rate ---------------------------------------------------------------------------

FUNNEL = """period,segment,visits,conversions
2025-01,smb,1000,30
2025-01,enterprise,200,2
2025-02,smb,800,0
2025-03-15,smb,0,0
2025-Q2,smb,500,10
"""


@pytest.fixture
def funnel_ws(ws, tmp_path):
    load(ws, tmp_path, "funnel", FUNNEL)
    return ws


@pytest.mark.engines  # on DuckDB and on Spark (tests/_engines.py)
def test_conversion_per_month_with_wilson(funnel_ws):
    rows = {r["period"].isoformat(): r for r in funnel_ws.metrics(["conversion_rate"], grain="month").to_pylist()}
    # January 32 / 1200; February 0 / 800 (a real 0); March only a day with no visits: None;
    # April: the quarter row (it starts in April) 10 / 500; May and June: nothing, None
    assert {p: r["value"] for p, r in rows.items()} == {
        "2025-01-01": approx(100 * 32 / 1200), "2025-02-01": approx(0.0), "2025-03-01": None,
        "2025-04-01": approx(2.0), "2025-05-01": None, "2025-06-01": None}
    assert (rows["2025-01-01"]["ci_low"], rows["2025-01-01"]["ci_high"]) == wilson_pct(32, 1200)
    assert (rows["2025-02-01"]["ci_low"], rows["2025-02-01"]["ci_high"]) == wilson_pct(0, 800)
    assert rows["2025-02-01"]["ci_low"] == 0.0  # exactly, as _stats.wilson
    assert rows["2025-01-01"]["n"] == 1200 and rows["2025-03-01"]["n"] == 0
    assert rows["2025-03-01"]["ci_low"] is None and rows["2025-03-01"]["flags"] == ["undefined"]


def test_conversion_per_quarter_and_overall(funnel_ws):
    # Q1: 32 / 2000; Q2: 10 / 500; overall 42 / 2500
    assert periods(funnel_ws, "conversion_rate", grain="quarter") == {
        "2025-01-01": approx(1.6), "2025-04-01": approx(2.0)}
    total = one(funnel_ws, "conversion_rate")
    assert total["value"] == approx(100 * 42 / 2500) and total["n"] == 2500
    assert one(funnel_ws, "conversion_rate", start="2026-01-01", end="2027-01-01")["value"] is None


def test_conversion_by_segment_and_refused_dimensions(funnel_ws, segment_dimension):
    rows = funnel_ws.metrics(["conversion_rate"], by="segment", start="2025-01-01", end="2025-02-01").to_pylist()
    assert {r["segment"]: r["value"] for r in rows} == {"smb": approx(3.0), "enterprise": approx(1.0)}
    assert one(funnel_ws, "conversion_rate", where={"segment": "enterprise"})["value"] == approx(1.0)
    with pytest.raises(cxmetrics.UserError, match="conversion_rate cannot be grouped or filtered by 'tier'"
                                                  ".*supports segment, source"):
        funnel_ws.metrics(["conversion_rate"], by="tier")


# -- activation_rate ---------------------------------------------------------------------------


@pytest.fixture
def activation_ws(ws, tmp_path):
    load(ws, tmp_path, "customers", """customer_id,created_at,tier
A1,2025-03-03T10:00:00Z,pro
A2,2025-03-03T10:00:00Z,pro
A3,2025-03-03T10:00:00Z,free
A4,2025-03-04T10:00:00Z,free
A6,2025-03-28T10:00:00Z,free
A7,2025-02-25T10:00:00Z,pro
""")
    load(ws, tmp_path, "activity", """customer_id,ts,action
A7,2025-03-01T09:00:00Z,create_report
A1,2025-03-05T09:00:00Z,create_report
A2,2025-03-10T10:00:00Z,create_report
A3,2025-03-10T10:00:01Z,create_report
A4,2025-03-05T09:00:00Z,login
A6,2025-03-29T09:00:00Z,create_report
A1,2025-04-02T09:00:00Z,login
""")
    return ws


@pytest.mark.engines  # on DuckDB and on Spark (tests/_engines.py)
def test_activation_within_seven_days(activation_ws):
    # activity runs 1 March .. 2 April. March signups: A1 (report after 2 days), A2 (exactly
    # 7 days), A3 (7 days and 1 s: too late), A4 (logins only), A6 (28 March: its 7 days end
    # after 2 April, so it is left out although it activated). 2 / 4.
    row = one(activation_ws, "activation_rate", start="2025-03-01", end="2025-04-01")
    assert row["value"] == approx(50.0) and row["n"] == 4
    assert (row["ci_low"], row["ci_high"]) == wilson_pct(2, 4)
    assert row["flags"] == []  # custom values are not flagged small_sample


def test_activation_empty_cohorts_are_none(activation_ws):
    # February: A7 signed up before the first day with activity: left out, so no cohort
    rates = periods(activation_ws, "activation_rate", grain="month")
    assert rates == {"2025-02-01": None, "2025-03-01": approx(50.0)}
    assert one(activation_ws, "activation_rate", start="2025-05-01", end="2025-06-01")["n"] == 0


def test_activation_by_tier_and_grains(activation_ws):
    # pro: A1 A2 both activated; free: A3 A4 neither (A6 left out)
    rows = activation_ws.metrics(["activation_rate"], by="tier", start="2025-03-01", end="2025-04-01").to_pylist()
    assert {r["tier"]: r["value"] for r in rows} == {"pro": approx(100.0), "free": approx(0.0)}
    assert {r["tier"]: (r["ci_low"], r["ci_high"]) for r in rows} == {
        "pro": (wilson_pct(2, 2)[0], 100.0), "free": (0.0, wilson_pct(0, 2)[1])}
    # per day: 3 March A1 A2 A3 -> 2/3; 4 March A4 -> 0
    days = periods(activation_ws, "activation_rate", grain="day", start="2025-03-03", end="2025-03-05")
    assert days == {"2025-03-03": approx(200 / 3), "2025-03-04": approx(0.0)}
    with pytest.raises(cxmetrics.UserError, match="no 'hour' grain"):
        activation_ws.metrics(["activation_rate"], grain="hour")


# -- retention_d1 / d7 / d30 -------------------------------------------------------------------


@pytest.fixture
def retention_ws(ws, tmp_path):
    ws.configure(timezone="Europe/Berlin")
    load(ws, tmp_path, "customers", """customer_id,created_at,tier
F,2025-01-01T12:00:00Z,free
R1,2025-03-10T23:30:00Z,pro
R2,2025-03-10T08:00:00Z,pro
R3,2025-03-12T09:00:00Z,free
R4,2025-03-20T09:00:00Z,free
R5,2025-03-31T22:30:00Z,pro
""")
    load(ws, tmp_path, "activity", """customer_id,ts,action
F,2025-03-01T12:00:00Z,login
R1,2025-03-11T12:00:00Z,login
R2,2025-03-11T23:30:00Z,login
R2,2025-03-17T10:00:00Z,login
R3,2025-03-13T09:00:00Z,login
R3,2025-04-11T09:00:00Z,login
R5,2025-04-02T10:00:00Z,login
F,2025-04-15T12:00:00Z,login
""")
    return ws


@pytest.mark.engines  # on DuckDB and on Spark (tests/_engines.py)
def test_retention_d1_counts_local_calendar_days(retention_ws):
    ws = retention_ws
    # Berlin (UTC+1 in March): activity days run 1 March .. 15 April.
    # March cohort: R1 signs up 11 March 00:30 and is active on 11 March (day 0, not day 1);
    # R2 signs up 10 March, active 12 March 00:30 (day 2); R3 active on day 1; R4 never: 1 / 4.
    # R5 signs up 1 April 00:30 Berlin: April's cohort, active on 2 April: 1 / 1.
    # January: F's day 1 is before the first day with activity: left out -> None; February: none.
    rows = {r["period"].isoformat(): r for r in ws.metrics(["retention_d1"], grain="month").to_pylist()}
    assert {p: r["value"] for p, r in rows.items()} == {
        "2025-01-01": None, "2025-02-01": None, "2025-03-01": approx(25.0), "2025-04-01": approx(100.0)}
    assert rows["2025-03-01"]["n"] == 4 and (rows["2025-03-01"]["ci_low"], rows["2025-03-01"]["ci_high"]) == \
        wilson_pct(1, 4)
    # in UTC, R1 signed up on 10 March and R2 was active on 11 March: both on day 1; R5 signed
    # up on 31 March (March's cohort) and was not active on 1 April -> 3 / 5
    ws.configure(timezone="UTC")
    assert one(ws, "retention_d1", start="2025-03-01", end="2025-04-01")["value"] == approx(60.0)


def test_retention_d7(retention_ws):
    # day 7: R1 18 March (no), R2 17 March (yes), R3 19 March (no), R4 27 March (no): 1 / 4;
    # April: R5's day 7 is 8 April, no activity: 0 / 1
    assert periods(retention_ws, "retention_d7", grain="month", start="2025-03-01", end="2025-05-01") == {
        "2025-03-01": approx(25.0), "2025-04-01": approx(0.0)}
    # by tier in March: pro R1 R2 -> 1 / 2, free R3 R4 -> 0 / 2
    rows = retention_ws.metrics(["retention_d7"], by="tier", start="2025-03-01", end="2025-04-01").to_pylist()
    assert {r["tier"]: r["value"] for r in rows} == {"pro": approx(50.0), "free": approx(0.0)}
    # May: no signups -> None, not 0
    may = one(retention_ws, "retention_d7", start="2025-05-01", end="2025-06-01")
    assert may["value"] is None and may["n"] == 0 and may["ci_low"] is None


def test_retention_d30_leaves_out_cohorts_not_yet_observable(retention_ws):
    # day 30: R1 10 April (no), R2 9 April (no), R3 11 April (yes); R4's day 30 is 19 April,
    # after the last day with activity (15 April): left out, not lost -> 1 / 3.
    # April: R5's day 30 (1 May) is not observed: no cohort -> None.
    rows = {r["period"].isoformat(): r for r in retention_ws.metrics(["retention_d30"], grain="month", start="2025-03-01",
                                                         end="2025-05-01").to_pylist()}
    assert rows["2025-03-01"]["value"] == approx(100 / 3) and rows["2025-03-01"]["n"] == 3
    assert rows["2025-04-01"]["value"] is None and rows["2025-04-01"]["n"] == 0
    assert one(retention_ws, "retention_d30", where={"tier": "free"}, start="2025-03-01",
               end="2025-04-01")["value"] == approx(100.0)  # R3 only (R4 left out)


# -- dau / wau / mau / dau_mau -----------------------------------------------------------------


@pytest.fixture
def activity_ws(ws, tmp_path):
    load(ws, tmp_path, "customers", "customer_id,created_at,tier\nX,2024-06-01,pro\nY,2024-06-01,free\n"
                                    "Z,2024-06-01,pro\n")
    load(ws, tmp_path, "activity", """customer_id,ts,action
X,2025-01-01T10:00:00Z,login
X,2025-01-02T10:00:00Z,login
X,2025-01-10T10:00:00Z,export
Y,2025-01-02T09:00:00Z,login
Y,2025-01-02T17:00:00Z,create_report
Y,2025-01-31T10:00:00Z,login
Z,2025-02-09T10:00:00Z,login
""")
    return ws


def test_dau_is_the_mean_over_the_days_of_the_period(activity_ws):
    # activity days: 1 January .. 9 February. Active: 1 Jan X; 2 Jan X Y (Y twice, once);
    # 10 Jan X; 31 Jan Y; 9 Feb Z. January: 5 / 31 days; February: 1 / 9 days.
    rows = {r["period"].isoformat(): r for r in activity_ws.metrics(["dau"], grain="month").to_pylist()}
    assert {p: r["value"] for p, r in rows.items()} == {"2025-01-01": approx(5 / 31), "2025-02-01": approx(1 / 9)}
    assert {p: r["n"] for p, r in rows.items()} == {"2025-01-01": 31, "2025-02-01": 9}
    assert periods(activity_ws, "dau", grain="day", start="2025-01-01", end="2025-01-04") == {
        "2025-01-01": 1.0, "2025-01-02": 2.0, "2025-01-03": 0.0}
    # pro is X and Z: January 3 / 31
    assert one(activity_ws, "dau", where={"tier": "pro"}, start="2025-01-01", end="2025-02-01")["value"] == \
        approx(3 / 31)
    # a month before any activity: None
    assert periods(activity_ws, "dau", grain="month", start="2024-12-01", end="2025-01-01") == {"2024-12-01": None}


def test_wau_counts_each_customer_once_per_seven_days(activity_ws):
    # 7 days ending on each day from 7 January (the first whole window).
    # X covers 1-8 and 10-16 January; Y 2-8 January and 31 January - 6 February; Z 9-15 February.
    # January 7..31 (25 days): 2 + 2 (7th, 8th) + 7 x 1 (10th-16th) + 1 (31st) = 12 -> 12 / 25
    # February 1..9: 6 x 1 (Y) + 0 + 0 + 1 (Z) = 7 -> 7 / 9
    rows = {r["period"].isoformat(): r for r in activity_ws.metrics(["wau"], grain="month").to_pylist()}
    assert {p: r["value"] for p, r in rows.items()} == {"2025-01-01": approx(12 / 25), "2025-02-01": approx(7 / 9)}
    assert rows["2025-01-01"]["n"] == 25
    days = periods(activity_ws, "wau", grain="day", start="2025-01-06", end="2025-01-10")
    assert days == {"2025-01-06": None, "2025-01-07": 2.0, "2025-01-08": 2.0, "2025-01-09": 0.0}
    # by tier, February: pro X (none) Z (9th) -> 1 / 9; free Y 6 / 9
    rows = activity_ws.metrics(["wau"], by="tier", start="2025-02-01", end="2025-02-10").to_pylist()
    assert {r["tier"]: r["value"] for r in rows} == {"pro": approx(1 / 9), "free": approx(6 / 9)}


@pytest.mark.engines  # on DuckDB and on Spark (tests/_engines.py)
def test_mau_and_dau_mau(activity_ws):
    # 30 days ending on each day from 30 January. 30 and 31 January: X and Y -> 2;
    # every day 1..9 February: X (10 January covers to 8 February) or Z, and Y -> 2.
    assert periods(activity_ws, "mau", grain="month") == {"2025-01-01": approx(2.0), "2025-02-01": approx(2.0)}
    # DAU/MAU over the same days: January 30-31 DAU 0, 1 -> 0.5 / 2; February 1 / 9 / 2
    ratio = {r["period"].isoformat(): r for r in activity_ws.metrics(["dau_mau"], grain="month").to_pylist()}
    assert ratio["2025-01-01"]["value"] == approx(0.25) and ratio["2025-01-01"]["n"] == 2
    assert ratio["2025-02-01"]["value"] == approx(1 / 18)
    # one window: 11 days; DAU 31 Jan + 9 Feb = 2 -> (2 / 11) / 2
    assert one(activity_ws, "dau_mau")["value"] == approx(1 / 11)
    assert one(activity_ws, "mau")["value"] == approx(2.0)


def test_mau_and_dau_mau_by_tier_per_day_and_empty(activity_ws):
    ws = activity_ws
    # pro is X and Z: one of them in every 30-day window from 30 January (X to 8 February, then Z);
    # free is Y: active 2 and 31 January, so in every window too
    rows = ws.metrics(["mau", "dau_mau"], by="tier", grain="month").to_pylist()
    got = {(r["metric"], r["tier"], r["period"].isoformat()): r["value"] for r in rows}
    assert got == {
        ("mau", "pro", "2025-01-01"): approx(1.0), ("mau", "pro", "2025-02-01"): approx(1.0),
        ("mau", "free", "2025-01-01"): approx(1.0), ("mau", "free", "2025-02-01"): approx(1.0),
        # pro DAU: 0 on 30-31 January; Z on 9 February -> (1 / 9) / 1
        ("dau_mau", "pro", "2025-01-01"): approx(0.0), ("dau_mau", "pro", "2025-02-01"): approx(1 / 9),
        # free DAU: Y on 31 January -> 0.5 / 1; none in February
        ("dau_mau", "free", "2025-01-01"): approx(0.5), ("dau_mau", "free", "2025-02-01"): approx(0.0)}
    # per day: 29 January's window starts before the first day with activity -> None
    assert periods(ws, "mau", grain="day", start="2025-01-29", end="2025-02-01") == {
        "2025-01-29": None, "2025-01-30": 2.0, "2025-01-31": 2.0}
    # December, before any activity: None for both
    for metric in ("mau", "dau_mau"):
        empty = one(ws, metric, start="2024-12-01", end="2025-01-01")
        assert empty["value"] is None and empty["n"] == 0


@pytest.mark.engines  # on DuckDB and on Spark (tests/_engines.py)
def test_active_users_in_a_leap_february(ws, tmp_path):
    load(ws, tmp_path, "activity",
         "customer_id,ts,action\nX,2024-02-01T10:00:00Z,login\nX,2024-03-01T10:00:00Z,login\n")
    rows = {r["period"].isoformat(): r for r in ws.metrics(["dau"], grain="month").to_pylist()}
    assert rows["2024-02-01"]["n"] == 29 and rows["2024-02-01"]["value"] == approx(1 / 29)
    assert rows["2024-03-01"]["value"] == approx(1.0)
    # no customers table: dimensions of unknown customers are empty, filters leave them out
    assert one(ws, "dau", where={"tier": "pro"})["value"] == approx(0.0)


# -- support_retention -------------------------------------------------------------------------


@pytest.fixture
def support_ws(ws, tmp_path):
    load(ws, tmp_path, "customers", """customer_id,created_at,tier,churned_at
S1,2024-12-01T00:00:00Z,pro,
S2,2024-12-01T00:00:00Z,pro,2025-02-20T00:00:00Z
S3,2024-12-01T00:00:00Z,free,
S4,2024-12-01T00:00:00Z,free,2025-02-10T00:00:00Z
S5,2024-12-01T00:00:00Z,free,
S6,2025-02-10T00:00:00Z,pro,
S7,2024-12-01T00:00:00Z,free,2025-01-15T00:00:00Z
S8,2024-12-01T00:00:00Z,pro,
S9,2024-12-01T00:00:00Z,pro,2025-03-01T00:00:00Z
""")
    load(ws, tmp_path, "tickets", """ticket_id,created_at,requester_id,created_by,status
K1,2025-02-03T10:00:00Z,S1,customer,solved
K2,2025-02-05T10:00:00Z,S2,customer,solved
K3,2025-01-10T10:00:00Z,S3,customer,solved
K4,2025-02-12T10:00:00Z,S6,customer,open
K5,2025-02-12T10:00:00Z,S8,agent,open
K6,2025-02-14T10:00:00Z,S9,customer,open
K7,2025-02-15T10:00:00Z,S9,customer,open
""")
    return ws


FEB = {"start": "2025-02-01", "end": "2025-03-01"}


@pytest.mark.engines  # on DuckDB and on Spark (tests/_engines.py)
def test_support_retention_contacted_against_the_others(support_ws):
    ws = support_ws
    # customers on 1 February: S1 S2 S3 S4 S5 S8 S9 (S6 joins later, S7 left in January).
    # contacted in February: S1, S2, S9 (twice; its churn on 1 March is March's) -> S1 S9 stay: 2 / 3.
    # the others: S3 (wrote in January), S4, S5, S8 (an outbound ticket is not a contact) -> 3 / 4.
    contacted, other = one(ws, "support_retention_contacted", **FEB), one(ws, "support_retention_other", **FEB)
    assert contacted["value"] == approx(200 / 3) and contacted["n"] == 3
    assert (contacted["ci_low"], contacted["ci_high"]) == wilson_pct(2, 3)
    assert other["value"] == approx(75.0) and other["n"] == 4
    diff = one(ws, "support_retention", **FEB)
    assert diff["value"] == approx(200 / 3 - 75) and diff["n"] == 7 and diff["unit"] == "points"
    se = 100 * math.sqrt((2 / 3) * (1 / 3) / 3 + 0.75 * 0.25 / 4)
    z = 1.959963984540054
    assert (diff["ci_low"], diff["ci_high"]) == (approx(200 / 3 - 75 - z * se), approx(200 / 3 - 75 + z * se))


def test_support_retention_per_month(support_ws):
    # January: customers S1..S5 S7 S8 S9 = 8; contacted S3 (stays): 1 / 1; others 7, S7 left: 6 / 7.
    # March: S1 S3 S5 S6 S8 S9; nobody wrote: contacted None, the difference None; others 5 / 6.
    kw = {"grain": "month", "start": "2025-01-01", "end": "2025-04-01"}
    assert periods(support_ws, "support_retention_contacted", **kw) == {
        "2025-01-01": approx(100.0), "2025-02-01": approx(200 / 3), "2025-03-01": None}
    assert periods(support_ws, "support_retention_other", **kw) == {
        "2025-01-01": approx(600 / 7), "2025-02-01": approx(75.0), "2025-03-01": approx(500 / 6)}
    assert periods(support_ws, "support_retention", **kw) == {
        "2025-01-01": approx(100 - 600 / 7), "2025-02-01": approx(200 / 3 - 75), "2025-03-01": None}


def test_support_retention_by_tier(support_ws):
    # February, pro: S1 S2 S8 S9; contacted S1 S2 S9 -> 2 / 3; other S8 -> 1 / 1.
    # free: S3 S4 S5; nobody wrote -> contacted None; other S3 S5 stay -> 2 / 3.
    rows = support_ws.metrics(["support_retention_contacted", "support_retention_other"], by="tier", **FEB).to_pylist()
    got = {(r["metric"], r["tier"]): r["value"] for r in rows}
    diff = {r["tier"]: r["value"] for r in support_ws.metrics(["support_retention"], by="tier", **FEB).to_pylist()}
    assert diff == {"pro": approx(200 / 3 - 100), "free": None}
    assert got == {("support_retention_contacted", "pro"): approx(200 / 3),
                   ("support_retention_contacted", "free"): None,
                   ("support_retention_other", "pro"): approx(100.0),
                   ("support_retention_other", "free"): approx(200 / 3)}


# -- dimensions --------------------------------------------------------------------------------


def test_filter_values_are_literals(customers_ws):
    # braces and quotes are just values no customer has
    for value in ("{a}", "x' OR '1'='1"):
        assert one(customers_ws, "churn_rate", where={"tier": value}, start="2025-01-01",
                   end="2025-02-01")["value"] is None


@pytest.mark.parametrize(("metric", "dimension", "supported"), [
    ("churn_rate", "channel", "region, segment, source, tier"),
    ("dau", "team", "region, segment, source, tier"),
    ("employee_turnover", "region", "source, team"),
    ("backlog", "hour_of_day", "agent_type, assignee, channel"),
    ("retention_d7", "weekday", "region, segment, source, tier"),
])
def test_unsupported_dimensions_are_refused_with_the_supported_ones(ws, metric, dimension, supported):
    with pytest.raises(cxmetrics.UserError, match=f"{metric} cannot be grouped or filtered by '{dimension}': "
                                                  f"it supports {supported}"):
        ws.metrics([metric], by=[dimension])
    if dimension not in ("hour_of_day", "weekday"):
        with pytest.raises(cxmetrics.UserError, match=f"'{dimension}'"):
            ws.metrics([metric], where={dimension: "x"})
