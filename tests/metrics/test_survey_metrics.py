"""Survey metrics on hand-worked answer sets (METRICS.md, "Survey metrics")."""

from __future__ import annotations

import math

import pytest

import cxmetrics

from conftest import write

pytestmark = pytest.mark.engines  # every scenario on DuckDB and on Spark (tests/_engines.py)

HEADER = "response_id,ticket_id,customer_id,kind,scale,score,sent_at,responded_at\n"


def answers(ws, tmp_path, spec: list[tuple[str, str, float, int]], name: str = "s.csv") -> None:
    """spec: (kind, scale, score, how many)."""
    lines, i = [], 0
    for kind, scale, score, count in spec:
        for _ in range(count):
            i += 1
            lines.append(f"R{i},,C{i},{kind},{scale},{score:g},2025-03-0{1 + i % 5}T10:00:00Z,2025-03-0{1 + i % 5}T12:00:00Z\n")
    s = ws.import_file("surveys", write(tmp_path / name, HEADER + "".join(lines)))
    assert s.quarantined == 0


def value(ws, metric: str, **kw) -> dict:
    rows = ws.metrics([metric], **kw).to_pylist()
    assert len(rows) == 1, rows
    return rows[0]


def wilson_by_hand(k: int, n: int) -> tuple[float, float]:
    z = 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return 100 * (centre - half), 100 * (centre + half)


def test_csat_worked_check_from_metrics_md(ws, tmp_path):
    # 5:42, 4:32, 3:10, 2:9, 1:14 -> top box 74/107 = 69.16%; a neutral 3 is not satisfied
    answers(ws, tmp_path, [("csat", "1-5", 5, 42), ("csat", "1-5", 4, 32), ("csat", "1-5", 3, 10),
                           ("csat", "1-5", 2, 9), ("csat", "1-5", 1, 14)])
    csat = value(ws, "csat")
    assert csat["n"] == 107 and csat["value"] == pytest.approx(100 * 74 / 107, abs=1e-9)
    lo, hi = wilson_by_hand(74, 107)
    assert (csat["ci_low"], csat["ci_high"]) == (pytest.approx(lo, abs=1e-9), pytest.approx(hi, abs=1e-9))
    assert csat["flags"] == []
    # bottom box: 2s and 1s = 23/107
    assert value(ws, "dsat")["value"] == pytest.approx(100 * 23 / 107, abs=1e-9)
    # mean: (5*42 + 4*32 + 3*10 + 2*9 + 1*14) / 107 = 400/107
    assert value(ws, "csat_mean")["value"] == pytest.approx(400 / 107, abs=1e-9)


def test_csat_other_scales(ws, tmp_path):
    # 1-10: top box is 8-10, bottom 1-5: [8, 7, 5, 10] -> 2/4 satisfied, 1/4 dissatisfied
    # good/bad: 3 good, 1 bad -> 3/4; together 5/8
    answers(ws, tmp_path, [("csat", "1-10", 8, 1), ("csat", "1-10", 7, 1), ("csat", "1-10", 5, 1),
                           ("csat", "1-10", 10, 1), ("csat", "good/bad", 1, 3), ("csat", "good/bad", 0, 1)])
    assert value(ws, "csat")["value"] == pytest.approx(100 * 5 / 8)
    assert value(ws, "dsat")["value"] == pytest.approx(100 * 2 / 8)
    assert value(ws, "csat")["flags"] == ["small_sample"]


def test_nps_worked_check_and_interval(ws, tmp_path):
    # 60 promoters (9-10), 25 passives (7-8), 15 detractors (0-6, a 6 included) -> 45
    answers(ws, tmp_path, [("nps", "0-10", 10, 40), ("nps", "0-10", 9, 20), ("nps", "0-10", 8, 15),
                           ("nps", "0-10", 7, 10), ("nps", "0-10", 6, 10), ("nps", "0-10", 0, 5)])
    nps = value(ws, "nps")
    assert nps["n"] == 100 and nps["value"] == pytest.approx(45.0)
    # the score interval (docs/statistics.md), solved the slow way by the pandas reference;
    # at n = 100 it is close to, and a little left of, the plug-in 45 -/+ 1.96 * 100 * sqrt(0.5475 / 100)
    import reference_pandas

    lo, hi = reference_pandas.nps_score_interval(60, 15, 100)
    assert nps["ci_low"] == pytest.approx(lo) and nps["ci_high"] == pytest.approx(hi)
    wald = 1.959963984540054 * 100 * math.sqrt((0.75 - 0.45 ** 2) / 100)
    assert abs(lo - (45 - wald)) < 1.5 and abs(hi - (45 + wald)) < 1.5
    assert value(ws, "nps_promoters")["value"] == pytest.approx(60.0)
    assert value(ws, "nps_passives")["value"] == pytest.approx(25.0)
    assert value(ws, "nps_detractors")["value"] == pytest.approx(15.0)


def test_a_six_is_a_detractor(ws, tmp_path):
    answers(ws, tmp_path, [("nps", "0-10", 6, 1)])
    assert value(ws, "nps")["value"] == pytest.approx(-100.0)


def test_ces_mean_and_easy_share_keep_each_scale(ws, tmp_path):
    # 1-7 answers 7, 5, 4 and a 1-5 answer 4 (mapped to 1 + 6 * 3/4 = 5.5 on 1-7)
    # mean = (7 + 5 + 4 + 5.5) / 4 = 5.375; easy: 7, 5 (>= 5 on 1-7) and 4 (>= 4 on 1-5) -> 3/4
    answers(ws, tmp_path, [("ces", "1-7", 7, 1), ("ces", "1-7", 5, 1), ("ces", "1-7", 4, 1), ("ces", "1-5", 4, 1)])
    assert value(ws, "ces")["value"] == pytest.approx(5.375)
    assert value(ws, "ces_easy")["value"] == pytest.approx(75.0)


def test_esat_is_csat_over_employee_answers(ws, tmp_path):
    answers(ws, tmp_path, [("esat", "1-5", 5, 2), ("esat", "1-5", 3, 2), ("csat", "1-5", 1, 5)])
    assert value(ws, "esat")["value"] == pytest.approx(50.0)
    assert value(ws, "esat")["n"] == 4


def test_response_rate(ws, tmp_path):
    sends = "send_id,ticket_id,customer_id,kind,sent_at,channel\n" + "".join(
        f"S{i},T{i},C{i},csat,2025-03-01T10:00:00Z,email\n" for i in range(1, 5))
    ws.import_file("survey_sends", write(tmp_path / "sends.csv", sends))
    ws.import_file("surveys", write(tmp_path / "a.csv", HEADER + "R1,T2,C2,csat,1-5,5,2025-03-01T10:00:00Z,2025-03-02T10:00:00Z\n"))
    # 4 sends, one answered
    assert value(ws, "survey_response_rate")["value"] == pytest.approx(25.0)


def test_no_answers_is_undefined_not_zero(ws, tmp_path):
    answers(ws, tmp_path, [("nps", "0-10", 9, 3)])
    assert ws.metrics(["csat"]).to_pylist() == [] or value(ws, "csat")["value"] is None


# -- more hand-worked scenarios, so each survey metric has at least three -----------------

def test_dsat_and_mean_on_a_single_scale_edge(ws, tmp_path):
    # all 3s: nobody satisfied, nobody dissatisfied; mean 3
    answers(ws, tmp_path, [("csat", "1-5", 3, 4)])
    assert value(ws, "csat")["value"] == 0.0 and value(ws, "dsat")["value"] == 0.0
    assert value(ws, "csat_mean")["value"] == 3.0
    lo, hi = wilson_by_hand(0, 4)
    assert (value(ws, "csat")["ci_low"], value(ws, "csat")["ci_high"]) == (0.0, pytest.approx(hi))


def test_csat_mean_maps_other_scales_onto_1_to_5(ws, tmp_path):
    # 1-10 score 10 -> 5; 1-10 score 1 -> 1; good -> 5; bad -> 1: mean (5 + 1 + 5 + 1) / 4 = 3
    # 1-3 score 2 -> 1 + 4 * 1/2 = 3
    answers(ws, tmp_path, [("csat", "1-10", 10, 1), ("csat", "1-10", 1, 1), ("csat", "good/bad", 1, 1),
                           ("csat", "good/bad", 0, 1), ("csat", "1-3", 2, 1)])
    assert value(ws, "csat_mean")["value"] == pytest.approx(3.0)
    # dsat: 1-10 score 1 and bad -> 2 of 5; the 1-3 middle is neither
    assert value(ws, "dsat")["value"] == pytest.approx(40.0)


def test_ces_on_the_five_point_scale_alone(ws, tmp_path):
    # 1-5 answers 5, 4, 2: mapped onto 1-7 as 7, 5.5, 2.5 -> mean 5.0; easy = 4-5 -> 2/3
    answers(ws, tmp_path, [("ces", "1-5", 5, 1), ("ces", "1-5", 4, 1), ("ces", "1-5", 2, 1)])
    assert value(ws, "ces")["value"] == pytest.approx(5.0)
    assert value(ws, "ces_easy")["value"] == pytest.approx(200 / 3)


def test_a_mean_interval_stays_on_its_scale(ws, tmp_path):
    # two CES answers, 2 and 6: mean 4, sd 2.83; the t interval (1 degree of freedom, t = 12.71)
    # is 4 -+ 25.4, far past the 1-7 scale, where the mean cannot be: it is kept to 1-7
    answers(ws, tmp_path, [("ces", "1-7", 2, 1), ("ces", "1-7", 6, 1)])
    got = value(ws, "ces")
    assert (got["value"], got["n"], got["ci_low"], got["ci_high"]) == (4.0, 2, 1.0, 7.0)
    # with more answers the interval is the plain t interval, inside the scale
    answers(ws, tmp_path, [("ces", "1-7", v, 1) for v in (2, 6, 4, 5, 3, 4, 5, 3)], name="more.csv")  # (R1, R2 again)
    got = value(ws, "ces")  # 2, 6, 4, 5, 3, 4, 5, 3: mean 4, sd = sqrt(12/7); t(0.975, 7) = 2.3646
    half = 2.3646 * (12 / 7) ** 0.5 / 8 ** 0.5
    assert got["ci_low"] == pytest.approx(4 - half, abs=1e-3) and got["ci_high"] == pytest.approx(4 + half, abs=1e-3)


def test_ces_hard_answers(ws, tmp_path):
    # 1-7 answers 1, 2, 3, 4: none easy (5-7); mean 2.5; n = 4 is a small sample
    answers(ws, tmp_path, [("ces", "1-7", s, 1) for s in (1, 2, 3, 4)])
    assert value(ws, "ces_easy")["value"] == 0.0 and value(ws, "ces")["value"] == pytest.approx(2.5)
    assert value(ws, "ces")["flags"] == ["small_sample"]


def test_nps_shares_add_up_and_all_promoters(ws, tmp_path):
    # 7 nines and 3 eights: NPS 70, passives 30, detractors 0; the interval stays within +-100
    answers(ws, tmp_path, [("nps", "0-10", 9, 7), ("nps", "0-10", 8, 3)])
    nps = value(ws, "nps")
    assert nps["value"] == pytest.approx(70.0) and -100 <= nps["ci_low"] <= nps["ci_high"] <= 100
    shares = [value(ws, m)["value"] for m in ("nps_promoters", "nps_passives", "nps_detractors")]
    assert shares == pytest.approx([70.0, 30.0, 0.0])


def test_esat_other_scales_and_no_answers(ws, tmp_path):
    # esat on 1-10: 9 and 8 satisfied, 7 not -> 2/3
    answers(ws, tmp_path, [("esat", "1-10", 9, 1), ("esat", "1-10", 8, 1), ("esat", "1-10", 7, 1)])
    assert value(ws, "esat")["value"] == pytest.approx(200 / 3)
    assert value(ws, "esat")["n"] == 3


def test_esat_with_only_customer_answers_is_undefined(ws, tmp_path):
    answers(ws, tmp_path, [("csat", "1-5", 5, 3)])
    row = value(ws, "esat")
    assert row["value"] is None and row["n"] == 0 and "undefined" in row["flags"]


def test_response_rate_by_channel_and_kind(ws, tmp_path):
    # email: 2 csat sends, both answered (100%); chat: 2 sends, none answered (0%);
    # a csat answer does not answer a ces send of the same ticket
    sends = "send_id,ticket_id,customer_id,kind,sent_at,channel\n" + "".join([
        "S1,T1,C1,csat,2025-03-01T10:00:00Z,email\n", "S2,T2,C2,csat,2025-03-01T10:00:00Z,email\n",
        "S3,T3,C3,csat,2025-03-01T10:00:00Z,chat\n", "S4,T4,C4,csat,2025-03-01T10:00:00Z,chat\n",
        "S5,T1,C1,ces,2025-03-01T10:00:00Z,email\n"])
    ws.import_file("survey_sends", write(tmp_path / "sends.csv", sends))
    ws.import_file("surveys", write(tmp_path / "a.csv", HEADER
                                    + "R1,T1,C1,csat,1-5,5,2025-03-01T10:00:00Z,2025-03-02T10:00:00Z\n"
                                    + "R2,T2,C2,csat,1-5,2,2025-03-01T10:00:00Z,2025-03-02T10:00:00Z\n"))
    got = {r["channel"]: r["value"] for r in ws.metrics(["survey_response_rate"], by="channel",
                                                        where={"channel": ["email", "chat"]}).to_pylist()}
    # email: S1, S2 answered, S5 (ces) not -> 2/3
    assert got == {"email": pytest.approx(200 / 3), "chat": 0.0}


def test_response_rate_without_answers(ws, tmp_path):
    sends = "send_id,ticket_id,customer_id,kind,sent_at\nS1,T1,C1,nps,2025-03-01T10:00:00Z\n"
    ws.import_file("survey_sends", write(tmp_path / "sends.csv", sends))
    assert value(ws, "survey_response_rate")["value"] == 0.0


def test_response_rate_matches_sends_without_a_ticket(ws, tmp_path):
    # relationship NPS (no ticket): matched by customer and send time; employee surveys (no
    # ticket, no customer): matched by count within their batch (kind and send time)
    sends = "send_id,ticket_id,customer_id,kind,sent_at\n" + "".join([
        "N1,,C1,nps,2025-03-01T10:00:00Z\n", "N2,,C2,nps,2025-03-01T10:00:00Z\n",
        "N3,,C1,nps,2025-06-01T10:00:00Z\n",                       # C1 answered March's, not June's
        "E1,,,esat,2025-03-03T09:00:00Z\n", "E2,,,esat,2025-03-03T09:00:00Z\n",
        "E3,,,esat,2025-03-03T09:00:00Z\n", "E4,,,esat,2025-03-03T09:00:00Z\n"])
    ws.import_file("survey_sends", write(tmp_path / "sends.csv", sends))
    ws.import_file("surveys", write(tmp_path / "a.csv", HEADER
                                    + "R1,,C1,nps,0-10,9,2025-03-01T10:00:00Z,2025-03-02T10:00:00Z\n"
                                    + "R2,,,esat,1-5,4,2025-03-03T09:00:00Z,2025-03-03T12:00:00Z\n"
                                    + "R3,,,esat,1-5,5,2025-03-03T09:00:00Z,2025-03-04T12:00:00Z\n"
                                    + "R4,,,esat,1-5,2,2025-03-03T09:00:00Z,2025-03-05T12:00:00Z\n"))
    rate = lambda kind: value(ws, "survey_response_rate", where={"survey_kind": kind})  # noqa: E731
    # nps: N1 answered, N2 and N3 not -> 1/3; esat: 3 answers for 4 sends -> 3/4
    assert (rate("nps")["value"], rate("nps")["n"]) == (pytest.approx(100 / 3), 3)
    assert (rate("esat")["value"], rate("esat")["n"]) == (pytest.approx(75.0), 4)
    # all kinds: 4 answered of 7
    assert value(ws, "survey_response_rate")["value"] == pytest.approx(400 / 7)
    by_kind = {r["survey_kind"]: r["n"] for r in ws.metrics(["survey_response_rate"], by="survey_kind").to_pylist()}
    assert by_kind == {"nps": 3, "esat": 4}
    with pytest.raises(cxmetrics.UserError, match="survey dimension"):
        ws.metrics(["frt"], by="survey_kind")


def test_answers_without_ticket_dimensions_leave_out_excluded_tickets_and_date_undated_ones(ws, tmp_path):
    # A request with no ticket dimension reads the answers without joining every ticket's facts
    # (issue 17); it must still drop answers on spam tickets and place an undated answer at its
    # ticket's solve, exactly as a request by channel does.
    ws.import_file("tickets", write(tmp_path / "t.csv", "ticket_id,created_at,channel,status,solved_at\n"
                                    "T1,2025-03-01T08:00:00Z,email,solved,2025-03-01T09:00:00Z\n"
                                    "T2,2025-03-01T08:00:00Z,email,spam,\n"
                                    "T3,2025-03-02T08:00:00Z,chat,solved,2025-03-04T09:00:00Z\n"))
    ws.import_file("surveys", write(tmp_path / "a.csv", HEADER
                                    + "R1,T1,C1,csat,1-5,5,2025-03-01T10:00:00Z,2025-03-01T11:00:00Z\n"
                                    + "R2,T2,C2,csat,1-5,1,2025-03-01T10:00:00Z,2025-03-01T11:00:00Z\n"
                                    + "R3,T3,C3,csat,1-5,2,,\n"
                                    + "R4,,C4,csat,1-5,4,2025-03-02T10:00:00Z,2025-03-02T11:00:00Z\n"))
    ws.refresh()
    # R2 is on a spam ticket: left out. R1 (5) and R4 (4) satisfied, R3 (2) not: 2 of 3
    whole = value(ws, "csat", start="2025-03-01", end="2025-03-08")
    assert (whole["n"], whole["value"]) == (3, pytest.approx(200 / 3))
    by_channel = {r["channel"]: r["n"] for r in ws.metrics(["csat"], by="channel", start="2025-03-01",
                                                           end="2025-03-08").to_pylist()}
    assert by_channel == {"email": 1, "chat": 1, None: 1}
    # the undated R3 is answered when T3 was solved, 4 March: alone in that day
    day = value(ws, "csat", start="2025-03-04", end="2025-03-05")
    assert (day["n"], day["value"]) == (1, 0.0)
    assert value(ws, "csat", where={"survey_kind": "csat"}, start="2025-03-01", end="2025-03-08")["n"] == 3


def test_a_query_reading_a_column_of_the_full_rows_gets_the_full_rows():
    # the leaner SQL of a source (no send bands, no fatigue window, no ticket join) serves only
    # the requests that read none of the columns it lacks, whether asked as a dimension or used
    # by a metric's own expression (a custom metric may test survey_delay or surveys_received)
    from cxmetrics.metrics._sources import SOURCES

    answers, sends = SOURCES["surveys"], SOURCES["survey_sends"]
    assert answers.sql_for([], {"kind", "score", "answered_at"}) == answers.bare_sql
    assert answers.sql_for(["channel"], {"kind", "channel"}) == answers.lean_sql
    assert answers.sql_for([], {"kind", "survey_delay"}) == answers.sql
    assert answers.sql_for(["survey_delay"], {"kind"}) == answers.sql
    assert sends.sql_for([], {"kind", "answered", "survey_delay"}) == sends.bare_sql
    assert sends.sql_for(["channel"], {"kind", "answered", "channel"}) == sends.lean_sql  # (the ticket's channel)
    assert sends.sql_for([], {"kind", "answered", "assignee_id"}) == sends.lean_sql
    assert sends.sql_for([], {"kind", "surveys_received"}) == sends.sql
    assert sends.sql_for(["surveys_received"], {"kind"}) == sends.sql
