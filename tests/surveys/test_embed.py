"""Embeds (issue 16, item 5): the snippet for a help desk's solve e-mail, its CLI, and the
route its links open (`/s/e/SURVEY/TICKET?r=REQUESTER&score=N`)."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from click.testing import CliRunner

from cxmetrics.cli import main
from cxmetrics.surveys._embed import snippet
from cxmetrics.surveys._tokens import send_id

from .conftest import SOURCE, write_surveys
from .test_page import SURVEYS, App, Page, client  # noqa: F401 - `client` is the fixture


def hrefs(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]*)"', html)]


@pytest.mark.parametrize(("helpdesk", "ticket", "requester"), [
    ("zendesk", "{{ticket.id}}", "{{ticket.requester.id}}"),
    ("freshdesk", "{{ticket.id}}", "{{ticket.requester.email}}"),
    ("generic", "{ticket_id}", "{requester_id}"),
])
def test_the_snippet_has_one_link_per_score_with_the_help_desks_placeholders(
        survey_ws_path: Path, helpdesk: str, ticket: str, requester: str) -> None:
    write_surveys(survey_ws_path, SURVEYS)
    from types import SimpleNamespace

    html = snippet(SimpleNamespace(path=survey_ws_path), "csat_embed", helpdesk=helpdesk)
    assert hrefs(html) == [f"https://cx.example.com/s/e/csat_embed/{ticket}?r={requester}&score={n}"
                           for n in range(1, 6)]
    assert "How would you rate the support you received?" in html
    assert "<script" not in html


def test_the_cli_prints_the_snippet_and_refuses_a_survey_that_is_not_an_embed(survey_ws_path: Path) -> None:
    write_surveys(survey_ws_path, SURVEYS)
    runner = CliRunner()
    ok = runner.invoke(main, ["--workspace", str(survey_ws_path), "surveys", "embed", "csat_embed", "--helpdesk",
                              "freshdesk", "--lang", "de"])
    assert ok.exit_code == 0, ok.output
    assert "Wie bewerten Sie den Support" in ok.output
    assert hrefs(ok.output)[0] == "https://cx.example.com/s/e/csat_embed/{{ticket.id}}?r={{ticket.requester.email}}&score=1"
    bad = runner.invoke(main, ["--workspace", str(survey_ws_path), "surveys", "embed", "csat"])
    assert bad.exit_code == 1
    assert bad.output.strip() == ('SurveysConfigError: survey \'csat\' has trigger = "on_demand"; an embed snippet '
                                  'is for a survey with trigger = "embed" (set it in surveys.toml).')


def test_an_embed_link_makes_the_rules_send_and_opens_the_page_with_the_score(client: App) -> None:  # noqa: F811
    r = client.client.get("/s/e/csat_embed/S1?r=C1&score=4", follow_redirects=False)
    assert r.status_code == 303
    location = r.headers["location"]
    token, query = location.removeprefix("/s/").split("?")
    assert query == "score=4"
    assert token.split(".")[2] == send_id("csat_embed", SOURCE, "ticket", "S1")  # the id the rules would make
    sends = client.ws.sql("SELECT ticket_id, customer_id, survey, \"trigger\", delivery FROM survey_sends").to_pylist()
    assert sends == [{"ticket_id": "S1", "customer_id": "C1", "survey": "csat_embed", "trigger": "embed",
                      "delivery": "embed"}]
    page = Page(client.client.get(location).text)
    assert page.checked == ["4"] and page.html_lang == "de"
    assert client.answers() == []  # opening the link records nothing: the page confirms
    # the same link again (or with the e-mail address): the same send, not a second one
    again = client.client.get("/s/e/csat_embed/S1?r=ANN@example.com&score=2", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].split(".")[2] == token.split(".")[2]
    assert client.ws.sql("SELECT count(*) AS n FROM survey_sends").to_pylist() == [{"n": 1}]
    assert client.post(token, score=4, comment="", version=0).status_code == 303
    assert client.answers()[0]["ticket_id"] == "S1"


@pytest.mark.parametrize(("path", "message"), [
    ("/s/e/csat/S1?r=C1", "does not belong to an active survey"),  # not an embed survey
    ("/s/e/nope/S1?r=C1", "does not belong to an active survey"),
    ("/s/e/csat_embed/S5?r=C5", "could not match"),  # not solved
    ("/s/e/csat_embed/S6?r=C6", "could not match"),  # spam: excluded
    ("/s/e/csat_embed/S1?r=C2", "could not match"),  # another requester
    ("/s/e/csat_embed/S1", "could not match"),  # no requester
    ("/s/e/csat_embed/NOPE?r=C1", "could not match"),
])
def test_an_embed_link_that_does_not_match_opens_a_clear_page_and_stores_nothing(
        client: App, path: str, message: str) -> None:  # noqa: F811
    r = client.client.get(path, follow_redirects=False)
    assert r.status_code == 404
    assert Page(r.text).h1 == ["This rating link cannot be used"] and message in r.text
    assert client.ws.sql("SELECT count(*) AS n FROM survey_requests").to_pylist() == [{"n": 0}]


def test_a_disabled_embed_survey_opens_nothing(survey_ws_path: Path) -> None:
    from .test_page import start

    surveys = {**SURVEYS, "surveys": [{"name": "csat_embed", "kind": "csat", "trigger": "embed", "enabled": False}]}
    app, tc = start(survey_ws_path, surveys)
    with tc:
        assert tc.get("/s/e/csat_embed/S1?r=C1&score=4", follow_redirects=False).status_code == 404
