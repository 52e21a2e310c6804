"""Requests that used to get a 500 (issue 9, item 12) get their answer: values of every
dimension (a survey dimension lives on surveys, not tickets), SLA compliance with a
repeated grouping, and a ticket whose id holds `/`.

The workspace is built here (not by conftest) so the file also runs against older code.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

import cxmetrics
from cxmetrics._demo_run import write_config_files
from cxmetrics.demo import DemoConfig, generate

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from cxmetrics.api import create_app
from cxmetrics.api.auth import create_key

ORDER = ("agents", "customers", "tickets", "events", "surveys", "survey_sends", "activity", "funnel", "costs",
         "annotations")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    path = tmp_path_factory.mktemp("no-500") / "ws"
    with cxmetrics.Workspace(path) as ws:  # a new workspace
        write_config_files(ws, DemoConfig(tickets=1000, seed=3))  # business hours and SLA policies
        for batch in generate(DemoConfig(tickets=1000, seed=3)):
            for name in ORDER:
                if name in batch and batch[name].num_rows:
                    ws.import_table(name, batch[name], source="demo", label=f"demo:{name}", canonical=True)
        ws.refresh()
    app = create_app(path, watch_alerts=False)
    _, admin = create_key(app.state.workspace, "admin", "admin")
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, {"Authorization": f"Bearer {admin}"}


def test_every_dimension_lists_its_values(api: tuple[TestClient, dict[str, str]]) -> None:
    client, h = api
    names = [d["name"] for d in client.get("/api/v1/dimensions", headers=h).json() if d["filter"]]
    assert "survey_kind" in names
    for name in names:
        r = client.get(f"/api/v1/dimensions/{name}/values", headers=h)
        assert r.status_code == 200, (name, r.text)


def test_survey_kind_values_are_the_kinds_surveys_were_sent_as(api: tuple[TestClient, dict[str, str]]) -> None:
    client, h = api
    r = client.get("/api/v1/dimensions/survey_kind/values", headers=h)
    assert r.status_code == 200, r.text
    ws = client.app.state.workspace  # type: ignore[attr-defined]
    sent = {row["kind"] for row in ws.sql("SELECT DISTINCT kind FROM survey_sends").to_pylist()}
    assert sent >= {"csat", "nps"}  # the demo sends these
    assert set(r.json()["values"]) == sent
    assert {d["name"]: d["applies_to"] for d in client.get("/api/v1/dimensions", headers=h).json()}[
        "survey_kind"] == "surveys"


def test_sla_compliance_with_a_repeated_grouping_is_grouped_once(api: tuple[TestClient, dict[str, str]]) -> None:
    client, h = api
    twice = client.get("/api/v1/sla/compliance?by=channel,channel", headers=h)
    assert twice.status_code == 200, twice.text
    once = client.get("/api/v1/sla/compliance?by=channel", headers=h)
    assert twice.json() == once.json() and once.json()["rows"]
    metrics = client.get("/api/v1/metrics?metrics=csat&by=channel&by=channel", headers=h)
    assert metrics.status_code == 200 and metrics.json()["request"]["by"] == ["channel"]


def test_a_ticket_whose_id_holds_a_slash_can_be_fetched(api: tuple[TestClient, dict[str, str]]) -> None:
    client, h = api
    ticket_id = "ORD/2026/0042"
    event = {"event_id": "slash-1", "ticket_id": ticket_id, "ts": "2026-03-03T08:00:00Z", "kind": "created",
             "actor_type": "customer", "channel": "email"}
    r = client.post("/api/v1/events?source=shop", json={"events": [event]}, headers=h)
    assert r.status_code == 200 and r.json()["inserted"] == 1, r.text
    got = client.get(f"/api/v1/tickets/shop/{quote(ticket_id, safe='')}", headers=h)
    assert got.status_code == 200, got.text
    body = got.json()
    assert [e["event_id"] for e in body["events"]] == ["slash-1"]
    assert body["facts"]["ticket_id"] == ticket_id and body["facts"]["channel"] == "email"
    missing = client.get(f"/api/v1/tickets/shop/{quote('ORD/2026/9999', safe='')}", headers=h)
    assert missing.status_code == 404 and "ORD/2026/9999" in missing.json()["error"]["message"]


def test_an_event_field_the_spec_types_as_text_refuses_an_object(api: tuple[TestClient, dict[str, str]]) -> None:
    """Schemathesis' finding: `"source": {}` was accepted (stored as the text '{}')."""
    client, h = api
    event = {"event_id": "obj-1", "ticket_id": "T-obj", "ts": "2026-03-03T08:00:00Z", "kind": "created",
             "source": {}}
    r = client.post("/api/v1/events", json={"events": [event]}, headers=h)
    assert r.status_code == 400, r.text
    assert "'source'" in r.json()["error"]["message"]
    ws = client.app.state.workspace  # type: ignore[attr-defined]
    assert ws.sql("SELECT count(*) AS n FROM events WHERE event_id = 'obj-1'").to_pylist()[0]["n"] == 0


def test_optional_query_parameters_are_text_or_absent_in_the_spec(api: tuple[TestClient, dict[str, str]]) -> None:
    """A query parameter cannot be JSON null: the spec must not offer null (`?to=` is text)."""
    client, h = api
    spec = client.get("/api/v1/openapi.json", headers=h).json()
    nullable = [(path, p["name"]) for path, ops in spec["paths"].items() for op in ops.values()
                for p in op.get("parameters", []) if {"type": "null"} in p["schema"].get("anyOf", [])]
    assert nullable == []
