"""The demo generator: deterministic, schema-exact, internally consistent and realistic.

Every check recomputes what a user would look at (shares, orderings, rates) from the emitted
Arrow tables with NumPy and pyarrow.compute, independently of the generator's internals.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import cxmetrics.demo
from cxmetrics.demo import DemoConfig, generate
from cxmetrics.model import CHANNELS, PRIORITIES, TABLES, ColType

ARROW = {
    ColType.TEXT: pa.string(),
    ColType.TIMESTAMP: pa.timestamp("us", tz="UTC"),
    ColType.INTEGER: pa.int64(),
    ColType.NUMBER: pa.float64(),
    ColType.BOOLEAN: pa.bool_(),
    ColType.TAGS: pa.list_(pa.string()),
    ColType.PERIOD: pa.string(),
}
ORG = {"agents", "customers", "activity", "funnel", "costs", "annotations"}
CHUNK = {"tickets", "events", "surveys", "survey_sends"}
SHARES = {"email": 0.35, "chat": 0.25, "phone": 0.15, "messaging": 0.12, "social": 0.05, "web": 0.08}
LONDON = pa.timestamp("us", tz="Europe/London")
US = 1_000_000


def concat(batches: list[dict[str, pa.Table]]) -> dict[str, pa.Table]:
    out: dict[str, list[pa.Table]] = {}
    for batch in batches:
        for name, table in batch.items():
            out.setdefault(name, []).append(table)
    return {name: pa.concat_tables(tables) for name, tables in out.items()}


@pytest.fixture(scope="module")
def batches() -> list[dict[str, pa.Table]]:
    return list(generate(DemoConfig(tickets=12_000, chunk_size=5_000)))


@pytest.fixture(scope="module")
def demo(batches: list[dict[str, pa.Table]]) -> dict[str, pa.Table]:
    return concat(batches)


def col(table: pa.Table, name: str) -> np.ndarray:
    """A column as NumPy; timestamps as int64 microseconds."""
    array = table.column(name).combine_chunks()
    if pa.types.is_timestamp(array.type):
        array = array.cast(pa.int64())
    return array.to_numpy(zero_copy_only=False)


def ticket_events(demo: dict[str, pa.Table]) -> dict[str, np.ndarray]:
    """Events with their ticket's created_at, in ticket then event-number order."""
    ev = demo["events"]
    number = pc.cast(pc.list_element(pc.split_pattern(ev.column("event_id"), "-"), 1), pa.int64())
    ev = ev.append_column("n", number).sort_by([("ticket_id", "ascending"), ("n", "ascending")])
    tickets = demo["tickets"]
    created = dict(zip(col(tickets, "ticket_id"), col(tickets, "created_at")))
    out = {name: col(ev, name) for name in ("ticket_id", "ts", "kind", "actor_type", "actor_id", "public",
                                            "status_from", "status_to", "duration_s")}
    out["created"] = np.array([created[t] for t in out["ticket_id"]])
    return out


# --- determinism, schema, ids ------------------------------------------------------------------
def test_public_api() -> None:
    assert cxmetrics.demo.__all__ == ["DemoConfig", "generate"]


def test_same_seed_gives_identical_tables_and_another_seed_differs() -> None:
    config = DemoConfig(tickets=1_500, chunk_size=700)
    first, again = concat(list(generate(config))), concat(list(generate(config)))
    assert first.keys() == again.keys()
    for name in first:
        assert first[name].equals(again[name]), name
    other = concat(list(generate(DemoConfig(tickets=1_500, chunk_size=700, seed=7))))
    assert not other["tickets"].equals(first["tickets"])
    assert not other["events"].equals(first["events"])


def test_batches_hold_org_tables_once_and_chunk_tables_always(batches: list[dict[str, pa.Table]]) -> None:
    assert len(batches) == 3
    assert set(batches[0]) == ORG | CHUNK
    assert all(set(b) == CHUNK for b in batches[1:])
    assert [b["tickets"].num_rows for b in batches] == [5_000, 5_000, 2_000]


def test_every_table_matches_the_canonical_schema(batches: list[dict[str, pa.Table]]) -> None:
    for batch in batches:
        for name, table in batch.items():
            expected = [(c.name, ARROW[c.type]) for c in TABLES[name].columns]
            assert [(f.name, f.type) for f in table.schema] == expected, name
            assert pc.all(pc.equal(table.column("source"), "demo")).as_py(), name


def test_ids_are_unique_across_batches(demo: dict[str, pa.Table]) -> None:
    keys = {"tickets": "ticket_id", "events": "event_id", "surveys": "response_id", "survey_sends": "send_id",
            "agents": "agent_id", "customers": "customer_id", "annotations": "annotation_id"}
    for name, key in keys.items():
        values = demo[name].column(key)
        assert values.null_count == 0
        assert len(pc.unique(values)) == len(values), name
    activity = demo["activity"]
    pairs = set(zip(col(activity, "customer_id"), col(activity, "ts"), col(activity, "action")))
    assert len(pairs) == activity.num_rows


def test_values_stay_in_the_model_sets(demo: dict[str, pa.Table]) -> None:
    for name, table in demo.items():
        for column in TABLES[name].columns:
            if column.values is not None:
                seen = set(pc.unique(table.column(column.name)).to_pylist()) - {None}
                assert seen <= set(column.values), (name, column.name, seen - set(column.values))
            if column.min is not None:
                assert (pc.min(table.column(column.name)).as_py() or 0) >= column.min, (name, column.name)
    assert set(pc.unique(demo["tickets"].column("channel")).to_pylist()) <= set(CHANNELS)
    assert set(pc.unique(demo["tickets"].column("priority")).to_pylist()) == set(PRIORITIES)
    assert set(pc.unique(demo["events"].column("origin")).to_pylist()) == {"events"}
    assert set(pc.unique(demo["surveys"].column("origin")).to_pylist()) == {"events"}


def test_references_resolve(demo: dict[str, pa.Table]) -> None:
    tickets, agents, customers = demo["tickets"], demo["agents"], demo["customers"]
    assert pc.all(pc.is_in(tickets.column("requester_id"), customers.column("customer_id"))).as_py()
    assignees = pc.drop_null(tickets.column("assignee_id"))
    assert pc.all(pc.is_in(assignees, agents.column("agent_id"))).as_py()
    assert pc.all(pc.is_in(demo["events"].column("ticket_id"), tickets.column("ticket_id"))).as_py()
    ticket_surveys = pc.drop_null(demo["surveys"].column("ticket_id"))
    assert pc.all(pc.is_in(ticket_surveys, tickets.column("ticket_id"))).as_py()
    # Customers write in only between signing up and churning.
    ids = col(customers, "customer_id")
    signup = dict(zip(ids, col(customers, "created_at")))
    churn = dict(zip(ids, customers.column("churned_at").cast(pa.int64()).to_pylist()))
    for requester, created in zip(col(tickets, "requester_id"), col(tickets, "created_at")):
        assert signup[requester] <= created
        assert churn[requester] is None or created < churn[requester]


# --- ordering sanity -----------------------------------------------------------------------------
def test_every_event_follows_its_tickets_creation(demo: dict[str, pa.Table]) -> None:
    ev = ticket_events(demo)
    assert (ev["ts"] >= ev["created"]).all()
    first = np.r_[True, ev["ticket_id"][1:] != ev["ticket_id"][:-1]]
    assert (ev["kind"][first] == "created").all()
    assert (ev["kind"] == "created").sum() == demo["tickets"].num_rows
    # Event numbers follow time within each ticket.
    same = ~first
    assert (ev["ts"][same] >= ev["ts"][np.flatnonzero(same) - 1]).all()


def test_status_changes_chain_and_match_the_ticket(demo: dict[str, pa.Table]) -> None:
    ev = ticket_events(demo)
    status = ev["kind"] == "status"
    tid, old, new = ev["ticket_id"][status], ev["status_from"][status], ev["status_to"][status]
    first = np.r_[True, tid[1:] != tid[:-1]]
    assert (old[first] == "new").all()
    assert (old[~first] == new[np.flatnonzero(~first) - 1]).all()
    last = dict(zip(tid, new))  # the last status change of each ticket wins
    tickets = demo["tickets"]
    for t, s in zip(col(tickets, "ticket_id"), col(tickets, "status")):
        if s not in ("deleted", "spam"):
            assert last.get(t, "new") == s


def test_solves_and_first_replies_come_after_creation(demo: dict[str, pa.Table]) -> None:
    ev = ticket_events(demo)
    solved = (ev["kind"] == "status") & (ev["status_to"] == "solved")
    assert solved.any() and (ev["ts"][solved] > ev["created"][solved]).all()
    reply = (ev["kind"] == "message") & (ev["actor_type"] == "agent") & (ev["public"] == True)  # noqa: E712
    assert (ev["ts"][reply] >= ev["created"][reply]).all()


def test_calls_are_ordered(demo: dict[str, pa.Table]) -> None:
    ev = ticket_events(demo)
    calls: dict[str, list[dict[str, int]]] = {}  # each call_queued starts a call of its ticket
    for t, kind, ts in zip(ev["ticket_id"], ev["kind"], ev["ts"]):
        if kind.startswith(("call_", "hold_", "wrap_")):
            if kind == "call_queued" or t not in calls:
                calls.setdefault(t, []).append({})
            calls[t][-1][kind] = ts
    when = [w for ticket_calls in calls.values() for w in ticket_calls]
    assert sum(len(c) > 1 for c in calls.values()) > 20  # call-backs on the same ticket
    answered = [w for w in when if "call_answered" in w and "wrap_up_end" in w]
    assert len(answered) > 500
    for w in answered:
        assert w["call_queued"] < w["call_answered"] < w["call_ended"] < w["wrap_up_end"]
        if "hold_start" in w:
            assert w["call_answered"] < w["hold_start"] < w["hold_end"] < w["call_ended"]
    assert all("call_answered" not in w for w in when if "call_abandoned" in w)


def test_agents_act_only_while_employed(demo: dict[str, pa.Table]) -> None:
    agents = demo["agents"]
    hired = dict(zip(col(agents, "agent_id"), col(agents, "hired_at")))
    left = dict(zip(col(agents, "agent_id"), agents.column("left_at").cast(pa.int64()).to_pylist()))
    ev = ticket_events(demo)
    for actor, ts in zip(ev["actor_id"], ev["ts"]):
        if actor in hired:
            assert ts >= hired[actor]
            assert left[actor] is None or ts < left[actor]


# --- shape of the data -------------------------------------------------------------------------
def test_channel_mix(demo: dict[str, pa.Table]) -> None:
    counts = Counter(col(demo["tickets"], "channel"))
    total = sum(counts.values())
    for channel, share in SHARES.items():
        assert abs(counts[channel] / total - share) < 0.02, channel


def test_weekly_and_daily_seasonality_in_local_time(demo: dict[str, pa.Table]) -> None:
    local = demo["tickets"].column("created_at").cast(LONDON)
    weekday = pc.day_of_week(local).to_numpy()  # Monday = 0
    hour = pc.hour(local).to_numpy()
    by_day = np.bincount(weekday, minlength=7)
    assert 0.06 < by_day[5:].sum() / by_day.sum() < 0.16
    assert by_day[0] == by_day.max()
    by_hour = np.bincount(hour, minlength=24)
    assert by_hour[9:17].mean() > 5 * by_hour[0:6].mean()


def test_year_has_growth_a_december_dip_and_an_outage_spike(demo: dict[str, pa.Table]) -> None:
    local = demo["tickets"].column("created_at").cast(LONDON)
    month = pc.strftime(local, "%Y-%m").to_numpy(zero_copy_only=False)
    counts = Counter(month)
    assert counts["2026-10"] > 1.1 * counts["2025-11"]
    assert counts["2025-12"] < counts["2025-11"] and counts["2025-12"] < counts["2026-01"]
    notes = demo["annotations"]
    kinds = dict(zip(col(notes, "kind"), col(notes, "ts")))
    assert {"ai", "hire", "outage", "policy"} <= set(kinds)
    day = pc.strftime(local, "%Y-%m-%d").to_numpy(zero_copy_only=False)
    per_day = Counter(day)
    outage_day = dt.datetime.fromtimestamp(kinds["outage"] / US, dt.UTC).strftime("%Y-%m-%d")
    assert per_day[outage_day] > 2.2 * np.median(list(per_day.values()))
    topics = Counter(col(demo["tickets"], "topic")[day == outage_day])
    assert topics["outage"] + topics["login"] > 0.5 * per_day[outage_day]


def test_chat_bot_appears_only_after_launch(demo: dict[str, pa.Table]) -> None:
    notes = demo["annotations"]
    launch = col(notes, "ts")[col(notes, "kind") == "ai"][0]
    tickets = demo["tickets"]
    chats = np.isin(col(tickets, "channel"), ["chat", "messaging"]) & (col(tickets, "created_by") == "customer")
    ev = ticket_events(demo)
    with_bot = set(ev["ticket_id"][ev["actor_type"] == "bot"])
    has_bot = np.array([t in with_bot for t in col(tickets, "ticket_id")])
    created = col(tickets, "created_at")
    before = chats & (created < launch)
    after = chats & (created > launch + 14 * 86400 * US)
    assert before.sum() > 300 and not has_bot[before].any()
    assert 0.2 < has_bot[after].mean() < 0.6


def test_durations_are_realistic(demo: dict[str, pa.Table]) -> None:
    ev = ticket_events(demo)
    tickets = demo["tickets"]
    channel = dict(zip(col(tickets, "ticket_id"), col(tickets, "channel")))
    inbound = dict(zip(col(tickets, "ticket_id"), col(tickets, "created_by") == "customer"))
    reply = (ev["kind"] == "message") & (ev["actor_type"] == "agent") & (ev["public"] == True)  # noqa: E712
    first: dict[str, float] = {}
    for t, ts, c in zip(ev["ticket_id"][reply], ev["ts"][reply], ev["created"][reply]):
        first.setdefault(t, (ts - c) / US)
    frt = {ch: np.median([s for t, s in first.items() if channel[t] == ch and inbound[t]]) for ch in SHARES}
    assert 30 < frt["chat"] < 300
    assert 3600 < frt["email"] < 30 * 3600
    queued = {t: ts for t, k, ts in zip(ev["ticket_id"], ev["kind"], ev["ts"]) if k == "call_queued"}
    asa = [(ts - queued[t]) / US for t, k, ts in zip(ev["ticket_id"], ev["kind"], ev["ts"]) if k == "call_answered"]
    assert 15 < np.median(asa) < 120
    handled = np.isin(ev["kind"], ["call_ended", "hold_end", "wrap_up_end"])
    aht = ev["duration_s"][handled].sum() / (ev["kind"] == "call_answered").sum()
    assert 4 * 60 < aht < 10 * 60
    abandoned = (ev["kind"] == "call_abandoned").sum() / len(queued)
    assert 0.03 < abandoned < 0.13


def test_resolution_quality_is_realistic(demo: dict[str, pa.Table]) -> None:
    ev = ticket_events(demo)
    status = ev["kind"] == "status"
    solved = set(ev["ticket_id"][status & (ev["status_to"] == "solved")])
    reopened = set(ev["ticket_id"][status & (ev["status_from"] == "solved") & (ev["status_to"] == "open")])
    assert 0.03 < len(reopened) / len(solved) < 0.10
    statuses = Counter(col(demo["tickets"], "status"))
    assert statuses["closed"] > 0.8 * demo["tickets"].num_rows
    assert statuses["open"] + statuses["new"] + statuses["pending"] > 0  # a backlog at the end
    assert statuses["spam"] > 0 and statuses["deleted"] > 0
    assert (ev["kind"] == "merged").sum() > 0


def test_surveys_are_consistent_and_realistic(demo: dict[str, pa.Table]) -> None:
    surveys, sends = demo["surveys"], demo["survey_sends"]
    kind = col(surveys, "kind")
    score = col(surveys, "score")
    assert (col(surveys, "responded_at") > col(surveys, "sent_at")).all()
    assert ((score >= col(surveys, "scale_min")) & (score <= col(surveys, "scale_max"))).all()
    scales = dict(zip(kind, col(surveys, "scale")))
    assert scales == {"csat": "1-5", "ces": "1-7", "nps": "0-10", "esat": "1-5"}
    csat = score[kind == "csat"]
    assert 0.72 < (csat >= 4).mean() < 0.9
    ticket = surveys.column("ticket_id").is_null().to_numpy(zero_copy_only=False)
    customer = surveys.column("customer_id").is_null().to_numpy(zero_copy_only=False)
    agent = surveys.column("agent_id").is_null().to_numpy(zero_copy_only=False)
    assert not ticket[np.isin(kind, ["csat", "ces"])].any()
    assert ticket[kind == "nps"].all() and not customer[kind == "nps"].any()
    assert customer[kind == "esat"].all() and not agent[kind == "esat"].any()
    sent = Counter(col(sends, "kind"))
    answered = Counter(kind)
    assert 0.12 < answered["csat"] / sent["csat"] < 0.3
    assert 0.2 < sent["ces"] / sent["csat"] < 0.5
    send_keys = set(zip(sends.column("ticket_id").to_pylist(), col(sends, "kind")))
    for t, k in zip(surveys.column("ticket_id").to_pylist(), kind):
        if t is not None:
            assert (t, k) in send_keys


def test_org_tables(demo: dict[str, pa.Table]) -> None:
    agents = demo["agents"]
    types = col(agents, "type")
    assert (types == "bot").sum() == 2
    assert set(col(agents, "team")[types == "bot"]) == {"Automation"}
    start = int(dt.datetime(2025, 11, 1, tzinfo=dt.UTC).timestamp()) * US
    humans = agents.filter(pc.equal(agents.column("type"), "human"))
    at_start = pc.less_equal(humans.column("hired_at"), pa.scalar(start, pa.timestamp("us", tz="UTC")))
    assert 100 <= pc.sum(at_start).as_py() <= 140
    assert 0.1 < humans.column("left_at").is_valid().to_numpy(zero_copy_only=False)[
        at_start.to_numpy(zero_copy_only=False)].mean() < 0.2
    assert len(set(col(humans, "team"))) == 6
    customers = demo["customers"]
    assert customers.num_rows >= 1000
    assert 0.05 < customers.column("churned_at").is_valid().to_numpy(zero_copy_only=False).mean() < 0.2
    funnel = demo["funnel"]
    assert (col(funnel, "conversions") <= col(funnel, "visits")).all()
    costs = demo["costs"]
    assert set(col(costs, "category")) == {"salaries", "tools", "overhead", "outsourcing"}
    assert set(col(costs, "currency")) == {"EUR"}
    assert 2 * demo["tickets"].num_rows <= demo["activity"].num_rows <= 5 * demo["tickets"].num_rows


def test_config_is_validated() -> None:
    with pytest.raises(ValueError, match="time zone"):
        DemoConfig(timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="tickets"):
        DemoConfig(tickets=0)


def test_ten_thousand_tickets_are_fast() -> None:
    started = time.perf_counter()
    rows = sum(b["events"].num_rows for b in generate(DemoConfig(tickets=10_000, seed=3)))
    assert rows > 10 * 10_000
    assert time.perf_counter() - started < 10
