"""The scorecard measures humans and bots alike and ranks with ties and minimum samples."""

from __future__ import annotations

import pytest

from conftest import write


def test_ranks_ties_and_minimum_sample(ws, tmp_path):
    # flat tickets: A1 and A2 each solve 4 tickets with CSAT 5,5,5,1 (75%); B1 (a bot) 4 with 5,5,5,5;
    # A3 solves 1 ticket (below min_n = 2 answers)
    rows = ["ticket_id,created_at,first_reply_at,solved_at,assignee_id,agent_type,csat\n"]
    plan = {"A1": [5, 5, 5, 1], "A2": [5, 1, 5, 5], "B1": [5, 5, 5, 5], "A3": [5]}
    i = 0
    for agent, scores in plan.items():
        for s in scores:
            i += 1
            kind = "bot" if agent.startswith("B") else "human"
            rows.append(f"T{i},2025-03-03T08:00:00Z,2025-03-03T08:10:00Z,2025-03-03T09:00:00Z,{agent},{kind},{s}\n")
    ws.import_file("tickets", write(tmp_path / "t.csv", "".join(rows)))
    ws.import_file("agents", write(tmp_path / "a.csv", "agent_id,name,type\nA1,Ana,human\nA2,Bo,human\nB1,Botty,bot\nA3,Cy,human\n"))
    card = {r["agent_id"]: r for r in ws.scorecard(min_n=2).to_pylist()}
    assert card["B1"]["rank"] == 1 and card["B1"]["type"] == "bot" and card["B1"]["csat"] == 100.0
    # a tie shares rank 2
    assert (card["A1"]["rank"], card["A2"]["rank"]) == (2, 2) and card["A1"]["csat"] == 75.0
    assert card["A3"]["rank"] is None and card["A3"]["flags"] == ["csat_below_2"]
    assert card["A1"]["solved_tickets"] == 4 and card["A1"]["frt"] == 600.0


def _wilson_low(k: int, n: int, z: float = 1.959963984540054) -> float:
    p = k / n
    return 100 * (p + z * z / (2 * n) - z * (p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)


def test_ranks_by_the_lower_bound_with_a_minimum_from_the_volume(ws, tmp_path):
    """Issue 10, item 5: 95 of 100 satisfied outranks 10 of 10, which tie; the bot's 45 of 60
    comes last; the default minimum is half the median answers per agent (10 -> 5), floor 5,
    so the agent with 3 answers is not ranked."""
    plan = {"A3": (95, 100), "A1": (10, 10), "A2": (10, 10), "B1": (45, 60), "A4": (3, 3)}
    rows = ["ticket_id,created_at,first_reply_at,solved_at,assignee_id,agent_type,csat\n"]
    i = 0
    for agent, (good, n) in plan.items():
        for j in range(n):
            i += 1
            rows.append(f"T{i},2025-03-03T08:00:00Z,2025-03-03T08:10:00Z,2025-03-03T09:00:00Z,{agent},"
                        f"{'bot' if agent.startswith('B') else 'human'},{5 if j < good else 1}\n")
    ws.import_file("tickets", write(tmp_path / "t.csv", "".join(rows)))
    table = ws.scorecard()
    assert table.schema.metadata[b"min_n"] == b"5"
    card = {r["agent_id"]: r for r in table.to_pylist()}
    assert [(a, card[a]["rank"]) for a in ("A3", "A1", "A2", "B1", "A4")] == \
        [("A3", 1), ("A1", 2), ("A2", 2), ("B1", 4), ("A4", None)]
    assert card["A3"]["rank_score"] == pytest.approx(_wilson_low(95, 100))  # 88.8
    assert card["A1"]["rank_score"] == pytest.approx(_wilson_low(10, 10))  # 72.2
    assert card["B1"]["rank_score"] == card["B1"]["ci_low"] == pytest.approx(_wilson_low(45, 60))
    assert card["A1"]["ci_high"] == 100.0 and card["A4"]["flags"] == ["csat_below_5"]
    # an explicit minimum still wins, and a count ranks by its value
    assert ws.scorecard(min_n=4).schema.metadata[b"min_n"] == b"4"
    by_solved = {r["agent_id"]: r["rank"] for r in ws.scorecard(rank_by="solved_tickets").to_pylist()}
    assert (by_solved["A3"], by_solved["B1"]) == (1, 2)


def test_default_minimum_rule():
    from cxmetrics.metrics._scorecard import default_min_n

    # median 7 -> 4 -> floor 5; median 40 -> 20; median 400 -> cap 30; nobody -> 5
    assert [default_min_n(c) for c in ([6, 7, 9], [30, 40, 50], [400, 500], [])] == [5, 20, 30, 5]
