"""/api/v1/surveys (issue 16, items 1 and 3-5 through the API): definitions read by viewers and
written by admins (surveys.toml checked before it is written), links, sends, the embed snippet
and the sender's state; every bad request a 4xx in the one error shape."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from cxmetrics.api import create_app
from cxmetrics.api.auth import create_key
from cxmetrics.surveys import send_id
from surveys.conftest import make_workspace, smtp, write_surveys  # noqa: F401 - smtp is a fixture

from .conftest import Api

BASE = "https://cx.example.com"


@pytest.fixture
def sapi(tmp_path: Path) -> Iterator[Api]:
    """A server over the small survey workspace (tests/surveys/conftest.py), its sender off so
    only the requests below send anything."""
    path = make_workspace(tmp_path / "ws")
    app = create_app(path, watch_alerts=False, sync_connectors=False, send_surveys=False)
    _, admin = create_key(app.state.workspace, "admin", "admin")
    _, viewer = create_key(app.state.workspace, "viewer", "viewer")
    with TestClient(app) as client:
        yield Api(client, path, admin, viewer)


def error(r: Any, status: int, words: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and body["error"]["status"] == status and words in body["error"]["message"], body


def test_definitions_are_read_by_viewers_and_written_by_admins(sapi: Api) -> None:
    api = sapi
    assert api.get("/api/v1/surveys/definitions", api.viewer).json() == {"file": "surveys.toml", "surveys": []}
    r = api.client.put("/api/v1/surveys/definitions/csat", headers=api.h(api.viewer), json={"kind": "csat"})
    assert r.status_code == 403
    r = api.client.put("/api/v1/surveys/definitions/csat", headers=api.h(),
                       json={"kind": "csat", "delay": "2h", "reminder": "3d", "where": {"channel": ["email"]}})
    assert r.status_code == 200, r.text
    assert r.json() == {"name": "csat", "kind": "csat", "scale": "1-5", "trigger": "solved", "delay": 7200.0,
                        "reminder": 259200.0, "every": None, "question": {}, "comment_prompt": {},
                        "where": {"channel": ["email"]}, "segment": {}, "include_bot_solved": False, "source": None,
                        "enabled": True}
    text = (api.path / "surveys.toml").read_text()
    assert '[[surveys]]\nname = "csat"\nkind = "csat"\ndelay = "2h"' in text
    # what GET gives, PUT takes back (durations in seconds)
    listed = api.get("/api/v1/surveys/definitions", api.viewer).json()["surveys"]
    again = api.client.put("/api/v1/surveys/definitions/csat", headers=api.h(), json=listed[0])
    assert again.status_code == 200 and again.json() == listed[0]
    r = api.client.put("/api/v1/surveys/definitions/nps", headers=api.h(),
                       json={"kind": "nps", "trigger": "relationship", "every": "90d"})
    assert r.status_code == 200 and r.json()["every"] == 90 * 86400.0
    assert [s["name"] for s in api.get("/api/v1/surveys/definitions").json()["surveys"]] == ["csat", "nps"]
    r = api.client.delete("/api/v1/surveys/definitions/nps", headers=api.h())
    assert r.status_code == 200 and [s["name"] for s in r.json()["surveys"]] == ["csat"]


@pytest.mark.parametrize(("name", "body", "status", "words"), [
    ("nps", {"kind": "nps", "scale": "1-5"}, 400, "scale '1-5' is not offered for nps; use 0-10"),
    ("nps", {"kind": "nps", "trigger": "relationship"}, 400, "a relationship survey needs every"),
    ("csat", {"kind": "csat", "where": {"chanel": ["email"]}}, 400, "Did you mean 'channel'?"),
    ("csat", {"kind": "csat", "delay": "soon"}, 400, "'soon' is not a duration"),
    ("csat", {"kind": "csatt"}, 400, "'csatt' is not a survey kind"),
    ("csat", {"kind": "csat", "delai": "1h"}, 422, "delai"),
    ("csat", {"kind": "csat", "name": "other"}, 422, "is not the path's 'csat'"),
    ("Bad Name", {"kind": "csat"}, 422, "path 'name'"),
])
def test_a_bad_definition_is_a_4xx_with_the_configs_message_and_nothing_written(
        sapi: Api, name: str, body: dict, status: int, words: str) -> None:
    write_surveys(sapi.path, "# mine\n[[surveys]]\nname = \"csat\"\nkind = \"csat\"\n")
    before = (sapi.path / "surveys.toml").read_bytes()
    error(sapi.client.put(f"/api/v1/surveys/definitions/{name}", headers=sapi.h(), json=body), status, words)
    assert (sapi.path / "surveys.toml").read_bytes() == before


def test_removing_an_unknown_definition_is_a_404_naming_the_nearest(sapi: Api) -> None:
    write_surveys(sapi.path, {"surveys": [{"name": "csat", "kind": "csat"}]})
    error(sapi.client.delete("/api/v1/surveys/definitions/csta", headers=sapi.h()), 404, "Did you mean 'csat'?")
    assert sapi.client.delete("/api/v1/surveys/definitions/csat", headers=sapi.h(sapi.viewer)).status_code == 403


def test_a_link_makes_one_send_and_opens_with_the_score(sapi: Api) -> None:
    write_surveys(sapi.path, {"base_url": BASE, "surveys": [{"name": "csat", "kind": "csat"}]})
    r = sapi.post("/api/v1/surveys/link", json={"ticket_id": "S2", "score": 4})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["send_id"] == send_id("csat", "default", "ticket", "S2")
    assert out["url"].startswith(f"{BASE}/s/1.") and out["url"].endswith("?score=4")
    # a link send is a send at once: the response rate's denominator has it
    sends = sapi.ws.sql("SELECT send_id, delivery, customer_id FROM survey_sends").to_pylist()
    assert sends == [{"send_id": out["send_id"], "delivery": "link", "customer_id": "C2"}]
    # asked again: the same send (the token is new, the send is not)
    assert sapi.post("/api/v1/surveys/link", json={"ticket_id": "S2"}).json()["send_id"] == out["send_id"]
    assert sapi.ws.sql("SELECT count(*) AS n FROM survey_sends").to_pylist() == [{"n": 1}]
    error(sapi.post("/api/v1/surveys/link", json={"ticket_id": "NOPE"}), 400, "no ticket 'NOPE'")
    error(sapi.post("/api/v1/surveys/link", json={"ticket_id": "S2", "score": 11}), 422, "score")
    error(sapi.post("/api/v1/surveys/link", json={"ticket_id": "S2"}, token=sapi.viewer), 403, "")


def test_send_now_mails_who_can_be_reached_and_says_why_not_the_rest(sapi: Api, smtp) -> None:  # noqa: F811, ANN001
    write_surveys(sapi.path, {"base_url": BASE, "email": smtp.email_settings(),
                              "surveys": [{"name": "csat", "kind": "csat", "trigger": "on_demand"}]})
    r = sapi.post("/api/v1/surveys/send", json={"survey": "csat", "tickets": ["S1", "S4", "S6", "S404"]})
    assert r.status_code == 200, r.text
    report = r.json()
    # S1 goes to ann@example.com; S4's customer has no e-mail; S6 is spam; S404 does not exist
    assert (report["planned"], report["delivered"]) == (1, 1)
    assert report["skipped"] == {"excluded": 1, "no_address": 1, "unknown": 1}
    assert [m.rcpt_tos for m in smtp.wait_for(1)] == [["ann@example.com"]]
    sends = sapi.get("/api/v1/surveys/sends", sapi.viewer).json()
    assert [(s["ticket_id"], s["status"]) for s in sends["sends"]] == [("S1", "delivered")]
    assert "address" not in sends["sends"][0] and sends["truncated"] is False
    error(sapi.post("/api/v1/surveys/send", json={"survey": "csta", "tickets": ["S1"]}), 400, "Did you mean 'csat'?")
    error(sapi.post("/api/v1/surveys/send", json={"survey": "csat"}), 400, "give the tickets or customers")
    error(sapi.post("/api/v1/surveys/send", json={"survey": "csat", "tickets": ["S1"] * 10_001}), 422, "tickets")


def test_sends_are_filtered_and_bounded(sapi: Api) -> None:
    write_surveys(sapi.path, {"base_url": BASE, "surveys": [{"name": "csat", "kind": "csat"}]})
    for t in ("S1", "S2", "S3"):
        assert sapi.post("/api/v1/surveys/link", json={"ticket_id": t}).status_code == 200
    got = sapi.get("/api/v1/surveys/sends", params={"limit": 2}).json()
    assert len(got["sends"]) == 2 and got["truncated"] is True
    assert {s["status"] for s in sapi.get("/api/v1/surveys/sends", params={"status": "delivered"}).json()["sends"]} \
        == {"delivered"}
    assert sapi.get("/api/v1/surveys/sends", params={"status": "answered"}).json()["sends"] == []
    error(sapi.get("/api/v1/surveys/sends", params={"status": "lost"}), 400, "status 'lost' is not one of")
    error(sapi.get("/api/v1/surveys/sends", params={"limit": 10_001}), 422, "limit")


def test_embed_snippet_and_status(sapi: Api) -> None:
    write_surveys(sapi.path, {"base_url": BASE, "surveys": [{"name": "solve_mail", "kind": "csat", "trigger": "embed"},
                                                             {"name": "csat", "kind": "csat"}]})
    r = sapi.get("/api/v1/surveys/embed", params={"survey": "solve_mail", "helpdesk": "zendesk"})
    assert r.status_code == 200, r.text
    assert f"{BASE}/s/e/solve_mail/" in r.json()["html"] and "score=5" in r.json()["html"]
    error(sapi.get("/api/v1/surveys/embed", params={"survey": "csat"}), 400, "trigger = \"embed\"")
    assert sapi.get("/api/v1/surveys/embed", params={"survey": "solve_mail"}, token=sapi.viewer).status_code == 403
    status = sapi.get("/api/v1/surveys/status", sapi.viewer).json()
    assert status["enabled"] == ["solve_mail", "csat"] and status["deliveries"] == {}
    assert status["scheduler"]["running"] is False  # this server was started without its sender


def test_the_spec_has_the_survey_operations(sapi: Api) -> None:
    paths = sapi.get("/api/v1/openapi.json").json()["paths"]
    for path, method in [("/api/v1/surveys/definitions", "get"), ("/api/v1/surveys/definitions/{name}", "put"),
                         ("/api/v1/surveys/definitions/{name}", "delete"), ("/api/v1/surveys/link", "post"),
                         ("/api/v1/surveys/send", "post"), ("/api/v1/surveys/sends", "get"),
                         ("/api/v1/surveys/embed", "get"), ("/api/v1/surveys/status", "get")]:
        assert method in paths[path], (path, method)


def test_the_survey_dimensions_list_their_values(sapi: Api) -> None:
    write_surveys(sapi.path, {"base_url": BASE, "surveys": [{"name": "csat", "kind": "csat"}]})
    for t in ("S1", "S2", "S7"):  # S2 and S7 were asked by the same customer, C2
        assert sapi.post("/api/v1/surveys/link", json={"ticket_id": t}).status_code == 200
    sapi.app.state.refresher.wait(sapi.app.state.refresher.wrote([]))

    def values(name: str) -> list[str | None]:
        r = sapi.get(f"/api/v1/dimensions/{name}/values", sapi.viewer)
        assert r.status_code == 200, r.text
        return r.json()["values"]

    assert values("survey") == ["csat"] and values("survey_delay") == ["none"]
    assert sorted(values("surveys_received")) == ["1", "2"]  # C1's first, C2's first and second
    assert values("survey_delivery") == ["link"]
    rows = sapi.get("/api/v1/metrics", params={"metrics": "survey_sends", "by": "surveys_received"}).json()["rows"]
    assert {r["surveys_received"]: r["value"] for r in rows} == {"1": 2, "2": 1}
