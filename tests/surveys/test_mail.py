"""The survey e-mail and its delivery (issue 16, item 3): what arrives at a real SMTP server
(aiosmtpd), retries and permanent failures, and the one reminder."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cxmetrics
from cxmetrics.surveys import SurveysConfig, verify_token
from cxmetrics.surveys._mail import MailInput, build
from cxmetrics.surveys._sends import run
from cxmetrics.surveys._tokens import send_id

from .conftest import NOW, SOURCE, links, score_link

FIRST_SIGHT = datetime(2026, 3, 1, tzinfo=UTC)
BASE = "https://cx.example.com"
# a 1x1 PNG
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9aw"
                       "AAAABJRU5ErkJggg==")


def config(smtp: Any, **survey: Any) -> SurveysConfig:
    return SurveysConfig.from_dict({"base_url": BASE, "email": smtp.email_settings(),
                                    "branding": {"name": "Acme", "colour": "#aa3300"},
                                    "surveys": [{"name": "csat", "kind": "csat", "delay": "1h", **survey}]})


def deliver_all(ws: cxmetrics.Workspace, c: SurveysConfig) -> None:
    run(ws, now=FIRST_SIGHT, config=c, deliver=False)
    run(ws, now=NOW, config=c)


def token_of(url: str) -> str:
    return url.removeprefix(f"{BASE}/s/").split("?")[0]


def test_the_mail_arrives_in_the_customers_language_with_one_click_links(survey_ws, smtp) -> None:
    deliver_all(survey_ws, config(smtp))
    ann = smtp.to("ann@example.com")[0]  # locale de-AT: German
    m = ann.message
    assert m["Subject"] == "Wie zufrieden waren Sie mit Ihrer Anfrage S1?"
    assert m["To"] == "Ann Example <ann@example.com>" and m["From"] == "Acme Support <support@acme.example>"
    assert m["Auto-Submitted"] == "auto-generated" and m["Content-Language"] == "de"
    assert m.get_content_type() == "multipart/alternative"
    assert "Hallo Ann Example," in ann.text and "Hallo Ann Example," in ann.html
    assert "Wie bewerten Sie den Support, den Sie erhalten haben?" in ann.html  # the shipped German question
    the_send = send_id("csat", SOURCE, "ticket", "S1")
    for score in range(1, 6):
        url = score_link(ann.html, score)
        assert url.startswith(f"{BASE}/s/") and url.endswith(f"?score={score}")
        assert verify_token(survey_ws.con, token_of(url), NOW).send_id == the_send
        assert url in ann.text  # the plain text has the same links
    assert f"{BASE}/s/{token_of(score_link(ann.html, 1))}" in links(ann.html)  # the page, no score
    assert verify_token(survey_ws.con, token_of(score_link(ann.html, 1)), NOW).expires_at == NOW + timedelta(days=30)
    assert "S1" in ann.html and "keinem Verteiler" in ann.html  # why they got it: this one ticket
    assert "<script" not in ann.html.lower() and "<style" not in ann.html.lower()
    bob = smtp.to("bob@example.com")[0]
    assert bob.message["Subject"] == "How did we do with your request S2?" and "Hello Bob Example," in bob.text
    assert "1 = very dissatisfied" in bob.text and "5 = very satisfied" in bob.text


def test_every_value_in_the_html_is_escaped_and_the_logo_travels_inline(tmp_path: Path) -> None:
    (tmp_path / "logo.png").write_bytes(PNG)
    c = SurveysConfig.from_dict({"branding": {"name": "A&B <Co>", "logo": "logo.png"},
                                 "surveys": [{"name": "csat", "kind": "csat"}]})
    request = {"send_id": "a" * 20, "ticket_id": "T<1>", "language": "en", "address": "x@example.com"}
    msg = build(c.survey("csat"), c, BASE, MailInput(
        request=request, token="1.k1.tok", expires_at=NOW, ticket_subject="<script>alert(1)</script> & co",
        customer_name='Eve "<img src=x>"'), sender="s@example.com", logo=c.logo_path(tmp_path))
    html = next(p for p in msg.walk() if p.get_content_type() == "text/html").get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert "<img src=x>" not in html and "Eve &#34;&lt;img src=x&gt;&#34;" in html
    assert "A&amp;B &lt;Co&gt;" in html and "T&lt;1&gt;" in html
    text = next(p for p in msg.walk() if p.get_content_type() == "text/plain").get_content()
    assert "<script>alert(1)</script> & co" in text  # plain text is not HTML: shown as written
    images = [p for p in msg.walk() if p.get_content_maintype() == "image"]
    assert len(images) == 1 and images[0]["Content-ID"] == "<survey-logo>" and images[0].get_content() == PNG
    assert 'src="cid:survey-logo"' in html


def test_good_bad_is_two_buttons_and_nps_eleven(tmp_path: Path) -> None:
    request = {"send_id": "a" * 20, "ticket_id": "T1", "language": "fr", "address": "x@example.com"}
    for scale_kind, expect in ((("csat", "good/bad"), [("1", "Bien"), ("0", "Mauvais")]),
                               (("nps", "0-10"), [(str(n), str(n)) for n in range(11)])):
        kind, scale = scale_kind
        c = SurveysConfig.from_dict({"surveys": [{"name": "s", "kind": kind, "scale": scale}]})
        msg = build(c.survey("s"), c, BASE, MailInput(request=request, token="1.k1.tok", expires_at=NOW),
                    sender="s@example.com")
        html = next(p for p in msg.walk() if p.get_content_type() == "text/html").get_content()
        got = re.findall(r'href="[^"]*\?score=(\d+)"[^>]*>([^<]*)</a>', html)
        assert got == expect
        assert msg["Subject"] == "Comment avons-nous traité votre demande T1 ?"


def test_a_4xx_answer_is_retried_and_the_send_exists_only_once_delivered(survey_ws, smtp) -> None:
    c = config(smtp)
    smtp.fail_first = 1  # 451: try again later
    run(survey_ws, now=FIRST_SIGHT, config=c, deliver=False)
    r = run(survey_ws, now=NOW, config=c)
    # the first (S1) failed for now; the server being busy, the others wait too
    assert (r.delivered, r.retrying, r.failed) == (0, 1, 0) and "451" in (r.deliveries[0].error or "")
    assert r.deliveries[0].next_attempt_at == NOW + timedelta(seconds=10)
    assert survey_ws.con.execute("SELECT count(*) FROM survey_sends").fetchall()[0][0] == 0
    r = run(survey_ws, now=NOW + timedelta(seconds=10), config=c)
    assert r.delivered == 3 and len(smtp.messages) == 3
    assert survey_ws.con.execute("SELECT attempts FROM survey_deliveries d JOIN survey_requests r USING "
                                 "(source, send_id) WHERE r.ticket_id = 'S1'").fetchall() == [(2,)]
    assert survey_ws.con.execute("SELECT sent_at FROM survey_sends s JOIN survey_requests r USING (source, send_id) "
                                 "WHERE r.ticket_id = 'S1'").fetchall() == [(NOW + timedelta(seconds=10),)]


def test_a_5xx_answer_fails_for_good_and_makes_no_send(survey_ws, smtp) -> None:
    c = config(smtp)
    smtp.fail_first, smtp.fail_reply = 1, "550 5.1.1 no such mailbox"
    run(survey_ws, now=FIRST_SIGHT, config=c, deliver=False)
    r = run(survey_ws, now=NOW, config=c)
    assert (r.delivered, r.failed) == (2, 1) and "550" in (r.deliveries[0].error or "")
    for later in (10, 3600, 86400):
        assert run(survey_ws, now=NOW + timedelta(seconds=later), config=c).deliveries == []
    assert smtp.seen == 3
    assert sorted(x[0] for x in survey_ws.con.execute("SELECT ticket_id FROM survey_sends").fetchall()) == ["S2", "S3"]


def test_one_reminder_however_often_it_runs_and_none_once_answered(survey_ws, smtp) -> None:
    c = config(smtp, reminder="2d")
    deliver_all(survey_ws, c)
    assert len(smtp.messages) == 3
    s1 = send_id("csat", SOURCE, "ticket", "S1")
    # Ann answers before the reminder is due (a surveys row naming the send)
    import pyarrow as pa

    survey_ws.import_table("surveys", pa.table({
        "response_id": [s1], "send_id": [s1], "ticket_id": ["S1"], "kind": ["csat"], "score": [5.0],
        "responded_at": [NOW + timedelta(hours=1)]}), source=SOURCE)
    r = run(survey_ws, now=NOW + timedelta(days=2) - timedelta(seconds=1), config=c)
    assert (r.reminded, r.cancelled) == (0, 1)  # not due yet; Ann's, answered, is cancelled
    r = run(survey_ws, now=NOW + timedelta(days=2), config=c)
    assert (r.reminded, r.cancelled) == (2, 0)
    for later in (2.5, 3, 10, 40):
        r = run(survey_ws, now=NOW + timedelta(days=later), config=c)
        assert r.reminded == 0 and r.deliveries == []
    reminders = smtp.messages[3:]
    assert sorted(m.rcpt_tos[0] for m in reminders) == ["bob@example.com", "cara@example.com"]
    assert reminders[0].message["Subject"].startswith("Reminder: How did we do with your request")
    assert "A few days ago we asked" in reminders[0].text
    got = survey_ws.con.execute("SELECT ticket_id, sent_at, reminded_at FROM survey_sends ORDER BY ticket_id"
                                ).fetchall()
    assert got == [("S1", NOW, None), ("S2", NOW, NOW + timedelta(days=2)), ("S3", NOW, NOW + timedelta(days=2))]


def test_only_a_survey_sent_after_a_solve_says_the_request_was_solved(tmp_path: Path) -> None:
    # `surveys send` may ask about a ticket that is still open: "we recently solved" would be false
    c = SurveysConfig.from_dict({"surveys": [{"name": "csat", "kind": "csat"}]})

    def text_of(trigger: str) -> str:
        request = {"send_id": "a" * 20, "ticket_id": "T7", "language": "en", "address": "x@example.com",
                   "trigger": trigger}
        msg = build(c.survey("csat"), c, BASE, MailInput(request=request, token="1.k1.tok", expires_at=NOW),
                    sender="s@example.com")
        return next(p for p in msg.walk() if p.get_content_type() == "text/plain").get_content()

    assert "We recently solved your request T7." in text_of("solved")
    assert "solved" not in text_of("on_demand") and "how we did with your request T7" in text_of("on_demand")
