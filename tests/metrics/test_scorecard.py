"""The scorecard measures humans and bots alike and ranks with ties and minimum samples."""

from __future__ import annotations

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
