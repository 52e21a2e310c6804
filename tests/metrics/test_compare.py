"""Tests of change between periods, with hand-worked statistics (issue 3, item 4)."""

from __future__ import annotations

import math
import random
from statistics import NormalDist

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


Z = 1.959963984540054
A = ("2025-01-01", "2025-02-01")
B = ("2025-02-01", "2025-03-01")


def _wilson(k: int, n: int, z: float = Z) -> tuple[float, float]:
    """Wilson's interval written out again, for hand checks."""
    p = k / n
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


def test_proportion_change_is_newcombe_with_its_own_p(ws, tmp_path):
    # Newcombe (1998), Statistics in Medicine 17:873, table II example (a): 56/70 against 48/80,
    # method 10 (hybrid score) gives 0.0524 to 0.3339 for the difference 0.2000
    ws.import_file("surveys", write(tmp_path / "s.csv", _answers([
        ("csat", 5, 48, "2025-01-10"), ("csat", 1, 32, "2025-01-10"), ("csat", 4, 56, "2025-02-10"), ("csat", 2, 14, "2025-02-10")])))
    row = ws.compare(["csat"], A, B).to_pylist()[0]
    assert row["change"] == pytest.approx(20.0)
    assert (round(row["ci_low"] / 100, 4), round(row["ci_high"] / 100, 4)) == (0.0524, 0.3339)
    # the p-value inverts the same interval: at z* = Phi^-1(1 - p/2) its lower bound is 0
    z_star = NormalDist().inv_cdf(1 - row["p_value"] / 2)
    (l1, u1), (l2, u2) = _wilson(48, 80, z_star), _wilson(56, 70, z_star)
    assert 0.2 - math.sqrt((56 / 70 - l2) ** 2 + (u1 - 48 / 80) ** 2) == pytest.approx(0.0, abs=1e-9)
    assert row["significant"] is True and row["p_value"] < 0.05 and row["test"].startswith("difference of proportions")


def test_nps_change_from_the_two_score_intervals(ws, tmp_path):
    # NPS without passives is 2p - 1, and its score interval is Wilson's mapped the same way.
    # January 6 promoters, 4 detractors (+20); February 9 promoters, 1 detractor (+80)
    ws.import_file("surveys", write(tmp_path / "s.csv", _answers([
        ("nps", 10, 6, "2025-01-10"), ("nps", 3, 4, "2025-01-10"), ("nps", 9, 9, "2025-02-10"), ("nps", 6, 1, "2025-02-10")])))
    row = ws.compare(["nps"], A, B).to_pylist()[0]
    (l1, u1), (l2, u2) = [(100 * (2 * lo - 1), 100 * (2 * hi - 1)) for lo, hi in (_wilson(6, 10), _wilson(9, 10))]
    assert (row["a_value"], row["b_value"], row["change"]) == pytest.approx((20.0, 80.0, 60.0))
    assert row["ci_low"] == pytest.approx(60 - math.hypot(80 - l2, u1 - 20))
    assert row["ci_high"] == pytest.approx(60 + math.hypot(u2 - 80, 20 - l1))
    assert row["significant"] is (row["ci_low"] > 0) and (row["p_value"] < 0.05) is row["significant"]


def test_small_change_is_noise(ws, tmp_path):
    ws.import_file("surveys", write(tmp_path / "s.csv", _answers([
        ("csat", 5, 8, "2025-01-10"), ("csat", 1, 2, "2025-01-10"), ("csat", 5, 7, "2025-02-10"), ("csat", 1, 3, "2025-02-10")])))
    row = ws.compare(["csat"], A, B).to_pylist()[0]
    assert row["change"] == pytest.approx(-10.0) and row["significant"] is False
    assert "small_sample" in row["flags"]


def _t_two_sided(t: float, df: float, steps: int = 4000) -> float:
    """P(|T| > t) for Student's t by Simpson's rule on its density (an independent check)."""
    c = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)
    f = lambda x: c * (1 + x * x / df) ** (-(df + 1) / 2)  # noqa: E731
    h = abs(t) / steps
    area = f(0) + f(abs(t)) + sum((4 if i % 2 else 2) * f(i * h) for i in range(1, steps))
    return 1 - 2 * area * h / 3


def test_means_use_welch_t(ws, tmp_path):
    # CES January 3, 4, 5, 6 (mean 4.5, var 5/3); February 5, 6, 7 (mean 6, var 1).
    # se^2 = 5/12 + 1/3 = 0.75; Welch df = 0.75^2 / ((5/12)^2/3 + (1/3)^2/2) = 4.959...
    ws.import_file("surveys", write(tmp_path / "s.csv", _answers(
        [("ces", s, 1, "2025-01-10") for s in (3, 4, 5, 6)] + [("ces", s, 1, "2025-02-10") for s in (5, 6, 7)])))
    row = ws.compare(["ces"], A, B).to_pylist()[0]
    df, se = 0.75 ** 2 / ((5 / 12) ** 2 / 3 + (1 / 3) ** 2 / 2), math.sqrt(0.75)
    assert df == pytest.approx(4.9592, abs=1e-4)
    assert row["change"] == pytest.approx(1.5)
    # the interval's half-width is t_crit * se with P(|T_df| > t_crit) = 0.05 (t tables: between
    # 2.7764 at df 4 and 2.5706 at df 5)
    t_crit = (row["ci_high"] - row["ci_low"]) / 2 / se
    assert 2.5706 < t_crit < 2.7764 and _t_two_sided(t_crit, df) == pytest.approx(0.05, abs=1e-6)
    assert row["p_value"] == pytest.approx(_t_two_sided(1.5 / se, df), abs=1e-6)
    assert row["significant"] is False and row["test"] == "difference of means (Welch t)"


def test_medians_interval_and_p_from_one_method(ws, tmp_path):
    # 12 first replies a month: January after 1..12 minutes, February after 31..42 minutes
    lines = ["event_id,ticket_id,ts,kind,actor_type,channel\n"]
    for i in range(24):
        month, minutes = (1, 1 + i) if i < 12 else (2, 31 + i - 12)
        lines.append(f"c{i},T{i},2025-0{month}-{10 + i % 12:02d}T09:00:00Z,created,customer,email\n")
        lines.append(f"r{i},T{i},2025-0{month}-{10 + i % 12:02d}T{9 + minutes // 60:02d}:{minutes % 60:02d}:00Z,message,agent,\n")
    ws.import_file("events", write(tmp_path / "e.csv", "".join(lines)))
    row = ws.compare(["frt"], A, B).to_pylist()[0]
    assert (row["a_value"], row["b_value"], row["change"]) == (390.0, 2190.0, 1800.0)
    assert row["ci_low"] > 0 and row["significant"] is True and row["p_value"] < 0.05
    assert row["test"].startswith("difference of medians")


def test_no_data_before_is_not_a_real_change(ws, tmp_path):
    # surveys start in February: January has none, so nothing is tested (issue 10, item 4)
    ws.import_file("surveys", write(tmp_path / "s.csv", _answers([("csat", 5, 40, "2025-02-10")])))
    ws.import_file("tickets", write(tmp_path / "t.csv", "ticket_id,created_at\nT1,2025-02-03T10:00:00Z\nT2,2025-02-04T10:00:00Z\n"))
    rows = {r["metric"]: r for r in ws.compare(["csat", "tickets"], A, B).to_pylist()}
    for name in ("csat", "tickets"):
        r = rows[name]
        assert r["a_n"] == 0 and "no_data_before" in r["flags"]
        assert (r["significant"], r["p_value"], r["change"], r["test"]) == (None, None, None, None)
    assert rows["tickets"]["a_value"] == 0.0 and rows["tickets"]["b_value"] == 2.0


def test_a_group_new_in_the_later_period_is_listed_untested(ws, tmp_path):
    ws.import_file("tickets", write(tmp_path / "t.csv", "ticket_id,created_at,channel\n"
                                    "T1,2025-01-03T10:00:00Z,email\nT2,2025-02-04T10:00:00Z,email\n"
                                    "T3,2025-02-05T10:00:00Z,chat\n"))
    rows = {r["channel"]: r for r in ws.compare(["tickets"], A, B, by=["channel"]).to_pylist()}
    assert rows["chat"]["b_value"] == 1.0 and "no_data_before" in rows["chat"]["flags"]
    assert rows["chat"]["significant"] is None and rows["email"]["test"] == "difference of counts (Poisson z)"


def test_verdict_always_matches_interval_over_many_random_cases(ws, tmp_path):
    """For every compare row, significant == (the interval excludes 0) == (p < 0.05): 40 teams
    with random sizes and rates, CSAT (proportion), FRT (median), AHT-like mean and volume."""
    rng = random.Random(10)
    lines = ["ticket_id,created_at,first_reply_at,solved_at,team,csat\n"]
    i = 0
    for team in range(40):
        for month, rate, wait in ((1, rng.uniform(0.3, 0.95), rng.uniform(5, 60)),
                                  (2, rng.uniform(0.3, 0.95), rng.uniform(5, 60))):
            for _ in range(rng.choice([3, 6, 12, 25, 60])):
                i += 1
                minutes = max(1, int(rng.expovariate(1 / wait)))
                day = f"2025-0{month}-{rng.randint(2, 27):02d}"
                score = 5 if rng.random() < rate else rng.choice([1, 2, 3])
                lines.append(f"T{i},{day}T08:00:00Z,{day}T{8 + minutes // 60:02d}:{minutes % 60:02d}:00Z,"
                             f"{day}T23:00:00Z,team{team},{score}\n")
    ws.import_file("tickets", write(tmp_path / "t.csv", "".join(lines)))
    rows = ws.compare(["csat", "frt", "frt_mean", "tickets"], A, B, by=["team"]).to_pylist()
    tested = [r for r in rows if r["p_value"] is not None]
    assert len(tested) >= 150
    for r in tested:
        excludes = r["ci_low"] > 0 or r["ci_high"] < 0
        assert r["significant"] is excludes, r
        assert (r["p_value"] < 0.05) is excludes, r
    assert 10 < sum(r["significant"] for r in tested) < len(tested) - 10  # both verdicts occur


def test_stats_changes_agree_on_random_counts():
    """The same property on the statistics themselves, over thousands of random cases."""
    from cxmetrics.metrics._stats import nps_difference, two_proportion_test

    rng = random.Random(4)
    for _ in range(2000):
        n1, n2 = rng.randint(1, 80), rng.randint(1, 80)
        k1, k2 = rng.randint(0, n1), rng.randint(0, n2)
        _, lo, hi, p = two_proportion_test(k1, n1, k2, n2)
        assert lo <= (k2 / n2 - k1 / n1) <= hi
        assert (p < 0.05) is (lo > 0 or hi < 0), (k1, n1, k2, n2, lo, hi, p)
    for _ in range(400):
        a, b = [], []
        for side in (a, b):
            n = rng.randint(1, 60)
            pr = rng.randint(0, n)
            side.extend([pr, rng.randint(0, n - pr), n])
        _, lo, hi, p = nps_difference(tuple(a), tuple(b))
        assert lo < hi, (a, b)  # never zero-width
        assert (p < 0.05) is (lo > 0 or hi < 0), (a, b, lo, hi, p)


def test_compare_around_an_annotation(ws, tmp_path):
    ws.import_file("annotations", write(tmp_path / "a.csv", "annotation_id,ts,label,kind\nbot,2025-02-01T00:00:00Z,Bot launched,ai\n"))
    ws.import_file("surveys", write(tmp_path / "s.csv", _answers([("csat", 5, 10, "2025-01-20"), ("csat", 1, 10, "2025-02-10")])))
    row = ws.compare(["csat"], annotation="Bot launched", days=28).to_pylist()[0]
    assert (row["a_value"], row["b_value"]) == (100.0, 0.0) and row["significant"] is True
    from cxmetrics import UnknownNameError

    with pytest.raises(UnknownNameError, match="annotation 'nope'"):
        ws.compare(["csat"], annotation="nope")


class _Counting:
    """A connection that counts the engine queries the metric layer runs (issue 17)."""

    def __init__(self, con):
        self.con, self.queries = con, 0

    def sql(self, query, *args, **kwargs):
        self.queries += 1
        return self.con.sql(query, *args, **kwargs)

    def execute(self, query, *args, **kwargs):
        self.queries += 1
        return self.con.execute(query, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.con, name)


def test_a_test_of_change_reads_both_periods_in_one_query_and_the_tiles_reuse_it(ws, tmp_path):
    from cxmetrics.metrics._compare import compare
    from cxmetrics.metrics._query import run_metrics, shared_rows

    # 3 tickets in January (first replies after 10, 20, 30 minutes), 2 in February (after 5, 15)
    lines = ["event_id,ticket_id,ts,kind,actor_type,channel\n"]
    for i, (day, minutes) in enumerate([("01-10", 10), ("01-11", 20), ("01-12", 30), ("02-10", 5), ("02-11", 15)]):
        lines.append(f"c{i},T{i},2025-{day}T09:00:00Z,created,customer,email\n")
        lines.append(f"r{i},T{i},2025-{day}T09:{minutes:02d}:00Z,message,agent,\n")
    ws.import_file("events", write(tmp_path / "e.csv", "".join(lines)))
    ws.refresh()
    con = _Counting(ws.con)
    with shared_rows():
        rows = {r["metric"]: r for r in compare(con, ["tickets", "frt"], A, B).to_pylist()}
        tiles = {r["metric"]: r for r in run_metrics(con, ["tickets", "frt"], start=B[0], end=B[1]).to_pylist()}
    assert con.queries == 1  # one source and anchor: both periods in one query, the tiles from it
    assert (rows["tickets"]["a_value"], rows["tickets"]["b_value"]) == (3.0, 2.0)
    assert (rows["frt"]["a_value"], rows["frt"]["b_value"]) == (1200.0, 600.0)  # medians: 20 and 10 minutes
    assert (tiles["tickets"]["value"], tiles["frt"]["value"], tiles["frt"]["n"]) == (2.0, 600.0, 2)
    # an empty earlier period still gets its row of zeros (asked alone), as before
    empty = {r["metric"]: r for r in compare(con, ["tickets"], ("2024-01-01", "2024-02-01"), B).to_pylist()}
    assert empty["tickets"]["a_value"] == 0.0 and "no_data_before" in empty["tickets"]["flags"]
    # overlapping periods are read one by one (a row belongs to both)
    both = {r["metric"]: r for r in compare(ws.con, ["tickets"], ("2025-01-01", "2025-03-01"), B).to_pylist()}
    assert (both["tickets"]["a_value"], both["tickets"]["b_value"]) == (5.0, 2.0)
