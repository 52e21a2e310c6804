"""The demo's texts carry what the text layer measures (issue 13 acceptance: "the demo
generating such variation so the dashboard shows it").

Generator checks read the emitted events with plain regexes; the workspace checks run
`cxmetrics demo`'s own path (generate, import, text layer) on a small demo and compare the
text facts with what the demo's data says independently: the help desk's `topic`, the CSAT
answers, the names customers sign with, the answers' words.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import cxmetrics
from cxmetrics.demo import DemoConfig, generate

END = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
GENERIC = re.compile(r"^(Dear customer|Hi there|Hello|Dear valued customer),")
NAMED = re.compile(r"^(?:Hi|Hello|Dear) ([A-Z][a-z]+)[,!]")
SIGNED = re.compile(r"\n([A-Z][a-z]+)$")  # a first name alone on the last line


@pytest.fixture(scope="module")
def demo() -> dict[str, pa.Table]:
    batches = list(generate(DemoConfig(tickets=4_000, seed=11, end=END)))
    return {name: pa.concat_tables([b[name] for b in batches if name in b]) for name in ("tickets", "events")}


def messages(demo: dict[str, pa.Table], actor: str) -> list[dict[str, object]]:
    ev = demo["events"]
    keep = pc.and_(pc.equal(ev["kind"], "message"), pc.equal(ev["actor_type"], actor))
    return ev.filter(keep).sort_by([("ticket_id", "ascending"), ("event_id", "ascending")]).to_pylist()


def test_bodies_are_whole_sentences_without_placeholders(demo: dict[str, pa.Table]) -> None:
    ev = demo["events"]
    bodies = ev.filter(pc.equal(ev["kind"], "message"))["body"].to_pylist()
    assert bodies and all(b for b in bodies)
    for body in bodies:
        assert "{" not in body and "}" not in body, body
        assert body == body.strip() and "  " not in body, repr(body)
        assert not re.search(r"(Hi|Hello|Dear) ,", body), body  # a greeting never lacks its name


def test_first_messages_follow_the_subject_and_some_ask_two_questions(demo: dict[str, pa.Table]) -> None:
    firsts: dict[str, str] = {}
    for m in messages(demo, "customer"):
        firsts.setdefault(str(m["ticket_id"]), str(m["body"]))
    tickets = {t["ticket_id"]: t for t in demo["tickets"].to_pylist()}
    questions = Counter(body.count("?") for body in firsts.values())
    assert questions[1] > 0.5 * len(firsts) and questions[2] > 0.15 * len(firsts), questions
    # the number a subject quotes comes back in most of its first messages
    quoted = [(t["subject"], firsts[k]) for k, t in tickets.items() if k in firsts and "#" in (t["subject"] or "")]
    number = [re.search(r"#(\d+)", s).group(1) in body for s, body in quoted]  # type: ignore[union-attr]
    assert quoted and np.mean(number) > 0.6
    # words of each help-desk topic: the first messages of the topic use them far more than the others
    marks = {"login": "log|sign|password|2FA", "shipping": "deliver|parcel|order", "cancellation": "cancel",
             "outage": "down|outage"}
    for topic, pattern in marks.items():
        found = {k: bool(re.search(pattern, firsts[k], re.I)) for k in firsts}
        inside = [found[k] for k, t in tickets.items() if k in firsts and t["topic"] == topic]
        outside = [found[k] for k, t in tickets.items() if k in firsts and t["topic"] != topic]
        assert np.mean(inside) > 0.8 and np.mean(outside) < 0.35, (topic, np.mean(inside), np.mean(outside))


def test_agents_greet_some_customers_by_the_name_they_sign_with(demo: dict[str, pa.Table]) -> None:
    signed: dict[str, str] = {}
    for m in messages(demo, "customer"):
        found = SIGNED.search(str(m["body"]))
        if found:
            signed.setdefault(str(m["ticket_id"]), found.group(1))
    replies = [m for m in messages(demo, "agent") if m["public"] and m["ticket_id"] in signed]
    named = [NAMED.match(str(r["body"])) for r in replies]
    by_name = [n is not None and not GENERIC.match(str(r["body"])) for n, r in zip(named, replies)]
    assert 0.4 < np.mean(by_name) < 0.85, np.mean(by_name)
    assert sum(bool(GENERIC.match(str(r["body"]))) for r in replies) > 0.1 * len(replies)
    # the name in the greeting is the one the customer signed with
    assert all(n.group(1) == signed[str(r["ticket_id"])] for n, r, b in zip(named, replies, by_name) if b)
    # agents differ: per agent with 30+ replies, the share greeting by name spreads widely
    per_agent: dict[str, list[bool]] = {}
    for r, b in zip(replies, by_name):
        per_agent.setdefault(str(r["actor_id"]), []).append(b)
    shares = [np.mean(v) for v in per_agent.values() if len(v) >= 30]
    assert max(shares) - min(shares) > 0.4, shares


def test_the_last_follow_up_sounds_as_the_ticket_went(demo: dict[str, pa.Table]) -> None:
    """Fed-up, neutral and pleased last messages all occur; reopened tickets end fed up."""
    pleased = re.compile(r"thank you so much|Thanks for the quick help|exactly what I needed|Really appreciate|"
                         r"Thanks again|Really happy", re.I)
    fed_up = re.compile(r"frustrat|fed up|disappoint|annoy|Terrible", re.I)
    last: dict[str, str] = {}
    count: Counter[str] = Counter()
    for m in messages(demo, "customer"):
        last[str(m["ticket_id"])] = str(m["body"])
        count[str(m["ticket_id"])] += 1
    ends = [last[k] for k in last if count[k] >= 2]
    assert np.mean([bool(pleased.search(b)) for b in ends]) > 0.2
    assert np.mean([bool(fed_up.search(b)) for b in ends]) > 0.1
    ev = demo["events"]
    reopened = set(ev.filter(pc.and_(pc.equal(ev["status_from"], "solved"), pc.equal(ev["status_to"], "open")))
                   ["ticket_id"].to_pylist())
    assert reopened and np.mean([bool(fed_up.search(last[k])) for k in reopened if k in last]) > 0.9


# -- the demo run with its text layer -----------------------------------------------------------

@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, list[str]]:
    from cxmetrics._demo_run import run_demo

    path = tmp_path_factory.mktemp("demo_text") / "ws"
    said: list[str] = []
    with cxmetrics.open(path, create=True) as ws:
        report = run_demo(ws, DemoConfig(tickets=4_000, seed=11, end=END), echo=said.append)
    return path, report, said


def test_discovered_topics_agree_with_the_help_desk_topics(workspace: tuple[Path, str, list[str]]) -> None:
    from sklearn.metrics import normalized_mutual_info_score

    path, report, _ = workspace
    assert "Discovered topics" in report and "Text metrics" in report
    with cxmetrics.open(path) as ws:
        rows = ws.sql("SELECT t.topic, f.discovered_topic FROM ticket_facts f JOIN tickets t USING (source, ticket_id) "
                      "WHERE f.discovered_topic IS NOT NULL").to_pylist()
        topics = ws.sql("SELECT count(*) AS n FROM text_topics JOIN text_models USING (model_id) "
                        "WHERE active").to_pylist()
        tickets = ws.sql("SELECT count(*) AS n FROM ticket_facts WHERE NOT excluded").to_pylist()[0]["n"]
    assert topics[0]["n"] == 9
    assert len(rows) > 0.8 * tickets  # phone tickets have a subject only, and get a topic too
    nmi = normalized_mutual_info_score([r["topic"] for r in rows], [r["discovered_topic"] for r in rows])
    assert nmi > 0.5, nmi


def test_agents_with_a_discrepant_answer_score_lower_consistency(workspace: tuple[Path, str, list[str]]) -> None:
    path, _, _ = workspace
    with cxmetrics.open(path) as ws:
        answers = ws.sql("SELECT r.agent_id, r.similarity, r.apart, e.body FROM resolution_answers r "
                         "JOIN events e ON e.source = r.source AND e.event_id = r.event_id "
                         "WHERE r.similarity IS NOT NULL").to_pylist()
        by_agent = {r["assignee"]: r["value"] for r in
                    ws.metrics(["consistency"], by=["assignee"]).table.to_pylist() if r["n"] >= 10}
    # the discrepant answers, told by their words: store credit, "contact the courier", reinstall
    odd = re.compile(r"store credit|contact the courier|get in touch with them directly|install(ing)? it again", re.I)
    flagged = [bool(odd.search(r["body"])) for r in answers]
    assert 20 < sum(flagged) < 0.1 * len(answers)
    # those answers are far less like their topic's usual answer, and stand apart more often
    # (how often depends on how alike the rest of their discovered topic is: docs/text.md)
    apart = np.array([r["apart"] for r in answers], dtype=bool)
    similarity = np.array([r["similarity"] for r in answers])
    flagged_ = np.array(flagged)
    assert similarity[flagged_].mean() < similarity[~flagged_].mean() - 0.2
    assert apart[flagged_].mean() > apart[~flagged_].mean()
    # the agents who give them: each one's consistency is below the median agent's
    givers = {r["agent_id"] for r, f in zip(answers, flagged) if f}
    assert 1 <= len(givers) <= 3
    median = float(np.median(list(by_agent.values())))
    assert all(by_agent[a] < median for a in givers if a in by_agent) and givers & set(by_agent)


def test_sentiment_shift_goes_both_ways_and_follows_csat(workspace: tuple[Path, str, list[str]]) -> None:
    path, _, _ = workspace
    with cxmetrics.open(path) as ws:
        shift = {r["s"]: r["n"] for r in ws.sql("SELECT sentiment_shift AS s, count(*) AS n FROM ticket_text "
                                                "WHERE customer_messages >= 2 GROUP BY 1").to_pylist()}
        by_csat = {r["csat"]: r["points"] for r in ws.sql("""
            SELECT CASE WHEN s.score <= 2 THEN 'low' WHEN s.score >= 4 THEN 'high' END AS csat,
                   100 * avg(CAST(x.sentiment_shift = 'better' AS INTEGER))
                   - 100 * avg(CAST(x.sentiment_shift = 'worse' AS INTEGER)) AS points
            FROM ticket_text x JOIN surveys s ON s.source = x.source AND s.ticket_id = x.ticket_id AND s.kind = 'csat'
            WHERE x.customer_messages >= 2 AND (s.score <= 2 OR s.score >= 4) GROUP BY 1""").to_pylist()}
        metric = ws.metrics(["sentiment_shift"]).table.to_pylist()[0]["value"]
    total = sum(shift.values())
    assert shift.get("better", 0) > 0.15 * total and shift.get("worse", 0) > 0.08 * total, shift
    assert by_csat["high"] > by_csat["low"] + 25, by_csat
    assert metric == pytest.approx(100 * (shift["better"] - shift["worse"]) / total, abs=0.05)


def test_reply_signals_vary_as_the_agents_write(workspace: tuple[Path, str, list[str]]) -> None:
    path, _, _ = workspace
    with cxmetrics.open(path) as ws:
        rows = ws.sql("SELECT s.greets_by_name, s.empathetic, e.body FROM reply_signals s JOIN events e "
                      "ON e.source = s.source AND e.event_id = s.event_id").to_pylist()
    named = np.array([bool(r["greets_by_name"]) for r in rows])
    assert 0.3 < named.mean() < 0.9
    # agreed by the greeting itself: a named greeting is flagged, a generic one is not
    generic = np.array([bool(GENERIC.match(r["body"])) for r in rows])
    greeted = np.array([bool(NAMED.match(r["body"])) for r in rows]) & ~generic
    assert not named[generic].any() and named[greeted].mean() > 0.95
    assert 0.1 < np.mean([bool(r["empathetic"]) for r in rows]) < 0.8


def test_without_scikit_learn_the_demo_says_how_to_add_it_and_goes_on(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from cxmetrics._demo_text import text_layer

    config = DemoConfig(tickets=1_000, seed=2, end=END)
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        for batch in generate(config):
            for name in ("agents", "customers", "tickets", "events", "surveys"):
                if name in batch:
                    ws.import_table(name, batch[name], source="demo", label=f"demo:{name}", canonical=True)
        monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn now raises ImportError
        said: list[str] = []
        lines = text_layer(ws, config, said.append)
        scored = ws.sql("SELECT count(*) AS n FROM message_sentiment").to_pylist()[0]["n"]
        models = ws.sql("SELECT count(*) AS n FROM text_models WHERE kind = 'topics'").to_pylist()[0]["n"]
    assert any("pip install 'cxmetrics[text]'" in s for s in said), said
    assert models == 0 and scored > 1_000
    assert "no topics" in lines[0]
