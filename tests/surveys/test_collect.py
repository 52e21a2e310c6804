"""Collecting answers (issue 16, item 4): `view` and `record` with a clock the test controls.

The expected values are worked out by hand from the small survey workspace of conftest.py
(ticket S1: requester C1, agent A1, German customer; S2: C2, English).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import cxmetrics
from cxmetrics.surveys import _sends
from cxmetrics.surveys._collect import AnswerError, AnswerProblem, clean_comment, record, view
from cxmetrics.surveys._tokens import TokenError, TokenProblem, make_token, send_id

from .conftest import NOW, SOURCE, write_surveys

CSAT = {"name": "csat", "kind": "csat", "trigger": "on_demand"}
SURVEYS = {"base_url": "https://cx.example.com", "edit_window": "7d",
           "surveys": [CSAT, {"name": "thumbs", "kind": "csat", "scale": "good/bad", "trigger": "on_demand"},
                       {"name": "nps", "kind": "nps", "trigger": "on_demand"}]}


def make_send(ws: cxmetrics.Workspace, ticket: str = "S1", survey: str = "csat", *, at: datetime = NOW,
              ttl: timedelta = timedelta(days=30)) -> tuple[str, str]:
    """A link send for `ticket` made at `at` (A's create_send) and a token for it: (send id, token)."""
    row = _sends.create_send(ws, survey, source=SOURCE, ticket_id=ticket, trigger="on_demand", delivery="link", now=at)
    return row["send_id"], make_token(ws.con, row["send_id"], at + ttl, at)


def answers(ws: cxmetrics.Workspace) -> list[dict[str, Any]]:
    return ws.sql("SELECT source, response_id, send_id, ticket_id, customer_id, agent_id, kind, scale, score, "
                  "comment, sent_at, responded_at, origin FROM surveys ORDER BY response_id").to_pylist()


@pytest.fixture
def ws(survey_ws: cxmetrics.Workspace) -> cxmetrics.Workspace:
    write_surveys(survey_ws.path, SURVEYS)
    return survey_ws


def test_a_first_answer_is_a_surveys_row_linked_to_its_send_ticket_agent_and_customer(ws: cxmetrics.Workspace) -> None:
    sid, token = make_send(ws, "S1")
    assert sid == send_id("csat", SOURCE, "ticket", "S1")  # the rules' id: one send per ticket per definition
    before = view(ws, token, now=NOW + timedelta(hours=1))
    assert (before.version, before.answered, before.language, before.scale) == (0, False, "de", "1-5")
    at = NOW + timedelta(hours=2)
    after = record(ws, token, score="4", comment="  Schnell\x00 und nett \r\n", version="0", now=at)
    assert (after.version, after.score, after.comment) == (1, 4.0, "Schnell und nett")
    assert after.editable_until == at + timedelta(days=7)
    [row] = answers(ws)
    assert row["response_id"] == row["send_id"] == sid
    assert (row["ticket_id"], row["customer_id"], row["agent_id"], row["kind"], row["scale"]) == \
        ("S1", "C1", "A1", "csat", "1-5")
    assert (row["score"], row["comment"], row["origin"]) == (4.0, "Schnell und nett", "collected")
    assert row["sent_at"] == NOW  # the link send's sent_at: when the link was made
    assert row["responded_at"] == at


def test_an_edit_within_the_window_updates_the_same_row(ws: cxmetrics.Workspace) -> None:
    _, token = make_send(ws)
    record(ws, token, score=2, comment="slow", version=0, now=NOW + timedelta(hours=1))
    changed = record(ws, token, score=5, comment="", version=1, now=NOW + timedelta(days=6))
    assert (changed.version, changed.score, changed.comment) == (2, 5.0, None)
    [row] = answers(ws)
    assert (row["score"], row["comment"], row["responded_at"]) == (5.0, None, NOW + timedelta(days=6))
    # the import log says the second write updated the row (nothing doubled)
    last = ws.sql("SELECT inserted, updated FROM imports WHERE file LIKE 'survey answer %' "
                  "ORDER BY started_at DESC LIMIT 1").to_pylist()
    assert last == [{"inserted": 0, "updated": 1}]


def test_after_the_edit_window_the_answer_is_closed(ws: cxmetrics.Workspace) -> None:
    _, token = make_send(ws)
    first = NOW + timedelta(hours=1)
    record(ws, token, score=3, comment=None, version=0, now=first)
    with pytest.raises(AnswerError) as exc:
        record(ws, token, score=5, comment=None, version=1, now=first + timedelta(days=7))
    assert exc.value.reason is AnswerProblem.CLOSED
    assert answers(ws)[0]["score"] == 3.0


@pytest.mark.parametrize("version", ["1", "", "x", "-1"])
def test_a_form_with_another_version_stores_nothing(ws: cxmetrics.Workspace, version: str) -> None:
    _, token = make_send(ws)
    with pytest.raises(AnswerError) as exc:
        record(ws, token, score=4, comment="hi", version=version, now=NOW)
    assert exc.value.reason is AnswerProblem.STALE
    assert answers(ws) == []
    assert ws.sql("SELECT count(*) AS n FROM survey_answers").to_pylist() == [{"n": 0}]


def test_the_same_form_posted_twice_stores_one_answer(ws: cxmetrics.Workspace) -> None:
    _, token = make_send(ws)
    record(ws, token, score=4, comment="first", version=0, now=NOW)
    with pytest.raises(AnswerError) as exc:
        record(ws, token, score=1, comment="replayed", version=0, now=NOW + timedelta(minutes=1))
    assert exc.value.reason is AnswerProblem.STALE
    assert [(r["score"], r["comment"]) for r in answers(ws)] == [(4.0, "first")]


@pytest.mark.parametrize(("survey", "score"), [("csat", "0"), ("csat", "6"), ("csat", "4.5"), ("csat", "four"),
                                               ("csat", None), ("nps", "11"), ("nps", "-1"), ("thumbs", "2"),
                                               ("thumbs", "meh")])
def test_a_score_off_the_scale_stores_nothing(ws: cxmetrics.Workspace, survey: str, score: str | None) -> None:
    _, token = make_send(ws, survey=survey)
    with pytest.raises(AnswerError) as exc:
        record(ws, token, score=score, comment="x", version=0, now=NOW)
    assert exc.value.reason is AnswerProblem.INVALID_SCORE
    assert answers(ws) == []


def test_the_ends_of_each_scale_are_accepted(ws: cxmetrics.Workspace) -> None:
    _, nps = make_send(ws, "S1", "nps")
    _, thumbs = make_send(ws, "S2", "thumbs")
    assert record(ws, nps, score="0", comment=None, version=0, now=NOW).score == 0.0
    assert record(ws, thumbs, score="good", comment=None, version=0, now=NOW).score == 1.0
    assert record(ws, thumbs, score="0", comment=None, version=1, now=NOW).score == 0.0  # bad, as stored
    rows = {r["ticket_id"]: (r["kind"], r["scale"], r["score"]) for r in answers(ws)}
    assert rows == {"S1": ("nps", "0-10", 0.0), "S2": ("csat", "good/bad", 0.0)}


def test_a_comment_over_5000_characters_stores_nothing(ws: cxmetrics.Workspace) -> None:
    _, token = make_send(ws)
    with pytest.raises(AnswerError) as exc:
        record(ws, token, score=4, comment="a" * 5001, version=0, now=NOW)
    assert exc.value.reason is AnswerProblem.TOO_LONG
    assert answers(ws) == []
    # 5,000 characters, plus space around them that is stripped, is fine
    assert len(record(ws, token, score=4, comment="  " + "a" * 5000 + "\n", version=0, now=NOW).comment or "") == 5000


def test_control_characters_are_removed_and_lines_kept() -> None:
    assert clean_comment("ok\x1b[31m red\x07\u202e") == "ok[31m red"
    assert clean_comment("line 1\r\nline 2\tend") == "line 1\nline 2\tend"
    assert clean_comment(None) == ""
    assert clean_comment("می\u200cخواهم 👩\u200d💻") == "می\u200cخواهم 👩\u200d💻"  # joiners are text


def test_a_token_for_a_send_that_does_not_exist_is_unknown(ws: cxmetrics.Workspace) -> None:
    token = make_token(ws.con, send_id("csat", SOURCE, "ticket", "NOPE"), NOW + timedelta(days=1), NOW)
    with pytest.raises(TokenError) as exc:
        view(ws, token, now=NOW)
    assert exc.value.problem is TokenProblem.UNKNOWN
    with pytest.raises(TokenError):
        record(ws, token, score=4, comment=None, version=0, now=NOW)
    assert answers(ws) == []


def test_an_answer_written_before_a_crash_is_kept_and_the_retry_updates_it(ws: cxmetrics.Workspace) -> None:
    """The answer row is written first, its edit state second: a crash between the two
    (simulated by removing the state) loses nothing, and the customer's retry of the same
    form (version 0) updates the one row rather than adding another."""
    _, token = make_send(ws)
    record(ws, token, score=2, comment="first try", version=0, now=NOW)
    ws.con.execute("DELETE FROM survey_answers")  # as if the process died before the state was written
    assert answers(ws)[0]["score"] == 2.0  # the answer is counted
    assert view(ws, token, now=NOW).version == 0  # the customer's form is still current
    again = record(ws, token, score=3, comment="second try", version=0, now=NOW + timedelta(minutes=1))
    assert again.version == 1
    assert [(r["score"], r["comment"]) for r in answers(ws)] == [(3.0, "second try")]


def test_an_e_mail_send_gives_its_delivery_time_as_sent_at(ws: cxmetrics.Workspace) -> None:
    sid, token = make_send(ws)
    delivered = NOW + timedelta(minutes=5)
    ws.con.execute("UPDATE survey_sends SET sent_at = ? WHERE send_id = ?", [delivered, sid])
    record(ws, token, score=5, comment=None, version=0, now=NOW + timedelta(hours=1))
    assert answers(ws)[0]["sent_at"] == delivered


def test_imported_answers_keep_their_origin_and_default_to_surveys(tmp_path: Path) -> None:
    """The surveys import kind lets a given origin through (surveys or collected) and
    refuses 'tickets', which marks the answers a flat ticket implies."""
    with cxmetrics.open(tmp_path / "ws", create=True) as w:
        table = pa.table({"response_id": ["R1", "R2", "R3"], "kind": ["csat"] * 3, "score": ["4", "5", "3"],
                          "responded_at": ["2026-03-01T10:00:00Z"] * 3, "origin": [None, "collected", "tickets"]})
        summary = w.import_table("surveys", table, source="s", label="t")
        assert (summary.inserted, summary.quarantined) == (2, 1)
        rows = w.sql("SELECT response_id, origin FROM surveys ORDER BY response_id").to_pylist()
        assert rows == [{"response_id": "R1", "origin": "surveys"}, {"response_id": "R2", "origin": "collected"}]
        plain = pa.table({"response_id": ["R9"], "kind": ["nps"], "score": ["9"],
                          "responded_at": ["2026-03-01T10:00:00Z"]})
        w.import_table("surveys", plain, source="s", label="t2")
        assert w.sql("SELECT origin FROM surveys WHERE response_id = 'R9'").to_pylist() == [{"origin": "surveys"}]
