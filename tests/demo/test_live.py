"""The demo is live (issue 10, item 6): its year ends when it runs, with tickets still in
flight and SLA targets at risk, and while it serves a trickle of demo events keeps the
live panels moving."""

from __future__ import annotations

import datetime as dt
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import cxmetrics
from cxmetrics._demo_run import ORDER, SOURCE, write_config_files
from cxmetrics.demo import DemoConfig, generate

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

# a Wednesday mid-afternoon in London: office and extended hours are both open
END = dt.datetime(2026, 12, 2, 14, 10, 27, tzinfo=dt.timezone.utc)
IN_FLIGHT = {"new", "open", "pending", "on-hold"}


def concat(config: DemoConfig) -> dict[str, pa.Table]:
    out: dict[str, list[pa.Table]] = {}
    for batch in generate(config):
        for name, table in batch.items():
            out.setdefault(name, []).append(table)
    return {name: pa.concat_tables(tables) for name, tables in out.items()}


def load(path: Path, config: DemoConfig) -> None:
    with cxmetrics.open(path, create=True) as ws:
        write_config_files(ws, config)
        for name, table in concat(config).items():
            if name in ORDER and table.num_rows:
                ws.import_table(name, table, source=SOURCE, label=f"demo:{name}", canonical=True)
        ws.refresh()


@pytest.fixture(scope="module")
def year() -> dict[str, pa.Table]:
    return concat(DemoConfig(tickets=6_000, seed=5, end=END))


def test_the_year_ends_at_the_given_moment_with_tickets_in_flight(year: dict[str, pa.Table]) -> None:
    end = pa.scalar(END, pa.timestamp("us", tz="UTC"))
    for name, column in (("events", "ts"), ("tickets", "created_at"), ("activity", "ts"),
                         ("survey_sends", "sent_at"), ("surveys", "responded_at")):
        latest = pc.max(year[name][column]).as_py()
        assert latest < END, (name, latest)
    # the newest activity is minutes old, not a month
    assert pc.max(year["events"]["ts"]).as_py() > END - dt.timedelta(minutes=30)
    assert pc.max(year["tickets"]["created_at"]).as_py() > END - dt.timedelta(hours=1)
    # the year starts 12 months before (local midnight in London)
    first = pc.min(year["tickets"]["created_at"]).as_py()
    assert dt.datetime(2025, 12, 2, tzinfo=dt.timezone.utc) <= first < dt.datetime(2025, 12, 4, tzinfo=dt.timezone.utc)
    # tickets opened in the last two hours: mostly still being worked
    tickets = year["tickets"]
    recent = tickets.filter(pc.greater(tickets["created_at"], end.cast(pa.timestamp("us", tz="UTC")).as_py()
                                       - dt.timedelta(hours=2)))
    statuses = recent["status"].to_pylist()
    assert sum(s in IN_FLIGHT for s in statuses) >= 3, statuses
    assert "new" in statuses  # someone is still waiting for the first reply


def test_same_seed_and_end_give_the_same_data(year: dict[str, pa.Table]) -> None:
    again = concat(DemoConfig(tickets=6_000, seed=5, end=END))
    for name in ("tickets", "events", "surveys", "customers"):
        assert again[name].equals(year[name]), name
    later = concat(DemoConfig(tickets=6_000, seed=5, end=END + dt.timedelta(days=3)))
    assert pc.max(later["events"]["ts"]).as_py() > END


def test_the_default_year_is_still_the_fixed_one() -> None:
    first, last = DemoConfig().window()
    assert (first.date(), last.date()) == (dt.date(2025, 11, 1), dt.date(2026, 11, 1))


def test_sla_targets_are_at_risk_at_the_end(tmp_path: Path) -> None:
    from cxmetrics.sla import at_risk, refresh_sla

    config = DemoConfig(tickets=6_000, seed=5, end=END)
    load(tmp_path / "ws", config)
    with cxmetrics.open(tmp_path / "ws") as ws:
        refresh_sla(ws, now=END)
        risky = at_risk(ws.con, now=END, within_s=4 * 3600).to_pylist()
        assert risky, "nothing at risk in the 4 hours after the demo's end"
        status = {r["ticket_id"]: r["status"] for r in ws.sql("SELECT ticket_id, status FROM tickets").to_pylist()}
        # every target at risk belongs to a ticket that is still being worked
        assert {status[r["ticket_id"]] for r in risky} <= IN_FLIGHT
        assert all(END < r["due_at"] <= END + dt.timedelta(hours=4) for r in risky)


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    """The demo (ending now) served with a fast trickle: about 10 events a second."""
    from cxmetrics.api import create_app
    from cxmetrics.api.auth import create_key
    from cxmetrics.demo._trickle import attach

    load(tmp_path / "ws", DemoConfig(tickets=2_000, seed=3, end=dt.datetime.now(dt.timezone.utc)))
    app = create_app(tmp_path / "ws", refresh_delay_s=0.1)
    _, admin = create_key(app.state.workspace, "test admin", "admin")
    attach(app, per_minute=600, seed=1)
    with TestClient(app) as client:
        yield client, admin
    assert not app.state.demo_trickle._thread.is_alive()  # stopped with the server


def test_the_trickle_keeps_the_live_numbers_moving(live_app: tuple[TestClient, str]) -> None:
    client, admin = live_app
    headers = {"Authorization": f"Bearer {admin}"}
    today = dt.datetime.now(dt.timezone.utc).date()
    window = {"metrics": "tickets", "from": today.isoformat(), "to": (today + dt.timedelta(days=2)).isoformat()}

    def tickets_today() -> int:
        r = client.get("/api/v1/metrics", params=window, headers=headers)
        assert r.status_code == 200, r.text
        return r.json()["rows"][0]["n"]

    hub = client.app.state.hub
    before, version = tickets_today(), hub.version
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (hub.version > version and tickets_today() > before):
        time.sleep(0.3)
    after = tickets_today()
    assert hub.version > version and after > before
    ws = client.app.state.workspace
    with ws.cursor(auto_refresh=False) as cur:
        # every trickled row is marked as demo: source 'demo', ids 'live-...'
        live = cur.sql("SELECT source, event_id, ticket_id FROM events WHERE event_id LIKE 'live-%'").to_pylist()
        assert live and {r["source"] for r in live} == {"demo"}
        new_live = cur.sql("SELECT count(*) AS n FROM tickets WHERE ticket_id LIKE 'live-%' "
                           "AND created_at >= ?", [today]).to_pylist()[0]["n"]
    # what appeared in today's count is the live tickets (at most a refresh behind)
    assert 0 < after - before <= new_live


def test_re_running_the_demo_replaces_the_live_rows(tmp_path: Path) -> None:
    from cxmetrics._demo_run import clear_demo
    from cxmetrics.demo._trickle import Trickle

    load(tmp_path / "ws", DemoConfig(tickets=2_000, seed=3, end=dt.datetime.now(dt.timezone.utc)))
    with cxmetrics.open(tmp_path / "ws") as ws:
        trickle = Trickle(ws, lambda tables: None, seed=2)
        trickle._load()
        written = sum(trickle.step() for _ in range(40))
        n_live = ws.sql("SELECT count(*) AS n FROM events WHERE event_id LIKE 'live-%'").to_pylist()[0]["n"]
        assert n_live == written > 0
        # the facts follow the trickle's story: each ticket it touched is in the status it left it in
        ws.refresh()
        facts = dict((r["ticket_id"], r["status"]) for r in ws.sql(
            "SELECT ticket_id, status FROM ticket_facts WHERE ticket_id IN "
            "(SELECT ticket_id FROM events WHERE event_id LIKE 'live-%')").to_pylist())
        told = {t.ticket_id: t.status for t in trickle._tickets.values() if t.ticket_id in facts}
        assert told and all(facts[k] == v for k, v in told.items()), (told, facts)
        assert ws.sql("SELECT count(*) AS n FROM tickets WHERE ticket_id LIKE 'live-%'").to_pylist()[0]["n"] \
            == trickle._made > 0
        clear_demo(ws)
        assert ws.counts()["events"] == 0
