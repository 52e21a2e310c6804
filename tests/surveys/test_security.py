"""Security acceptance of the survey page (issue 16): a tampered, expired, replayed,
cross-ticket or unknown token gets a clear page and stores nothing; every /s/ response sets
its CSP, frame-ancestors and no-referrer headers, errors included; HTML in a comment is
escaped wherever comments are shown; the rate limits hold; a score off the scale stores
nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cxmetrics.api.auth import create_key
from cxmetrics.surveys._ratelimit import RateLimits, Window
from cxmetrics.surveys._tokens import make_token, send_id

from .conftest import SOURCE
from .test_page import App, Page, client  # noqa: F401 - `client` is the fixture

XSS = '<script>alert(1)</script> "><img src=x onerror=alert(2)> </textarea><b>x</b> =HYPERLINK("http://evil")'


def stored(c: App) -> list[tuple[Any, ...]]:
    """Everything an answer could have changed."""
    surveys = c.ws.con.execute("SELECT response_id, score, comment FROM surveys ORDER BY 1").fetchall()
    state = c.ws.con.execute("SELECT send_id, version FROM survey_answers ORDER BY 1").fetchall()
    return [*surveys, *state]


def tampered(token: str) -> dict[str, str]:
    """The token with each of its parts changed (and a version the server does not make)."""
    version, key, send, exp, mac = token.split(".")
    other_send = ("b" if send[0] != "b" else "c") + send[1:]
    return {"version": ".".join(["2", key, send, exp, mac]),
            "key": ".".join([version, "k9", send, exp, mac]),
            "send": ".".join([version, key, other_send, exp, mac]),
            "expiry": ".".join([version, key, send, str(int(exp) + 86400), mac]),
            "mac": ".".join([version, key, send, exp, ("A" if mac[0] != "A" else "B") + mac[1:]]),
            "cut short": token[:-3]}


def test_a_tampered_token_gets_a_clear_page_and_stores_nothing(client: App) -> None:  # noqa: F811
    token = client.token("S2")
    for part, bad in tampered(token).items():
        r = client.client.get(f"/s/{bad}")
        assert r.status_code == 404, part
        assert Page(r.text).h1 == ["This survey link cannot be used"], part
        r = client.post(bad, score=5, comment="forged", version=0)
        assert r.status_code == 404, part
    assert stored(client) == []


def test_an_expired_token_gets_410_and_stores_nothing(client: App) -> None:  # noqa: F811
    now = datetime.now(UTC)
    token = client.token("S2")
    sid = token.split(".")[2]
    old = make_token(client.ws.con, sid, now - timedelta(seconds=1), now - timedelta(days=30))
    r = client.client.get(f"/s/{old}")
    assert r.status_code == 410
    assert f"expired on {(now - timedelta(seconds=1)):%Y-%m-%d}" in Page(r.text).text("message")
    assert client.post(old, score=5, comment="late", version=0).status_code == 410
    assert stored(client) == []


def test_an_unknown_send_gets_404_and_stores_nothing(client: App) -> None:  # noqa: F811
    now = datetime.now(UTC)
    ghost = make_token(client.ws.con, send_id("csat", SOURCE, "ticket", "S404"), now + timedelta(days=1), now)
    r = client.client.get(f"/s/{ghost}")
    assert r.status_code == 404 and "could not find the survey" in r.text
    assert client.post(ghost, score=5, comment="x", version=0).status_code == 404
    assert stored(client) == []


def test_a_replayed_post_stores_nothing_the_second_time(client: App) -> None:  # noqa: F811
    token = client.token("S2")
    assert client.post(token, score=4, comment="once", version=0).status_code == 303
    after_first = stored(client)
    r = client.post(token, score=4, comment="once", version=0)
    assert r.status_code == 409
    assert Page(r.text).h1 == ["This form is out of date"]
    r = client.post(token, score=1, comment="changed by a replay", version=0)
    assert r.status_code == 409
    assert stored(client) == after_first


def test_a_token_answers_only_its_own_send_whatever_the_form_says(client: App) -> None:  # noqa: F811
    a, b = client.token("S1"), client.token("S2")
    sid_a, sid_b = a.split(".")[2], b.split(".")[2]
    r = client.client.post(f"/s/{a}", data={"score": "1", "comment": "A", "version": "0", "send_id": sid_b,
                                             "ticket_id": "S2", "response_id": sid_b, "token": b, "source": "x"},
                           follow_redirects=False)
    assert r.status_code == 303
    rows = client.ws.sql("SELECT response_id, ticket_id, score, comment FROM surveys").to_pylist()
    assert rows == [{"response_id": sid_a, "ticket_id": "S1", "score": 1.0, "comment": "A"}]
    assert Page(client.client.get(f"/s/{b}").text).inputs["version"] == "0"  # B is untouched


def test_a_score_off_the_scale_stores_nothing(client: App) -> None:  # noqa: F811
    token = client.token("S2", "nps")
    for bad in ("11", "-1", "5.5", "ten", "", "1e1"):
        r = client.post(token, score=bad, comment="x", version=0)
        assert r.status_code == 422, bad
    assert client.client.post(f"/s/{token}", data={"comment": "no score", "version": "0"},
                              follow_redirects=False).status_code == 422
    assert stored(client) == []


HEADERS = {"content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                                      "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
           "referrer-policy": "no-referrer", "cache-control": "no-store", "x-robots-tag": "noindex, nofollow",
           "x-frame-options": "DENY", "x-content-type-options": "nosniff"}


def test_every_survey_response_carries_the_pages_headers(survey_ws_path: Path) -> None:
    from .test_page import start

    app, tc = start(survey_ws_path)
    with tc:
        c = App(app, tc)
        token = c.token("S2")
        now = datetime.now(UTC)
        expired = make_token(c.ws.con, token.split(".")[2], now - timedelta(seconds=1), now - timedelta(days=2))
        responses = {
            "form": tc.get(f"/s/{token}?score=3"),
            "answer": c.post(token, score=3, comment="", version=0),
            "thanks": tc.get(f"/s/{token}"),
            "stale": c.post(token, score=3, comment="", version=0),
            "off scale": c.post(token, score=9, comment="", version=1),
            "malformed": tc.get("/s/nope"),
            "tampered": tc.get(f"/s/{tampered(token)['mac']}"),
            "expired": tc.get(f"/s/{expired}"),
            "too large": tc.post(f"/s/{token}", content=b"a" * 20000,
                                 headers={"content-type": "application/x-www-form-urlencoded"}),
            "method": tc.put(f"/s/{token}"),
            "no route": tc.get("/s/a/b/c/d"),
            "embed refused": tc.get("/s/e/csat/S2?r=C2"),
            "embed": tc.get("/s/e/csat_embed/S2?r=C2&score=5", follow_redirects=False),
            "logo": tc.get("/s/brand/logo"),
            "brand css": tc.get("/s/brand/style.css"),
            "css": tc.get("/s/static/page.css"),
        }
        app.state.survey_limits = RateLimits(get_ip=Window(1, 60))
        tc.get("/s/nope")
        responses["rate limited"] = tc.get("/s/nope")
    statuses = {name: r.status_code for name, r in responses.items()}
    assert statuses == {"form": 200, "answer": 303, "thanks": 200, "stale": 409, "off scale": 422, "malformed": 404,
                        "tampered": 404, "expired": 410, "too large": 413, "method": 405, "no route": 404,
                        "embed refused": 404, "embed": 303, "logo": 200, "brand css": 200, "css": 200,
                        "rate limited": 429}
    for name, r in responses.items():
        got = {k: r.headers.get(k) for k in HEADERS}
        assert got == HEADERS, name


def test_html_in_a_comment_is_escaped_on_the_thank_you_page(client: App) -> None:  # noqa: F811
    token = client.token("S2")
    client.post(token, score=1, comment=XSS, version=0)
    html = client.client.get(f"/s/{token}").text
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert Page(html).text("your-comment") == XSS  # shown as the customer wrote it, as text
    # the edit form puts it back into the textarea, escaped too
    edit = client.client.get(f"/s/{token}?edit=1").text
    assert "&lt;/textarea&gt;&lt;b&gt;" in edit and edit.count("</textarea>") == 1
    assert "<img src=x" not in edit and "<b>x</b>" not in edit


def test_html_in_a_comment_is_escaped_on_the_dashboard_and_in_the_api(client: App) -> None:  # noqa: F811
    token = client.token("S2")
    client.post(token, score=1, comment=XSS, version=0)  # CSAT 1: a low score, listed with its comment
    client.post(client.token("S1"), score=2, comment='=HYPERLINK("http://evil")', version=0)
    client.app.state.refresher.wait(client.app.state.refresher.wrote(["surveys"]), timeout=60)
    _, key = create_key(client.ws, "security test", "admin")
    tc: TestClient = client.client
    assert tc.post("/login", data={"key": key, "next": "/"}, follow_redirects=False).status_code == 303
    year = datetime.now(UTC).year
    page = tc.get(f"/surveys?period=custom&from={year - 1}-01-01&to={year + 1}-01-01")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text  # the low-score comments list shows it ...
    assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text  # ... as text
    tc.cookies.clear()
    auth = {"Authorization": f"Bearer {key}"}
    ticket = tc.get(f"/api/v1/tickets/{SOURCE}/S2", headers=auth)
    assert ticket.headers["content-type"].startswith("application/json")
    assert ticket.headers["x-content-type-options"] == "nosniff"
    assert [s["comment"] for s in ticket.json()["surveys"]] == [XSS]  # data, exactly, in a JSON string
    # the CSV of the rows behind CSAT: comments as data, a leading formula neutralised
    csv = tc.get(f"/api/v1/tickets.csv?metric=csat&from={year - 1}-01-01&to={year + 1}-01-01", headers=auth)
    assert csv.headers["content-type"].startswith("text/csv")
    assert '"<script>alert(1)</script> ""><img src=x onerror=alert(2)>' in csv.text
    assert '"\'=HYPERLINK(""http://evil"")"' in csv.text  # the second answer's comment starts with =


def test_the_post_limit_per_token_holds_and_other_tokens_are_unaffected(client: App) -> None:  # noqa: F811
    a, b = client.token("S1"), client.token("S2")
    codes = [client.post(a, score=9, comment="", version=0).status_code for _ in range(10)]
    assert codes == [422] * 10  # ten refused answers count: they cost the server as much
    r = client.post(a, score=4, comment="", version=0)
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 600
    assert "Too many requests" in r.text
    assert client.post(b, score=4, comment="", version=0).status_code == 303
    assert stored(client)[0][0] == b.split(".")[2] and len(stored(client)) == 2  # b's answer and state only


def test_the_get_limit_per_ip_holds_and_other_addresses_are_unaffected(survey_ws_path: Path) -> None:
    from .test_page import start

    app, tc = start(survey_ws_path)
    with tc:
        codes = [tc.get(f"/s/x{i}").status_code for i in range(120)]
        assert set(codes) == {404}
        r = tc.get("/s/y")
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        other = TestClient(app, client=("203.0.113.9", 4000))
        assert other.get("/s/y").status_code == 404
        # one token: 60 a minute, from any address
        codes = [TestClient(app, client=(f"198.51.100.{i}", 4000)).get("/s/z").status_code for i in range(61)]
        assert codes == [404] * 60 + [429]


def test_the_windows_slide_and_memory_stays_bounded() -> None:
    clock = [0.0]
    limits = RateLimits(clock=lambda: clock[0])
    assert [limits.check("POST", "1.1.1.1", "t") for _ in range(10)] == [0] * 10
    assert limits.check("POST", "1.1.1.1", "t") == 600  # the first answer leaves the window in 10 min
    clock[0] = 599.0
    assert limits.check("POST", "1.1.1.1", "t") == 1
    clock[0] = 600.0
    assert limits.check("POST", "1.1.1.1", "t") == 0
    assert [limits.check("POST", f"10.0.0.{i}", f"u{i}") for i in range(29)] == [0] * 29
    w = Window(1, 60.0, max_keys=100)
    for i in range(1000):
        w.hit(f"ip{i}", now=float(i))
    assert len(w) == 100  # the least recently seen keys were dropped


@pytest.mark.parametrize("requester", ["C2", "bob@example.com", "", "c1", "ann@example.co"])
def test_an_embed_with_the_wrong_requester_stores_nothing(client: App, requester: str) -> None:  # noqa: F811
    # S1's requester is C1 (ann@example.com); C2 and bob@example.com are another customer's
    r = client.client.get(f"/s/e/csat_embed/S1?r={requester}&score=5", follow_redirects=False)
    assert r.status_code == 404
    assert "could not match this rating link" in r.text
    assert client.ws.sql("SELECT count(*) AS n FROM survey_requests").to_pylist() == [{"n": 0}]
    assert client.ws.sql("SELECT count(*) AS n FROM survey_sends").to_pylist() == [{"n": 0}]
