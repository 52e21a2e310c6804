"""Tests of change between periods, with hand-worked statistics (issue 3, item 4)."""

from __future__ import annotations

import math

import pytest

from conftest import write

SURVEYS = "response_id,kind,scale,score,responded_at\n"


def _answers(rows: list[tuple[str, int, int, str]]) -> str:
    """(kind, score, how many, day) -> CSV lines."""
    out, i = [], 0
    for kind, score, count, day in rows:
        for _ in range(count):
            i += 1
            out.append(f"R{i},{kind},,{score},{day}T12:00:00Z\n")
    return SURVEYS + "".join(out)


A = ("2025-01-01", "2025-02-01")
B = ("2025-02-01", "2025-03-01")


def test_proportion_change(ws, tmp_path):
    # January 50/100 satisfied, February 70/100
    ws.import_file("surveys", write(tmp_path / "s.csv", _answers([
        ("csat", 5, 50, "2025-01-10"), ("csat", 1, 50, "2025-01-10"), ("csat", 4, 70, "2025-02-10"), ("csat", 2, 30, "2025-02-10")])))
    row = ws.compare(["csat"], A, B).to_pylist()[0]
    # diff 20 points; unpooled se sqrt(.25/100 + .21/100); pooled se0 sqrt(.6*.4*2/100)
    se = math.sqrt(0.0046)
    assert row["change"] == pytest.approx(20.0)
    assert row["ci_low"] == pytest.approx(100 * (0.2 - 1.959963984540054 * se))
    assert row["p_value"] == pytest.approx(math.erfc(0.2 / math.sqrt(0.6 * 0.4 * 0.02) / math.sqrt(2)))
    assert row["significant"] is True and row["test"] == "two-proportion z"


def test_nps_change_with_its_own_variance(ws, tmp_path):
    # January: 30 promoters, 50 passives, 20 detractors -> +10; February: 50/40/10 -> +40
    ws.import_file("surveys", write(tmp_path / "s.csv", _answers([
        ("nps", 10, 30, "2025-01-10"), ("nps", 7, 50, "2025-01-10"), ("nps", 3, 20, "2025-01-10"),
        ("nps", 9, 50, "2025-02-10"), ("nps", 8, 40, "2025-02-10"), ("nps", 6, 10, "2025-02-10")])))
    row = ws.compare(["nps"], A, B).to_pylist()[0]
    # var_a = 1e4 (0.3 + 0.2 - 0.1^2)/100 = 49, var_b = 1e4 (0.5 + 0.1 - 0.4^2)/100 = 44 -> se = sqrt(93)
    se = math.sqrt(93)
    assert (row["a_value"], row["b_value"], row["change"]) == pytest.approx((10.0, 40.0, 30.0))
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((30 - 1.959963984540054 * se, 30 + 1.959963984540054 * se))
    assert row["p_value"] == pytest.approx(math.erfc(30 / se / math.sqrt(2)))


def test_small_change_is_noise(ws, tmp_path):
    ws.import_file("surveys", write(tmp_path / "s.csv", _answers([
        ("csat", 5, 8, "2025-01-10"), ("csat", 1, 2, "2025-01-10"), ("csat", 5, 7, "2025-02-10"), ("csat", 1, 3, "2025-02-10")])))
    row = ws.compare(["csat"], A, B).to_pylist()[0]
    assert row["change"] == pytest.approx(-10.0) and row["significant"] is False
    assert "small_sample" in row["flags"]


def test_medians_use_mann_whitney(ws, tmp_path):
    # January first replies after 1, 2, 3 minutes; February after 4, 5, 6 minutes.
    # U1 = (1 + 2 + 3) - 3*4/2 = 0; mean 4.5; var = 9/12 * 7 = 5.25 -> z = -4.5 / sqrt(5.25)
    lines = ["event_id,ticket_id,ts,kind,actor_type,channel\n"]
    for i, (day, minutes) in enumerate([("01-10", 1), ("01-11", 2), ("01-12", 3), ("02-10", 4), ("02-11", 5), ("02-12", 6)]):
        lines.append(f"c{i},T{i},2025-{day}T09:00:00Z,created,customer,email\n")
        lines.append(f"r{i},T{i},2025-{day}T09:0{minutes}:00Z,message,agent,\n")
    ws.import_file("events", write(tmp_path / "e.csv", "".join(lines)))
    row = ws.compare(["frt"], A, B).to_pylist()[0]
    assert (row["a_value"], row["b_value"], row["change"]) == (120.0, 300.0, 180.0)
    assert row["p_value"] == pytest.approx(math.erfc(4.5 / math.sqrt(5.25) / math.sqrt(2)))
    assert row["test"].startswith("Mann-Whitney")


def test_compare_around_an_annotation(ws, tmp_path):
    ws.import_file("annotations", write(tmp_path / "a.csv", "annotation_id,ts,label,kind\nbot,2025-02-01T00:00:00Z,Bot launched,ai\n"))
    ws.import_file("surveys", write(tmp_path / "s.csv", _answers([("csat", 5, 10, "2025-01-20"), ("csat", 1, 10, "2025-02-10")])))
    row = ws.compare(["csat"], annotation="Bot launched", days=28).to_pylist()[0]
    assert (row["a_value"], row["b_value"]) == (100.0, 0.0) and row["significant"] is True
    from cxmetrics import UnknownNameError

    with pytest.raises(UnknownNameError, match="annotation 'nope'"):
        ws.compare(["csat"], annotation="nope")
