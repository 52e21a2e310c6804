"""The survey page `/s/TOKEN` (issue 16, item 4): in the customer's language, accessible,
one-click links pre-select and the form confirms, post/redirect/get, the thank-you state
and its edit link, and the dashboard hears about each answer.

`client` (also used by test_security.py and test_embed.py) is the real application over the
small survey workspace of conftest.py, through Starlette's TestClient.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cxmetrics.api._app import create_app
from cxmetrics.surveys import _sends
from cxmetrics.surveys._tokens import make_token

from .conftest import SOURCE, write_surveys

SURVEYS = {
    "base_url": "https://cx.example.com",
    "branding": {"name": "Acme Support", "colour": "#0b5fff", "logo": "logo.png"},
    "surveys": [{"name": "csat", "kind": "csat", "trigger": "on_demand"},
                {"name": "nps", "kind": "nps", "trigger": "on_demand",
                 "comment_prompt": {"en": "What is the main reason for your score?"}},
                {"name": "thumbs", "kind": "csat", "scale": "good/bad", "trigger": "on_demand"},
                {"name": "csat_embed", "kind": "csat", "trigger": "embed"},
                {"name": "csat_solved", "kind": "csat", "trigger": "solved"}],
}
# a 1x1 PNG
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360"
                    "00000000050001a5f645400000000049454e44ae426082")


class App:
    """The server application over a survey workspace, and a client of it."""

    def __init__(self, app: Any, client: TestClient) -> None:
        self.app, self.client = app, client

    @property
    def ws(self) -> Any:
        return self.app.state.workspace

    def token(self, ticket: str = "S1", survey: str = "csat", *, ttl: timedelta = timedelta(days=30)) -> str:
        """A link send for `ticket` (made as `cxmetrics surveys link` makes it) and its token."""
        now = datetime.now(UTC)
        row = _sends.create_send(self.ws, survey, source=SOURCE, ticket_id=ticket, trigger="on_demand",
                                 delivery="link", now=now)
        return make_token(self.ws.con, row["send_id"], now + ttl, now)

    def answers(self) -> list[dict[str, Any]]:
        return self.ws.sql("SELECT response_id, ticket_id, score, comment, origin FROM surveys "
                           "ORDER BY response_id").to_pylist()

    def post(self, token: str, **form: Any) -> Any:
        return self.client.post(f"/s/{token}", data={k: str(v) for k, v in form.items()}, follow_redirects=False)


def start(path: Path, surveys: dict[str, Any] | None = None) -> tuple[Any, TestClient]:
    (path / "logo.png").write_bytes(PNG)
    write_surveys(path, surveys or SURVEYS)
    app = create_app(path, watch_alerts=False, sync_connectors=False)
    return app, TestClient(app)


@pytest.fixture
def client(survey_ws_path: Path) -> Iterator[App]:
    app, tc = start(survey_ws_path)
    with tc:
        yield App(app, tc)


class Page(HTMLParser):
    """What a test reads off a page: the text of elements by id, the radios, the h1s."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.radios: list[dict[str, str | None]] = []
        self.h1: list[str] = []
        self.ids: dict[str, str] = {}
        self.inputs: dict[str, str | None] = {}
        self.html_lang: str | None = None
        self.legend = ""
        self._open: list[tuple[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.html_lang = a.get("lang")
        if tag == "input" and a.get("type") == "radio":
            self.radios.append(a)
        elif tag == "input" and a.get("name"):
            self.inputs[str(a["name"])] = a.get("value")
        if tag not in ("input", "meta", "link", "img", "br"):
            self._open.append((tag, a.get("id")))
            if a.get("id"):
                self.ids[str(a["id"])] = ""

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for tag, ident in self._open:
            if ident:
                self.ids[ident] += data
        if self._open and self._open[-1][0] == "h1":
            self.h1.append(data.strip())
        if any(t == "legend" for t, _ in self._open):
            self.legend += data

    @property
    def checked(self) -> list[str | None]:
        return [r["value"] for r in self.radios if "checked" in r]

    def text(self, ident: str) -> str:
        return " ".join(self.ids[ident].split())


def test_the_page_asks_in_the_customers_language_with_a_labelled_scale(client: App) -> None:
    r = client.client.get(f"/s/{client.token('S1', 'nps')}")  # S1: customer C1, locale de-AT
    assert r.status_code == 200
    page = Page(r.text)
    assert page.html_lang == "de"
    assert page.h1 == ["Wie wahrscheinlich ist es, dass Sie Acme Support einem Freund oder Kollegen empfehlen?"]
    assert [x["value"] for x in page.radios] == [str(n) for n in range(11)]
    assert page.radios[0]["aria-label"] == "0 von 10: Äußerst unwahrscheinlich"
    assert page.radios[5]["aria-label"] == "5 von 10"
    assert page.radios[10]["aria-label"] == "10 von 10: Äußerst wahrscheinlich"
    assert all(x["name"] == "score" and "required" in x for x in page.radios)
    assert "0 (Äußerst unwahrscheinlich)" in page.legend and "10 (Äußerst wahrscheinlich)" in page.legend
    assert page.checked == []
    assert page.inputs["version"] == "0"
    # the definition's own prompt is English only: a German page keeps the German wording
    assert '<label for="comment">Möchten Sie noch etwas hinzufügen? (optional)</label>' in r.text


def test_lang_switches_among_the_offered_languages(client: App) -> None:
    token = client.token("S2", "nps")  # S2: English customer
    en = Page(client.client.get(f"/s/{token}").text)
    assert en.html_lang == "en" and en.radios[0]["aria-label"] == "0 out of 10: Not at all likely"
    assert "What is the main reason for your score?" in client.client.get(f"/s/{token}").text
    fr = client.client.get(f"/s/{token}?lang=fr")
    assert Page(fr.text).html_lang == "fr"
    assert "Quelle est la probabilité que vous recommandiez Acme Support" in fr.text
    assert 'action="/s/' + token + '?lang=fr"' in fr.text  # the answer keeps the chosen language
    assert Page(client.client.get(f"/s/{token}?lang=xx").text).html_lang == "en"  # not offered: the send's


def test_switching_language_keeps_the_score_the_mail_link_chose(client: App) -> None:
    token = client.token("S2")
    page = client.client.get(f"/s/{token}?score=4").text
    assert f'href="/s/{token}?score=4&amp;lang=de"' in page
    de = Page(client.client.get(f"/s/{token}?score=4&lang=de").text)
    assert de.html_lang == "de" and de.checked == ["4"]
    assert client.answers() == []


def test_a_one_click_score_is_selected_but_not_recorded(client: App) -> None:
    token = client.token("S2")
    r = client.client.get(f"/s/{token}?score=4")
    page = Page(r.text)
    assert page.checked == ["4"]
    assert "Your rating from the e-mail is selected" in page.text("preselected")
    assert client.answers() == []  # a mail scanner opening the link stores nothing
    for bad in ("9", "0", "x", "4.0", ""):
        assert Page(client.client.get(f"/s/{token}?score={bad}").text).checked == []


def test_posting_stores_the_answer_and_redirects_to_the_thank_you(client: App) -> None:
    token = client.token("S2")
    version_before = client.app.state.hub.version
    r = client.post(token, score=4, comment="Quick and kind", version=0)
    assert r.status_code == 303 and r.headers["location"] == f"/s/{token}"
    assert client.answers() == [{"response_id": client.answers()[0]["response_id"], "ticket_id": "S2", "score": 4.0,
                                 "comment": "Quick and kind", "origin": "collected"}]
    thanks = client.client.get(r.headers["location"])
    page = Page(thanks.text)
    assert page.h1 == ["Thank you!"]
    assert page.text("your-score") == "4 out of 5"
    assert page.text("your-comment") == "Quick and kind"
    assert page.radios == []  # no form until they ask to change it
    # the refresher published the change: open dashboards update without a reload
    deadline = time.monotonic() + 30
    while client.app.state.hub.version == version_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.app.state.hub.version > version_before


def test_the_answer_can_be_changed_until_the_window_closes(client: App) -> None:
    token = client.token("S2")
    client.post(token, score=2, comment="slow", version=0)
    thanks = Page(client.client.get(f"/s/{token}").text)
    assert thanks.text("change") == "Change my answer"
    edit = client.client.get(f"/s/{token}?edit=1")
    page = Page(edit.text)
    assert page.checked == ["2"] and page.inputs["version"] == "1"
    assert ">slow</textarea>" in edit.text
    assert client.post(token, score=5, comment="better now", version=1).status_code == 303
    assert [(a["score"], a["comment"]) for a in client.answers()] == [(5.0, "better now")]
    # a later one-click link from the mail opens the form again with that score
    assert Page(client.client.get(f"/s/{token}?score=3").text).checked == ["3"]


def test_a_closed_answer_shows_it_and_refuses_changes(survey_ws_path: Path) -> None:
    app, tc = start(survey_ws_path, {**SURVEYS, "edit_window": "0s"})
    with tc:
        c = App(app, tc)
        token = c.token("S2")
        assert c.post(token, score=3, comment="ok", version=0).status_code == 303
        page = Page(tc.get(f"/s/{token}?edit=1").text)
        assert page.radios == [] and "can no longer be changed" in tc.get(f"/s/{token}").text
        r = c.post(token, score=5, comment="changed", version=1)
        assert r.status_code == 409
        closed = Page(r.text)
        assert closed.h1 == ["Your answer is final"]
        assert closed.text("your-score") == "3 out of 5" and closed.text("your-comment") == "ok"
        assert [(a["score"], a["comment"]) for a in c.answers()] == [(3.0, "ok")]


def test_a_good_bad_survey_offers_two_labelled_choices(client: App) -> None:
    token = client.token("S1", "thumbs")
    page = Page(client.client.get(f"/s/{token}?score=1").text)
    assert [(x["value"], x["aria-label"]) for x in page.radios] == [("1", "Gut"), ("0", "Schlecht")]
    assert page.checked == ["1"]
    client.post(token, score=0, comment="", version=0)
    assert Page(client.client.get(f"/s/{token}").text).text("your-score") == "Schlecht"
    assert client.answers()[0]["score"] == 0.0


def test_a_refused_answer_keeps_what_was_written(client: App) -> None:
    token = client.token("S2")
    r = client.post(token, score=9, comment="my long story", version=0)
    assert r.status_code == 422
    page = Page(r.text)
    assert "Please choose one of the ratings shown." in r.text and page.checked == []
    assert ">my long story</textarea>" in r.text
    r = client.post(token, score=4, comment="x" * 5001, version=0)
    assert r.status_code == 422 and "at most 5000 characters" in r.text
    assert client.answers() == []


def test_the_page_is_one_accessible_document(client: App) -> None:
    html = client.client.get(f"/s/{client.token('S2')}").text
    assert html.count("<h1") == 1
    assert re.search(r"<fieldset[^>]*>\s*<legend>", html)
    assert '<label for="comment">' in html and 'id="comment"' in html
    assert html.count('type="submit"') == 1
    assert "<script" not in html and "style=" not in html  # no script; no inline style (the CSP allows none)
    assert 'name="viewport"' in html


def test_branding_logo_and_colour(client: App) -> None:
    html = client.client.get(f"/s/{client.token('S2')}").text
    assert '<img class="logo" src="/s/brand/logo" alt="Acme Support">' in html
    logo = client.client.get("/s/brand/logo")
    assert logo.status_code == 200 and logo.headers["content-type"] == "image/png" and logo.content == PNG
    css = client.client.get("/s/brand/style.css")
    assert css.headers["content-type"].startswith("text/css") and "--brand: #0b5fff" in css.text
    assert "--brand-ink: #ffffff" in css.text  # white on that blue contrasts more than black
    assert "@media (max-width: 520px)" in client.client.get("/s/static/page.css").text


def test_error_pages_use_accept_language_when_there_is_no_send(client: App) -> None:
    r = client.client.get("/s/not-a-token", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert r.status_code == 404
    page = Page(r.text)
    assert page.html_lang == "es" and page.h1 == ["Este enlace de encuesta no se puede usar"]
    assert Page(client.client.get("/s/not-a-token").text).html_lang == "en"


def test_a_form_body_over_16_kb_is_refused(client: App) -> None:
    token = client.token("S2")
    r = client.client.post(f"/s/{token}", content=b"score=4&version=0&comment=" + b"a" * 17000,
                           headers={"content-type": "application/x-www-form-urlencoded"}, follow_redirects=False)
    assert r.status_code == 413 and "too large" in r.text
    assert client.answers() == []


def test_an_answer_is_written_inside_the_refreshers_writing_so_a_text_part_makes_way(client: App) -> None:
    """As POST /events: the answer's write and its `wrote` go inside `refresher.writing()`,
    which stops a text part under way (api/_refresher.py) instead of letting the respondent
    wait for it behind the write lock."""
    refresher = client.app.state.refresher
    seen: list[str] = []
    writing, wrote = refresher.writing, refresher.wrote

    class Recorded:
        def __enter__(self) -> None:
            seen.append("writing")
            self._inner = writing()
            self._inner.__enter__()

        def __exit__(self, *exc: Any) -> None:
            self._inner.__exit__(*exc)
            seen.append("done")

    refresher.writing = Recorded
    refresher.wrote = lambda tables: (seen.append(f"wrote {','.join(tables)}"), wrote(tables))[1]
    try:
        token = client.token("S2")
        assert client.post(token, score=5, version=0).status_code == 303
    finally:
        del refresher.writing, refresher.wrote
    assert seen == ["writing", "wrote surveys", "done"]
    assert [a["score"] for a in client.answers()] == [5.0]
