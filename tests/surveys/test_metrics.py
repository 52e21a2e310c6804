"""Measuring the surveys themselves (issue 16, item 6; docs/surveys.md "Measuring the surveys
themselves"): response rate by delay band and by fatigue band, time to answer, answers per day,
sends and reminders, every number worked out by hand from the small set below."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import cxmetrics

# 13 sends. Customer C1 gets seven surveys over March (its ordinals 1..6+ are the fatigue bands),
# C2, C3 and C4 two each, and one employee survey names no one. delay_s: 1800 is '< 1h', 3600 and
# 7200 '1-4h' (1 h itself is in 1-4h), 14400 '4-24h' (4 h itself), 86400 and 259200 '1-3d' (3 d
# itself), 300000 '> 3d', none 'none'. S3 and S4 are two sends for the same ticket T3.
SENDS = """send_id,ticket_id,customer_id,kind,sent_at,channel,survey,trigger,delivery,language,delay_s,reminded_at
S1,T1,C1,csat,2025-03-01T10:00:00Z,email,csat_solve,solved,email,en,1800,2025-03-04T10:00:00Z
S2,T2,C1,csat,2025-03-05T10:00:00Z,email,csat_solve,solved,email,en,7200,
S3,T3,C1,csat,2025-03-09T10:00:00Z,email,csat_solve,solved,email,en,7200,2025-03-12T10:00:00Z
S4,T3,C1,csat,2025-03-12T10:00:00Z,email,csat_solve,solved,email,en,86400,
S5,T5,C2,csat,2025-03-01T12:00:00Z,email,csat_solve,solved,email,de,1800,
S6,T6,C2,csat,2025-03-02T10:00:00Z,chat,csat_chat,solved,email,en,14400,2025-03-05T10:00:00Z
S7,T7,C3,csat,2025-03-03T10:00:00Z,chat,csat_chat,solved,link,en,3600,
S8,,C3,nps,2025-03-10T10:00:00Z,,nps_rel,relationship,email,en,,
S9,T9,C4,csat,2025-03-04T10:00:00Z,email,csat_solve,solved,email,en,259200,
S10,T10,C4,csat,2025-03-08T10:00:00Z,email,csat_solve,solved,email,en,300000,
S11,,,esat,2025-03-06T10:00:00Z,,esat_q,on_demand,email,en,,
S12,T12,C1,csat,2025-03-14T10:00:00Z,email,csat_solve,solved,email,en,1800,
S13,T13,C1,csat,2025-03-16T10:00:00Z,email,csat_solve,solved,email,en,1800,
"""
# Answers: A1-A6 and A8 name their send; A7 names none (imported from another tool) and answers
# S10 by its ticket; A10 has no send time (so no time to answer; an answer dated before its send is
# quarantined by the import, and would have none either).
# Time to answer: A1 1 h, A2 2 h, A3 30 min, A4 1 d, A5 4 h, A6 10 min, A7 5 h, A8 3 h.
ANSWERS = """response_id,ticket_id,customer_id,kind,scale,score,sent_at,responded_at,send_id
A1,T1,C1,csat,1-5,5,2025-03-01T10:00:00Z,2025-03-01T11:00:00Z,S1
A2,T5,C2,csat,1-5,4,2025-03-01T12:00:00Z,2025-03-01T14:00:00Z,S5
A3,T7,C3,csat,1-5,5,2025-03-03T10:00:00Z,2025-03-03T10:30:00Z,S7
A4,T2,C1,csat,1-5,3,2025-03-05T10:00:00Z,2025-03-06T10:00:00Z,S2
A5,T9,C4,csat,1-5,5,2025-03-04T10:00:00Z,2025-03-04T14:00:00Z,S9
A6,T3,C1,csat,1-5,1,2025-03-12T10:00:00Z,2025-03-12T10:10:00Z,S4
A7,T10,C4,csat,1-5,4,2025-03-08T10:00:00Z,2025-03-08T15:00:00Z,
A8,T13,C1,csat,1-5,2,2025-03-16T10:00:00Z,2025-03-16T13:00:00Z,S13
A10,,C8,csat,1-5,4,,2025-03-06T18:00:00Z,
"""


@pytest.fixture
def ws(tmp_path: Path) -> Any:
    with cxmetrics.open(tmp_path / "ws", create=True) as w:
        (tmp_path / "sends.csv").write_text(SENDS, encoding="utf-8")
        (tmp_path / "answers.csv").write_text(ANSWERS, encoding="utf-8")
        assert w.import_file("survey_sends", tmp_path / "sends.csv").quarantined == 0
        assert w.import_file("surveys", tmp_path / "answers.csv").quarantined == 0
        yield w


def by(ws: Any, metric: str, dim: str, **kw: Any) -> dict[str, tuple[float | None, int]]:
    return {r[dim]: (r["value"], r["n"]) for r in ws.metrics([metric], by=dim, **kw).to_pylist()}


def one(ws: Any, metric: str, **kw: Any) -> dict[str, Any]:
    rows = ws.metrics([metric], **kw).to_pylist()
    assert len(rows) == 1, rows
    return rows[0]


def test_an_answer_that_names_its_send_answers_that_send_only(ws: Any) -> None:
    # S3 and S4 share ticket T3; A6 names S4. Matching by ticket would count S3 answered too.
    # Answered: S1 S2 S4 S5 S7 S9 S13 by send id, S10 by A7's ticket -> 8 of 13
    r = one(ws, "survey_response_rate")
    assert (r["value"], r["n"]) == (pytest.approx(100 * 8 / 13), 13)
    rows = ws.sql("SELECT send_id, answered FROM (" + _source("survey_sends") + ") ORDER BY send_id").to_pylist()
    answered = {x["send_id"] for x in rows if x["answered"]}
    assert answered == {"S1", "S2", "S4", "S5", "S7", "S9", "S10", "S13"}


def test_response_rate_by_delay_band(ws: Any) -> None:
    # < 1h: S1 a, S5 a, S12 -, S13 a -> 3/4; 1-4h: S2 a, S3 -, S7 a -> 2/3; 4-24h: S6 - -> 0/1;
    # 1-3d: S4 a, S9 a -> 2/2; > 3d: S10 a -> 1/1; none: S8 -, S11 - -> 0/2
    got = by(ws, "survey_response_rate", "survey_delay")
    assert got == {"< 1h": (pytest.approx(75.0), 4), "1-4h": (pytest.approx(200 / 3), 3), "4-24h": (0.0, 1),
                   "1-3d": (100.0, 2), "> 3d": (100.0, 1), "none": (0.0, 2)}


def test_response_rate_by_surveys_received(ws: Any) -> None:
    # ordinals by send time per customer: C1 S1 1, S2 2, S3 3, S4 4, S12 5, S13 6; C2 S5 1, S6 2;
    # C3 S7 1, S8 2; C4 S9 1, S10 2; S11 names no one.
    # 1: S1 S5 S7 S9 all answered -> 4/4; 2: S2 a, S6 -, S8 -, S10 a -> 2/4; 3: S3 - -> 0/1;
    # 4-5: S4 a, S12 - -> 1/2; 6+: S13 a -> 1/1; unknown: S11 - -> 0/1
    got = by(ws, "survey_response_rate", "surveys_received")
    assert got == {"1": (100.0, 4), "2": (50.0, 4), "3": (0.0, 1), "4-5": (50.0, 2), "6+": (100.0, 1),
                   "unknown": (0.0, 1)}
    # a period or a filter does not renumber: C1's March 14 send is still its fifth
    got = by(ws, "survey_sends", "surveys_received", start="2025-03-13", end="2025-04-01")
    assert got == {"4-5": (1.0, 1), "6+": (1.0, 1)}


def test_fatigue_counts_a_ticket_send_by_its_requester(survey_ws: Any, tmp_path: Path) -> None:
    # survey_ws (tests/surveys/conftest.py): tickets S2 and S7 were asked by customer C2, S1 by C1;
    # the sends name the tickets only, so the customer is the ticket's requester
    (tmp_path / "s.csv").write_text("send_id,ticket_id,kind,sent_at\nX1,S2,csat,2026-03-03T17:00:00Z\n"
                                    "X2,S7,csat,2026-03-04T20:00:00Z\nX3,S1,csat,2026-03-02T16:00:00Z\n",
                                    encoding="utf-8")
    survey_ws.import_file("survey_sends", tmp_path / "s.csv")
    survey_ws.refresh()
    rows = survey_ws.sql("SELECT send_id, surveys_received FROM (" + _source("survey_sends") + ") ORDER BY 1")
    assert [tuple(r.values()) for r in rows.to_pylist()] == [("X1", "1"), ("X2", "2"), ("X3", "1")]


def test_response_rate_by_survey_trigger_delivery_and_language(ws: Any) -> None:
    # csat_solve: S1 S2 S3 S4 S5 S9 S10 S12 S13, answered all but S3 and S12 -> 7/9;
    # csat_chat: S6 -, S7 a -> 1/2; nps_rel 0/1; esat_q 0/1
    assert by(ws, "survey_response_rate", "survey") == {
        "csat_solve": (pytest.approx(700 / 9), 9), "csat_chat": (50.0, 2), "nps_rel": (0.0, 1), "esat_q": (0.0, 1)}
    assert by(ws, "survey_sends", "survey_trigger") == {"solved": (11.0, 11), "relationship": (1.0, 1),
                                                         "on_demand": (1.0, 1)}
    assert by(ws, "survey_response_rate", "survey_delivery") == {"email": (pytest.approx(700 / 12), 12),
                                                                 "link": (100.0, 1)}
    assert by(ws, "survey_response_rate", "survey_language", where={"survey_language": "DE"}) == {"de": (100.0, 1)}
    # the survey dimensions are refused for metrics that are not about surveys
    with pytest.raises(cxmetrics.UserError, match="survey dimension"):
        ws.metrics(["frt"], by="survey_delay")


def test_time_to_answer(ws: Any) -> None:
    # A1 3600, A2 7200, A3 1800, A4 86400, A5 14400, A6 600, A7 18000, A8 10800 (A10, without a
    # send time, has none): sorted 600 1800 3600 7200 10800
    # 14400 18000 86400 -> median (7200 + 10800) / 2 = 9000, mean 142800 / 8 = 17850
    r = one(ws, "survey_time_to_answer")
    assert (r["value"], r["n"]) == (pytest.approx(9000.0), 8)
    assert one(ws, "survey_time_to_answer_mean")["value"] == pytest.approx(17850.0)
    # p90 (linear interpolation, as every _p90): position 0.9 * 7 = 6.3 -> 18000 + 0.3 * 68400
    assert one(ws, "survey_time_to_answer_p90")["value"] == pytest.approx(18000 + 0.3 * 68400)


def test_time_to_answer_counts_the_first_answer_not_the_last_edit(ws: Any) -> None:
    # A2 (S5, sent 1 Mar 12:00) was first answered at 14:00 and edited a day later: its row's
    # responded_at moves to the edit, its time to answer stays 2 h (survey_answers' first answer)
    ws.con.execute("INSERT INTO survey_answers VALUES ('default', 'S5', '2025-03-01T14:00:00Z', "
                   "'2025-03-02T14:00:00Z', 2)")
    ws.con.execute("UPDATE surveys_stored SET responded_at = '2025-03-02T14:00:00Z' WHERE response_id = 'A2'")
    r = one(ws, "survey_time_to_answer")
    assert (r["value"], r["n"]) == (pytest.approx(9000.0), 8)


def test_time_to_answer_is_elapsed_time_across_a_clock_change(tmp_path: Any) -> None:
    """Sent on Saturday 29 March 2025 at noon in Berlin, answered on Monday at noon: the
    clocks went forward on Sunday, so 47 hours passed, not the 48 the calendar shows."""
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        ws.configure(timezone="Europe/Berlin")
        (tmp_path / "a.csv").write_text(
            "response_id,customer_id,kind,scale,score,sent_at,responded_at\n"
            "B1,C1,csat,1-5,5,2025-03-29T12:00:00+01:00,2025-03-31T12:00:00+02:00\n", encoding="utf-8")
        assert ws.import_file("surveys", tmp_path / "a.csv").quarantined == 0
        assert one(ws, "survey_time_to_answer")["value"] == 47 * 3600


def test_answers_per_day_sends_and_reminders(ws: Any) -> None:
    # answers by their answer day: 1 Mar A1 A2; 3 Mar A3; 4 Mar A5; 6 Mar A4 A10; 8 Mar A7;
    # 12 Mar A6; 16 Mar A8
    got = {str(r["period"]): r["value"] for r in ws.metrics(["survey_answers"], grain="day").to_pylist()}
    assert got == {"2025-03-01": 2, "2025-03-03": 1, "2025-03-04": 1, "2025-03-06": 2, "2025-03-08": 1,
                   "2025-03-12": 1, "2025-03-16": 1}
    assert one(ws, "survey_sends")["value"] == 13
    # reminded: S1, S3 and S6 -> 3 of 13
    r = one(ws, "survey_reminded_share")
    assert (r["value"], r["n"]) == (pytest.approx(300 / 13), 13)


def test_csat_by_the_delay_of_the_send_it_answers(ws: Any) -> None:
    # answers naming a '< 1h' send: A1 (S1) 5, A2 (S5) 4, A8 (S13) 2 -> top box 2 of 3; the answers
    # naming no send (A7 4, A10 4: both top box) have no band
    got = by(ws, "csat", "survey_delay")
    assert got["< 1h"] == (pytest.approx(200 / 3), 3)
    assert got[None] == (100.0, 2)
    # 1-4h: A3 (S7) 5, A4 (S2) 3 -> 1 of 2; 1-3d: A5 (S9) 5, A6 (S4) 1 -> 1 of 2
    assert (got["1-4h"], got["1-3d"]) == ((50.0, 2), (50.0, 2))


def _source(name: str) -> str:
    from cxmetrics.metrics._sources import SOURCES

    return SOURCES[name].sql
