"""Consistency of resolutions (issue 13 item 3, METRICS.md `consistency`): within each topic,
each solved ticket's resolving reply against the topic's usual answer; the per-topic and
per-agent scores and the answers that stand apart, in the library, the workspace (the text
refresh step, resolution_answers, the `consistency` and `answers_apart` metrics), the CLI and
the API.

The issue's acceptance case: a refund topic where agents A, B and C tell the customer, each in
their own words, that the refund goes back to their card within a few business days, and agent
D answers that no refund is possible, only store credit. D's answers stand apart; A-C's do not;
D's consistency is the lowest; the usual answer is one of A-C's."""

from __future__ import annotations

import csv
import json
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import cxmetrics
from cxmetrics.cli import main
from cxmetrics.errors import UserError
from cxmetrics.text import consistency
from cxmetrics.text._store import refresh_text, save_model
from cxmetrics.text.consistency import clean_answer, compare_answers

pytest.importorskip("sklearn")

# each agent's ways of giving the answer; {name} and {order} vary per ticket (wording noise)
REFUND = {
    "A": ["Hi {name},\nI've issued a refund to your card. It should show within 5 business days.\nBest regards,\nAnna",
          "Hi {name}, the refund for order {order} is back on your card; expect it within 5 business days.\nAnna"],
    "B": ["Hello {name}! Your refund has been processed back to your original card; please allow 3-5 business days "
          "for it to appear.\nThanks,\nBen",
          "Hello {name},\nWe've refunded order {order} to your card. It can take up to 5 business days to show up.\n"
          "Cheers, Ben"],
    "C": ["Dear {name}, we refunded order #{order} to the card you paid with, you will see it in 5 working days. "
          "Kind regards, Carla",
          "Dear {name},\nThank you for reaching out. The refund to your card is on its way and arrives within five "
          "business days.\nKind regards,\nCarla"],
    "D": ["Hi {name}, unfortunately we cannot refund this order. We can offer store credit only.\nRegards,\nDan",
          "Hello {name},\nI'm afraid refunds are not possible for this purchase; we can give you store credit "
          "instead.\nDan"],
}
NAMES = ["Maria", "John", "Ana", "Mr. Chen", "Tom", "Priya"]


def refund_answers() -> list[tuple[str, str]]:
    """(agent, answer): four answers each from A, B, C and D, interleaved as they come in."""
    out = []
    for i in range(4):
        for agent in "ABCD":
            text = REFUND[agent][i % 2].format(name=NAMES[(i + ord(agent)) % len(NAMES)], order=48213 + 7 * i)
            out.append((agent, text))
    return out


# -- the library ---------------------------------------------------------------------------------


def test_clean_answer_keeps_the_content_and_drops_the_wording() -> None:
    assert clean_answer("Hi Maria,\nI've issued a refund to your card.\nBest regards,\nAnna\nSupport team") == (
        "I've issued a refund to your card.")
    assert clean_answer("Dear Mr. Chen, we refunded order #4411 to your card. Kind regards, Carla") == (
        "we refunded order # to your card.")
    assert clean_answer("Hello there! Thank you for reaching out. Your card is blocked now.\nLet me know if you "
                        "need anything else.\nCheers") == "Your card is blocked now."
    # a reply that is only courtesy has no content left; content words are never taken
    assert clean_answer("Thanks,\nAnna") == ""
    assert clean_answer("Thanks for waiting: your refund went out today.") == (
        "Thanks for waiting: your refund went out today.")
    assert clean_answer(None) == ""


def test_refund_case_d_stands_apart_and_the_usual_answer_is_a_card_refund() -> None:
    pairs = refund_answers()
    agents = [a for a, _ in pairs]
    found = consistency([t for _, t in pairs], ["refund"] * len(pairs))
    assert [a.apart for a in found] == [agent == "D" for agent in agents]
    usual = {a.usual for a in found}
    assert len(usual) == 1 and agents[usual.pop()] in "ABC"
    mean = {x: sum(a.similarity for a, g in zip(found, agents) if g == x) / 4 for x in "ABCD"}  # type: ignore[misc]
    assert mean["D"] < min(mean["A"], mean["B"], mean["C"])
    assert all(0.0 <= a.similarity <= 1.0 for a in found)  # type: ignore[operator]
    # every A-C answer is nearer the usual answer than any of D's
    assert max(a.similarity for a, g in zip(found, agents) if g == "D") < min(  # type: ignore[type-var]
        a.similarity for a, g in zip(found, agents) if g != "D")


def test_hand_worked_similarities() -> None:
    """Content words, each counted once (sublinear tf, no IDF): "Refund card." is {refund, card},
    "Refund." {refund}, "Voucher." {voucher}. Word cosine of {refund} with {refund, card}: 1/sqrt(2);
    character 3-5-grams of " refund " (6 + 5 + 4 = 15) and " card " (4 + 3 + 2 = 9), all distinct:
    cosine sqrt(15/24). Similarity = 0.8 x words + 0.2 x characters."""
    partial = 0.8 / 2 ** 0.5 + 0.2 * (15 / 24) ** 0.5
    found = compare_answers(["Refund card.", "Refund card!", "Hi Sam, refund card.", "Refund.", "Voucher."])
    # mean similarity to the others: 3 x (1 + 1 + partial + 0) / 4 for the first three: the first is usual
    assert found.usual == 0
    assert found.similarity.tolist() == pytest.approx([1.0, 1.0, 1.0, partial, 0.0])
    # median of the others 0.862, MAD 0.138: below 0.862 - 3 x 0.138 = 0.447 and below 0.3: only the voucher
    assert found.apart.tolist() == [False, False, False, False, True]


def test_small_topics_and_no_topic_are_not_compared() -> None:
    found = consistency(["Refund card."] * 4 + ["Voucher."] * 5, ["small"] * 4 + [None] * 5)
    assert {(a.similarity, a.usual, a.apart) for a in found} == {(None, None, False)}
    with pytest.raises(UserError, match="one topic per answer"):
        consistency(["a", "b"], ["t"])


def test_nearly_identical_topic_flags_nothing() -> None:
    """A topic where every agent says the same thing, one a little differently: the MAD rule
    alone would flag the odd one (the others are all 1.0), the 0.3 floor keeps it in."""
    answers = ["Your password reset link is in your inbox."] * 6 + ["A reset link for your password is in your inbox "
                                                                    "now, valid for an hour."]
    found = compare_answers(answers)
    assert not found.apart.any() and found.similarity[-1] > 0.3


# -- the workspace -------------------------------------------------------------------------------

EVENT_COLUMNS = ("event_id", "ticket_id", "ts", "kind", "actor_type", "actor_id", "public", "body", "status_to",
                 "topic", "channel", "requester_id")


def write_events(path: Path, tickets: list[tuple[str, str | None, str, str, int]]) -> Path:
    """tickets: (ticket, topic, agent, resolving answer, day of March 2025): created by the
    customer, a question, the agent's answer, solved by the agent a minute later."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=EVENT_COLUMNS)
        writer.writeheader()
        for ticket, topic, agent, answer, day in tickets:
            at = f"2025-03-{day:02d}T"
            base = dict(ticket_id=ticket, public="true", topic="", channel="", requester_id="", status_to="", body="")
            writer.writerow({**base, "event_id": f"{ticket}.0", "ts": at + "08:00:00Z", "kind": "created",
                             "actor_type": "customer", "actor_id": f"C{ticket}", "status_to": "new",
                             "topic": topic or "", "channel": "email", "requester_id": f"C{ticket}"})
            writer.writerow({**base, "event_id": f"{ticket}.1", "ts": at + "08:01:00Z", "kind": "message",
                             "actor_type": "customer", "actor_id": f"C{ticket}", "body": f"Question about {topic}"})
            writer.writerow({**base, "event_id": f"{ticket}.2", "ts": at + "09:00:00Z", "kind": "message",
                             "actor_type": "agent", "actor_id": agent, "body": answer})
            writer.writerow({**base, "event_id": f"{ticket}.3", "ts": at + "09:01:00Z", "kind": "status",
                             "actor_type": "agent", "actor_id": agent, "status_to": "solved"})
    return path


def refund_tickets(first_day: int = 3) -> list[tuple[str, str | None, str, str, int]]:
    return [(f"R{i:02d}", "refund", agent, text, first_day + i // 4)
            for i, (agent, text) in enumerate(refund_answers())]


def answers_table(ws: cxmetrics.Workspace) -> dict[str, dict[str, object]]:
    return {r["ticket_id"]: r for r in ws.sql("SELECT * FROM resolution_answers").to_pylist()}


@pytest.fixture
def refund_ws(tmp_path: Path) -> Iterator[cxmetrics.Workspace]:
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        ws.import_file("events", write_events(tmp_path / "events.csv", refund_tickets() + [
            # a topic with three answers: too few for a usual answer, no rows
            ("S1", "shipping", "A", "It ships tomorrow.", 4), ("S2", "shipping", "B", "Shipped today.", 4),
            ("S3", "shipping", "C", "We ship on Monday.", 4),
            # solved with no topic: nothing to compare with
            ("N1", None, "A", "Done.", 4),
        ]))
        refresh_text(ws)
        yield ws


def test_refund_case_in_the_workspace(refund_ws: cxmetrics.Workspace) -> None:
    ws = refund_ws
    rows = answers_table(ws)
    assert sorted(rows) == [f"R{i:02d}" for i in range(16)]  # shipping (3 answers) and no topic: no rows
    agent_of = {f"R{i:02d}": agent for i, (agent, _) in enumerate(refund_answers())}
    assert {t for t, r in rows.items() if r["apart"]} == {t for t, a in agent_of.items() if a == "D"}
    usual = {(r["usual_source"], r["usual_event_id"]) for r in rows.values()}
    assert len(usual) == 1
    usual_ticket = next(iter(usual))[1].split(".")[0]
    assert agent_of[usual_ticket] in "ABC" and rows[usual_ticket]["similarity"] == pytest.approx(1.0)
    assert {r["agent_id"] for r in rows.values()} == set("ABCD")
    assert {r["topic_model"] for r in rows.values()} == {None}  # the help desk's own topic
    by_agent = {r["assignee"]: r for r in ws.metrics(["consistency", "answers_apart"], by="assignee").table.to_pylist()
                if r["metric"] == "consistency"}
    mean = {a: 100 * sum(r["similarity"] for t, r in rows.items() if agent_of[t] == a) / 4 for a in "ABCD"}
    assert {a: by_agent[a]["value"] for a in "ABCD"} == pytest.approx(mean)
    assert by_agent["D"]["value"] < min(by_agent[a]["value"] for a in "ABC")
    apart = {r["assignee"]: r["value"] for r in ws.metrics("answers_apart", by="assignee").table.to_pylist()}
    assert apart == {"A": 0.0, "B": 0.0, "C": 0.0, "D": 100.0}


def test_the_metrics_by_hand_on_a_tiny_topic(tmp_path: Path) -> None:
    """Five billing tickets: similarities 1, 1, 1, 0.7238 and 0 (see test_hand_worked_similarities);
    consistency = 100 x 3.7238 / 5 = 74.48; by agent A 100, B (100 + 72.38) / 2 = 86.19, C 0; one
    answer of five apart (20%). The metric's period is the answer's time: March 3 holds two."""
    partial = 0.8 / 2 ** 0.5 + 0.2 * (15 / 24) ** 0.5
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        ws.import_file("events", write_events(tmp_path / "e.csv", [
            ("B1", "billing", "A", "Refund card.", 3), ("B2", "billing", "A", "Refund card.", 3),
            ("B3", "billing", "B", "Refund card.", 4), ("B4", "billing", "B", "Refund.", 4),
            ("B5", "billing", "C", "Voucher.", 5)]))
        refresh_text(ws)
        total = ws.metrics(["consistency", "answers_apart"]).table.to_pylist()
        assert {r["metric"]: (r["value"], r["n"]) for r in total} == {
            "consistency": (pytest.approx(100 * (3 + partial) / 5), 5), "answers_apart": (pytest.approx(20.0), 5)}
        agents = {r["assignee"]: r["value"] for r in ws.metrics("consistency", by="assignee").table.to_pylist()}
        assert agents == pytest.approx({"A": 100.0, "B": 50 * (1 + partial), "C": 0.0})
        march3 = ws.metrics("consistency", start="2025-03-03", end="2025-03-04").table.to_pylist()
        assert [(r["value"], r["n"]) for r in march3] == [(pytest.approx(100.0), 2)]


def test_no_topic_or_no_solved_ticket_writes_nothing(tmp_path: Path) -> None:
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        ws.import_file("events", write_events(tmp_path / "e.csv", [(f"N{i}", None, "A", "Done.", 3) for i in range(6)]))
        assert refresh_text(ws, steps=("consistency",)).steps == {"consistency": 0}
        assert ws.metrics("consistency").table.to_pylist()[0]["n"] == 0


def split_by_a_topic_model(ws: cxmetrics.Workspace) -> str:
    """A topic model that splits the refund tickets in two (R00-R07 topic 0, R08-R15 topic 1),
    and the consistency recomputed under it, as `cxmetrics topics discover` does; its id."""
    with ws._write_lock:
        ws.con.execute("BEGIN TRANSACTION")
        model = save_model(ws.con, "topics", {"k": 2}, None)
        ws.con.execute("UPDATE ticket_text SET topic_model = ?, topic_id = CAST(substr(ticket_id, 2) AS INTEGER) // 8 "
                       "WHERE ticket_id LIKE 'R%'", [model])
        ws.con.execute("COMMIT")
    refresh_text(ws, full=True, steps=("consistency",))
    return model


def test_discovered_topics_come_first_and_replace_the_help_desk_topics(refund_ws: cxmetrics.Workspace) -> None:
    """With an active topic model, a ticket's topic is its discovered topic (ticket_text.topic_id):
    here the model splits the refund tickets in two (R00-R07 topic 0, R08-R15 topic 1, whatever the
    help desk said: two A, B, C and D answers each), and every row is recomputed with them."""
    ws = refund_ws
    model = split_by_a_topic_model(ws)  # as `cxmetrics topics discover` does
    rows = answers_table(ws)
    assert sorted(rows) == [f"R{i:02d}" for i in range(16)]
    assert {r["topic_model"] for r in rows.values()} == {model}
    assert {t: r["topic_id"] for t, r in rows.items()} == {f"R{i:02d}": i // 8 for i in range(16)}
    usual = {r["topic_id"]: r["usual_event_id"].split(".")[0] for r in rows.values()}
    assert {int(t[1:]) // 8 for t in usual.values()} == {0, 1}  # each topic's usual answer is one of its own
    # D answered R03, R07 (topic 0), R11, R15 (topic 1): apart in both
    assert {t for t, r in rows.items() if r["apart"]} == {"R03", "R07", "R11", "R15"}


def test_new_answers_recompute_the_topics_they_touch(refund_ws: cxmetrics.Workspace, tmp_path: Path) -> None:
    """Once the text layer is on, every refresh brings the consistency of new tickets up to date
    and recomputes the topics they touch: a new billing topic is added with five answers (one
    apart); the refund rows are left as they were; then the ticket holding refund's usual answer
    is re-tagged billing by the help desk: billing is recomputed with it, and so is refund, which
    the ticket left (its usual answer is gone from it)."""
    ws = refund_ws
    before = answers_table(ws)
    ws.import_file("events", write_events(tmp_path / "more.csv", [
        ("B1", "billing", "A", "Refund card.", 10), ("B2", "billing", "A", "Refund card.", 10),
        ("B3", "billing", "B", "Refund card.", 10), ("B4", "billing", "B", "Refund.", 10),
        ("B5", "billing", "C", "Voucher.", 10)]))
    ws.refresh()
    after = answers_table(ws)
    assert {t for t, r in after.items() if t.startswith("B") and r["apart"]} == {"B5"}
    assert {t: after[t] for t in before} == before
    assert {r["usual_event_id"] for t, r in after.items() if t.startswith("B")} == {"B1.2"}
    usual = str(before["R00"]["usual_event_id"]).split(".")[0]  # the ticket of refund's usual answer
    index = int(usual[1:])
    agent, text = refund_answers()[index]
    ws.import_file("events", write_events(tmp_path / "moved.csv", [(usual, "billing", agent, text, 3 + index // 4)]))
    ws.refresh()
    moved = answers_table(ws)
    assert sorted(moved) == sorted(after)  # 15 refund answers and 6 billing answers, all compared
    refund = {t: r for t, r in moved.items() if t.startswith("R") and t != usual}
    assert len({r["usual_event_id"] for r in refund.values()}) == 1
    assert next(iter(refund.values()))["usual_event_id"] != f"{usual}.2"  # refund has another usual answer now
    assert moved[usual]["usual_event_id"] == "B1.2" and moved[usual]["similarity"] < 1  # compared within billing
    assert {t for t, r in refund.items() if r["apart"]} == {"R03", "R07", "R11", "R15"}


def test_apart_list_and_scores(refund_ws: cxmetrics.Workspace) -> None:
    from cxmetrics.text._consistency_facts import answers_apart, scores

    ws = refund_ws
    apart = answers_apart(ws).to_pylist()
    assert [r["ticket_id"] for r in apart] == sorted(
        (r["ticket_id"] for r in apart), key=lambda t: answers_table(ws)[t]["similarity"])
    assert {r["agent"] for r in apart} == {"D"} and len(apart) == 4
    assert all(r["topic"] == "refund" and "store credit" in r["answer"] for r in apart)
    assert all("card" in r["usual_answer"] for r in apart)
    topics = scores(ws, "topic").to_pylist()
    assert [(r["topic"], r["answers"], r["apart"]) for r in topics] == [("refund", 16, 4)]
    assert topics[0]["apart_share"] == pytest.approx(25.0) and "card" in topics[0]["usual_answer"]
    agents = scores(ws, "agent").to_pylist()
    assert agents[0]["agent"] == "D" and [r["answers"] for r in agents] == [4, 4, 4, 4]  # least consistent first
    with pytest.raises(UserError, match="not a date"):
        answers_apart(ws, start="yesterday")


# -- the CLI -------------------------------------------------------------------------------------


def test_cli(refund_ws: cxmetrics.Workspace) -> None:
    path = refund_ws.path
    refund_ws.close()
    runner = CliRunner()
    by_agent = runner.invoke(main, ["-w", str(path), "text", "consistency", "--by", "agent", "--format", "json"])
    assert by_agent.exit_code == 0, by_agent.output
    rows = json.loads(by_agent.stdout)
    assert rows[0]["agent"] == "D" and rows[0]["apart"] == 4 and rows[0]["apart_share"] == 100.0
    assert sorted(r["agent"] for r in rows[1:]) == ["A", "B", "C"] and all(r["apart"] == 0 for r in rows[1:])
    apart = runner.invoke(main, ["-w", str(path), "text", "consistency", "--apart", "--format", "csv", "--limit", "2"])
    assert apart.exit_code == 0, apart.output
    listed = list(csv.DictReader(apart.stdout.splitlines()))
    assert len(listed) == 2 and {r["agent"] for r in listed} == {"D"} and "showing the 2 most apart" in apart.stderr
    table = runner.invoke(main, ["-w", str(path), "text", "consistency"])
    assert table.exit_code == 0 and "refund" in table.stdout and "help desk's own" in table.stderr
    # in March 2025's first week only R00-R15 days 3-6: all answers; from the 7th none
    later = runner.invoke(main, ["-w", str(path), "text", "consistency", "--from", "2025-03-07", "--format", "json"])
    assert later.exit_code == 0 and json.loads(later.stdout) == []
    bad = runner.invoke(main, ["-w", str(path), "text", "consistency", "--apart", "--from", "soon"])
    assert bad.exit_code == 1 and bad.stderr.startswith("UserError: start (--from) 'soon' is not a date")
    reversed_ = runner.invoke(main, ["-w", str(path), "text", "consistency", "--from", "2025-04-01",
                                     "--to", "2025-03-01"])
    assert reversed_.exit_code == 1 and "UserError" in reversed_.stderr
    stray = runner.invoke(main, ["-w", str(path), "text", "consistency", "--limit", "3"])
    assert stray.exit_code == 2 and "--limit goes with --apart" in stray.stderr


def test_cli_turns_the_text_layer_on(tmp_path: Path) -> None:
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        ws.import_file("events", write_events(tmp_path / "e.csv", refund_tickets()))
    runner = CliRunner()
    out = runner.invoke(main, ["-w", str(tmp_path / "ws"), "text", "consistency", "--by", "agent", "--format", "json"])
    assert out.exit_code == 0, out.output
    assert "text layer is on" in out.stderr and json.loads(out.stdout)[0]["agent"] == "D"
    missing = runner.invoke(main, ["-w", str(tmp_path / "nowhere"), "text", "consistency"])
    assert missing.exit_code == 1 and missing.stderr.startswith("StoreError: no workspace at")


# -- the API -------------------------------------------------------------------------------------


def test_api(refund_ws: cxmetrics.Workspace) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from cxmetrics.api import create_app
    from cxmetrics.api.auth import create_key

    path = refund_ws.path
    refund_ws.close()
    app = create_app(path)
    _, viewer = create_key(app.state.workspace, "viewer", "viewer")
    with TestClient(app) as client:
        url = "/api/v1/text/consistency"
        assert client.get(url).status_code == 401
        key = {"Authorization": f"Bearer {viewer}"}
        r = client.get(url, headers=key, params={"limit": 3})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["enabled"] and body["topics_from"] == "help desk"
        assert [(t["topic"], t["answers"], t["apart"]) for t in body["topics"]] == [("refund", 16, 4)]
        assert body["agents"][0]["agent"] == "D" and body["agents"][0]["apart_share"] == 100.0
        assert len(body["apart"]) == 3 and {a["agent"] for a in body["apart"]} == {"D"}
        assert all("store credit" in a["answer"] and "card" in a["usual_answer"] for a in body["apart"])
        for bad in ({"from": "soon"}, {"limit": "-1"}, {"from": "2025-04-01", "to": "2025-03-01"}):
            r = client.get(url, headers=key, params=bad)
            assert 400 <= r.status_code < 500, (bad, r.status_code, r.text)
            assert r.json()["error"]["message"], r.text
        empty = client.get(url, headers=key, params={"from": "2025-03-07"}).json()
        assert empty["topics"] == [] and empty["agents"] == [] and empty["apart"] == []


def test_without_scikit_learn_the_step_writes_nothing_and_the_command_says_what_to_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        ws.import_file("events", write_events(tmp_path / "e.csv", refund_tickets()))
        monkeypatch.setitem(sys.modules, "sklearn", None)  # as if not installed: `import sklearn` fails
        done = refresh_text(ws, steps=("consistency",))
        assert done.steps == {"consistency": 0} and ws.sql("SELECT * FROM resolution_answers").num_rows == 0
    out = CliRunner().invoke(main, ["-w", str(tmp_path / "ws"), "text", "consistency"])
    assert out.exit_code == 1
    assert out.stderr.strip() == ("MissingDependencyError: comparing answers needs scikit-learn, which the base "
                                  "install leaves out: pip install 'cxmetrics[text]'")


def test_a_few_new_answers_are_compared_with_the_kept_usual_answer(refund_ws: cxmetrics.Workspace,
                                                                   tmp_path: Path) -> None:
    """A live trickle (one new answer at a time in a topic of 16) must not recompute the topic: the
    new answers are compared with its kept usual answer and the spread of its kept similarities,
    and the other rows are left alone. Before, every refresh recomputed the whole topic (16+ rows
    written for 2 new answers): on a 30k-ticket demo each trickle of 5 events took 5-20 s."""
    ws = refund_ws
    before = answers_table(ws)
    usual = {r["usual_event_id"] for r in before.values()}
    for ticket, agent, text in (
            ("R90", "A", "We have refunded the payment to your card; it shows within 5 business days."),
            ("R91", "D", "Sorry, this order cannot be refunded; we can offer store credit only.")):
        ws.import_file("events", write_events(tmp_path / f"{ticket}.csv", [(ticket, "refund", agent, text, 20)]))
        done = refresh_text(ws, steps=("consistency",))
        assert done.steps["consistency"] == 1  # the new answer, nothing recomputed
    after = answers_table(ws)
    assert {t: after[t] for t in before} == before
    assert {after["R90"]["usual_event_id"], after["R91"]["usual_event_id"]} == usual
    assert not after["R90"]["apart"] and after["R91"]["apart"]  # the store-credit answer stands apart
    # the same figures a whole recompute gives, while the usual answer stays the same
    refresh_text(ws, full=True, steps=("consistency",))
    whole = answers_table(ws)
    assert {r["usual_event_id"] for r in whole.values()} == usual
    for t in ("R90", "R91"):
        assert whole[t]["similarity"] == pytest.approx(after[t]["similarity"], abs=1e-9)
        assert whole[t]["apart"] == after[t]["apart"]


def test_a_new_unsolved_ticket_does_not_recompute_its_topic(refund_ws: cxmetrics.Workspace, tmp_path: Path) -> None:
    ws = refund_ws
    before = answers_table(ws)
    path = tmp_path / "open.csv"
    path.write_text("event_id,ticket_id,ts,kind,actor_type,actor_id,topic,body\n"
                    "O1.0,O1,2025-03-20T08:00:00Z,created,customer,CO1,refund,\n"
                    "O1.1,O1,2025-03-20T08:01:00Z,message,customer,CO1,,Where is my refund?\n", encoding="utf-8")
    ws.import_file("events", path)
    done = refresh_text(ws, steps=("consistency",))
    assert done.steps["consistency"] == 0
    assert answers_table(ws) == before


def test_with_a_topic_model_a_new_answer_is_compared_with_its_discovered_topics_kept_usual_answer(
        refund_ws: cxmetrics.Workspace, tmp_path: Path) -> None:
    """The live path under a topic model: a new ticket's topic is its discovered one, and its
    topic's kept answers are found by the topic their rows were compared under (R00-R07 topic 0,
    R08-R15 topic 1): the new answer is compared with topic 0's kept usual answer, nothing else is
    recomputed, and its figures are those a whole recompute gives."""
    ws = refund_ws
    model = split_by_a_topic_model(ws)
    before = answers_table(ws)
    usual0 = {r["usual_event_id"] for r in before.values() if r["topic_id"] == 0}
    ws.import_file("events", write_events(tmp_path / "R90.csv", [
        ("R90", "refund", "A", "We have refunded the payment to your card; it shows within 5 business days.", 20)]))

    def discovered(con) -> None:  # what the topics step gives the new ticket: topic 0 of the model
        con.execute("UPDATE ticket_text SET topic_model = ?, topic_id = 0 WHERE ticket_id = 'R90'", [model])

    done = refresh_text(ws, steps=("consistency",), before=discovered)
    assert done.steps["consistency"] == 1  # the new answer, nothing recomputed
    after = answers_table(ws)
    assert {t: after[t] for t in before} == before
    assert after["R90"]["topic_id"] == 0 and after["R90"]["topic_model"] == model
    assert {after["R90"]["usual_event_id"]} == usual0 and not after["R90"]["apart"]
    refresh_text(ws, full=True, steps=("consistency",))
    whole = answers_table(ws)
    assert {r["usual_event_id"] for t, r in whole.items() if r["topic_id"] == 0} == usual0
    assert whole["R90"]["similarity"] == pytest.approx(after["R90"]["similarity"], abs=1e-9)
