"""The signals of a good answer (issue 13, item 4): greeting by name, the customer's specifics,
empathy, the questions asked and answered, relevance; as a library function, as workspace facts
(reply_signals) with the metrics reply_personalised / reply_thorough by the replying agent, and
as `cxmetrics text signals`. Every expected value is worked out by hand from the texts."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

import cxmetrics
import cxmetrics.text
from cxmetrics.cli import main
from cxmetrics.errors import UserError
from cxmetrics.text.signals import MIN_CORPUS, RELEVANT_AT, signals
from cxmetrics.text._signals_rules import greets_by_name, questions

TWO_QUESTIONS = "How do I reset my password? And can I change my email?"
ONE_ANSWER = "To reset your password, open Settings > Security and click Reset."
BOTH_ANSWERS = ONE_ANSWER + " You can change your email under Profile > Email."
OFF_TOPIC = "Our store is open from 9 to 5 on weekdays. Have a nice day."


def one(reply: str, asked: str | None = None, **kw):
    return signals([reply], [asked], **kw)[0]


# -- personalised --------------------------------------------------------------------------------

def test_hi_maria_is_personalised_and_dear_customer_is_not() -> None:
    maria, generic = signals([f"Hi Maria, {ONE_ANSWER}", f"Dear customer, {ONE_ANSWER}"], [TWO_QUESTIONS] * 2)
    assert (maria.greets_by_name, maria.personalised) == (True, True)
    # "reset" and "password" are the question itself, not a specific of this customer
    assert (generic.greets_by_name, generic.refers_specifics, generic.personalised) == (False, False, False)


@pytest.mark.parametrize("opening", [
    "Hi Maria,", "Hello Mr. Chen", "Dear Ana,", "Hi vijaya, thanks for writing", "HI Kiran, we will look",
    "Good morning Maria!", "Hey Anil, this sounds frustrating", "Hi, Maria!", "Dear Ms Lopez,",
])
def test_a_greeting_followed_by_a_name_greets_by_name(opening: str) -> None:
    assert greets_by_name(f"{opening}\nYour refund is on its way.") is True


@pytest.mark.parametrize("opening", [
    "Dear customer,", "Hi there,", "Hello team", "Hi all,", "Dear valued client,", "Good morning,", "Good morning",
    "Hi, thanks for reaching out.", "Hi, Uber works better when drivers drive more.", "Dear Sir or Madam,",
    "Hello and welcome!", "Hi, We're extremely sorry.", "Thanks for writing in.", "Hola, por favor escribe.",
])
def test_a_generic_greeting_or_none_is_not_by_name(opening: str) -> None:
    assert greets_by_name(f"{opening}\nYour refund is on its way.") is False


def test_a_customer_who_signs_is_greeted_by_that_name_even_without_hi() -> None:
    reply = "Thanks for reaching out, Maria. Your parcel left our warehouse today."
    assert one(reply, "Where is my parcel?\nThanks,\nMaria").greets_by_name is True
    assert one(reply, "Where is my parcel?\n- Maria").greets_by_name is True
    assert one(reply, "Where is my parcel? Thanks, Maria").greets_by_name is True
    # her name deep in the reply is not a greeting
    late = "Your parcel left our warehouse today. It should arrive soon. Maria in billing will refund the fee."
    assert one(late, "Where is my parcel?\nThanks,\nMaria").greets_by_name is False
    # without her signature "Maria" in the middle of a sentence is not a greeting we can be sure of
    assert one(reply, "Where is my parcel?").greets_by_name is False


def test_order_numbers_amounts_dates_and_product_names_are_specifics() -> None:
    asked = "My order #A-4471 for $45.00 was due on 3 March and the Bialetti grinder never came."
    assert one("Your order A-4471 is on its way.", asked).refers_specifics is True
    assert one("We refunded the 45 USD today.", asked).refers_specifics is True
    assert one("It will arrive on March 3rd.", asked).refers_specifics is True
    assert one("Your Bialetti is on its way.", asked).refers_specifics is True
    bland = one("Your order is on its way, we will refund you.", asked)
    assert (bland.refers_specifics, bland.personalised) == (False, False)
    # "I have 2 questions": a one-digit number is not a specific
    assert one("Here are 2 answers.", "I have 2 questions about billing").refers_specifics is False


def test_a_word_rare_in_the_corpus_is_a_specific_and_a_common_one_is_not() -> None:
    # 60 customer messages: all about a refund, one mentions an espresso machine
    corpus = [f"I want a refund for my order {i}" for i in range(59)] + ["My espresso machine leaks, I want a refund"]
    assert len(corpus) >= MIN_CORPUS
    asked = "My espresso machine leaks, I want a refund"
    assert one("We will replace the espresso machine.", asked, corpus=corpus).refers_specifics is True
    assert one("We will process the refund.", asked, corpus=corpus).refers_specifics is False
    # a corpus too small to tell rare from common: only names and numbers count
    assert one("We will replace the espresso machine.", asked).refers_specifics is False


# -- empathetic ----------------------------------------------------------------------------------

@pytest.mark.parametrize("reply", [
    "We are so sorry about the delay.", "I apologise for the mix-up.", "Please accept our apologies.",
    "I understand how annoying this is.", "I can imagine how stressful that was.",
    "That must be frustrating.", "This certainly sounds frustrating.", "Thank you for your patience.",
    "We regret the inconvenience.", "Hi Robert, this doesn't sound right.",
])
def test_an_apology_or_acknowledgement_is_empathetic(reply: str) -> None:
    assert one(reply).empathetic is True


@pytest.mark.parametrize("reply", [
    "Your refund was processed today.", "No need to apologise, the new card is on its way.",
    "The feedback from our riders is vitally important to us.", "Please send us the receipt.",
])
def test_a_plain_answer_is_not_empathetic(reply: str) -> None:
    assert one(reply).empathetic is False


# -- thorough ------------------------------------------------------------------------------------

def test_a_two_question_message_answered_once_is_not_thorough() -> None:
    s = one(ONE_ANSWER, TWO_QUESTIONS)
    assert (s.questions, s.questions_answered, s.thorough) == (2, 1, False)


def test_both_questions_answered_is_thorough() -> None:
    s = one(BOTH_ANSWERS, TWO_QUESTIONS)
    assert (s.questions, s.questions_answered, s.thorough) == (2, 2, True)


def test_questions_without_a_question_mark_count_and_pleasantries_do_not() -> None:
    text = ("Hi, how are you? how do I cancel my plan. Can you send the invoice again. When will the new card arrive\n"
            "When I log in, the app crashes. I was wondering whether you ship to Italy.")
    assert questions(text) == ["how do I cancel my plan.", "Can you send the invoice again.",
                               "When will the new card arrive", "I was wondering whether you ship to Italy."]
    assert questions("Hello? Thanks a lot!") == []


def test_nothing_asked_leaves_thorough_and_relevance_null() -> None:
    s = one("Just checking in: did the replacement arrive?", None)
    assert (s.questions, s.questions_answered, s.thorough, s.relevance, s.relevant) == (0, 0, None, None, None)
    statement = one("Glad to hear it.", "The replacement arrived, thanks.")
    assert (statement.questions, statement.thorough) == (0, None)


# -- relevant ------------------------------------------------------------------------------------

def test_relevance_is_the_cosine_of_the_content_words() -> None:
    # asked: reset, passw(ord) ("how do I my" are function words); reply: passw, reset, link, way:
    # 2 shared of 2 and 4 words, each weight 1: 2 / (sqrt 2 * sqrt 4)
    s = one("Your password reset link is on its way.", "How do I reset my password?")
    assert s.relevance == pytest.approx(2 / (math.sqrt(2) * math.sqrt(4)), abs=1e-4)
    assert s.relevant is True


def test_an_off_topic_reply_is_not_relevant() -> None:
    s = one(OFF_TOPIC, TWO_QUESTIONS)
    assert (s.relevance, s.relevant, s.questions_answered) == (0.0, False, 0)
    assert one(BOTH_ANSWERS, TWO_QUESTIONS).relevance >= RELEVANT_AT


def test_a_pair_scores_the_same_whatever_else_is_scored_with_it() -> None:
    alone = one(BOTH_ANSWERS, TWO_QUESTIONS)
    crowd = signals([OFF_TOPIC, BOTH_ANSWERS, "Sorry!"], ["Where is my parcel?", TWO_QUESTIONS, "Why??"])
    assert crowd[1] == alone


def test_replies_and_asked_of_different_lengths_are_refused() -> None:
    with pytest.raises(UserError, match="2 replies but 1"):
        signals(["a", "b"], ["c"])


# -- in the workspace ----------------------------------------------------------------------------

EVENTS = [  # (event, ticket, minute, actor_type, actor, public, body)
    ("T1.1", "T1", 0, "customer", "C1", "true", TWO_QUESTIONS + "\nThanks, Maria"),
    ("T1.2", "T1", 5, "agent", "a1", "false", "Internal note: she asked twice, Maria wants this fast"),
    ("T1.3", "T1", 9, "agent", "a1", "true", f"Hi Maria, {ONE_ANSWER}"),               # personalised, 2 asked, 1 answered
    ("T2.1", "T2", 0, "customer", "C2", "true", "When will my refund arrive?"),
    ("T2.2", "T2", 3, "bot", "b1", "true", "Dear customer, an agent will answer soon. Sorry for the wait!"),
    ("T2.3", "T2", 8, "agent", "a1", "true",
     "Dear customer, sorry for the wait: your refund will arrive within 5 days."),     # 1 of 1, empathetic
    ("T2.4", "T2", 20, "agent", "a2", "true", "Dear customer, just checking in."),      # nothing asked
    ("T3.1", "T3", 0, "customer", "C3", "true", "Can I pay by invoice? How long is the trial?"),
    ("T3.2", "T3", 4, "agent", "a2", "true", "Hello Mr. Chen, yes, you can pay by invoice, and the trial is 30 days long."),
]
ASSIGNEE = {"T1": "a2", "T2": "a2", "T3": "a1"}  # the ticket's assignee is not who replied


@pytest.fixture
def replied(tmp_path: Path) -> cxmetrics.Workspace:
    rows = [dict(event_id=f"{t}.0", ticket_id=t, ts="2025-03-03T08:00:00Z", kind="created", actor_type="customer",
                 actor_id=f"C{t[1]}", public="", body="", assignee_id=a) for t, a in ASSIGNEE.items()]
    rows += [dict(event_id=e, ticket_id=t, ts=f"2025-03-03T08:{m + 1:02d}:00Z", kind="message", actor_type=k,
                  actor_id=who, public=p, body=b, assignee_id="") for e, t, m, k, who, p, b in EVENTS]
    path = tmp_path / "events.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        assert ws.import_file("events", path).quarantined == 0
        yield ws


def test_each_public_agent_reply_gets_its_signals(replied: cxmetrics.Workspace) -> None:
    cxmetrics.text.refresh(replied, steps=("signals",))
    got = {r["event_id"]: r for r in replied.sql("SELECT * FROM reply_signals").to_pylist()}
    # the private note and the bot's message are not agent replies
    assert sorted(got) == ["T1.3", "T2.3", "T2.4", "T3.2"]
    assert {e: r["agent_id"] for e, r in got.items()} == {"T1.3": "a1", "T2.3": "a1", "T2.4": "a2", "T3.2": "a2"}
    pick = ("greets_by_name", "personalised", "questions", "questions_answered", "thorough", "relevant")
    assert {e: tuple(r[c] for c in pick) for e, r in got.items()} == {
        "T1.3": (True, True, 2, 1, False, True),
        "T2.3": (False, False, 1, 1, True, True),
        "T2.4": (False, False, 0, 0, None, None),  # a follow-up nobody asked for
        "T3.2": (True, True, 2, 2, True, True),
    }


def test_personalised_and_thorough_by_the_replying_agent(replied: cxmetrics.Workspace) -> None:
    cxmetrics.text.refresh(replied, steps=("signals",))
    metrics = ["reply_personalised", "reply_thorough", "reply_empathetic", "reply_relevant"]
    table = replied.metrics(metrics, by=["assignee"]).to_pylist()
    got = {(r["metric"], r["assignee"]): (r["value"], r["n"]) for r in table}
    # a1 wrote T1.3 (personalised, 1 of 2 questions answered) and T2.3 (not personalised, its one
    # question answered, apologises); a2 wrote T2.4 (a follow-up: nothing asked) and T3.2
    # (personalised, both questions answered). The tickets' assignees (T1, T2: a2) play no part.
    assert got[("reply_personalised", "a1")] == (pytest.approx(50.0), 2)
    assert got[("reply_personalised", "a2")] == (pytest.approx(50.0), 2)
    assert got[("reply_thorough", "a1")] == (pytest.approx(50.0), 2)
    assert got[("reply_thorough", "a2")] == (pytest.approx(100.0), 1)  # T2.4 asked nothing: not counted
    assert got[("reply_empathetic", "a1")] == (pytest.approx(50.0), 2)
    assert got[("reply_empathetic", "a2")] == (pytest.approx(0.0), 2)
    assert got[("reply_relevant", "a1")] == (pytest.approx(100.0), 2)
    assert got[("reply_relevant", "a2")] == (pytest.approx(100.0), 1)


def test_a_full_refresh_gives_the_same_signals(replied: cxmetrics.Workspace) -> None:
    cxmetrics.text.refresh(replied, steps=("signals",))
    before = replied.sql("SELECT * FROM reply_signals ORDER BY event_id").to_pylist()
    cxmetrics.text.refresh(replied, full=True, steps=("signals",))
    assert replied.sql("SELECT * FROM reply_signals ORDER BY event_id").to_pylist() == before


def test_a_new_import_adds_its_replies_and_leaves_the_others(replied: cxmetrics.Workspace, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from cxmetrics.text import _store

    # this step alone, as every refresh runs it (the other steps have their own tests)
    monkeypatch.setattr(_store, "STEPS", tuple(step for step in _store.STEPS if step[0] == "signals"))
    cxmetrics.text.refresh(replied)
    before = replied.sql("SELECT * FROM reply_signals ORDER BY event_id").to_pylist()
    path = tmp_path / "more.csv"
    path.write_text("event_id,ticket_id,ts,kind,actor_type,actor_id,public,body\n"
                    "T4.1,T4,2025-03-04T08:00:00Z,message,customer,C4,true,Is the Bialetti grinder in stock?\n"
                    "T4.2,T4,2025-03-04T08:05:00Z,message,agent,a2,true,\"Hi Tom, the Bialetti grinder is in stock.\"\n"
                    "T1.4,T1,2025-03-04T09:00:00Z,message,agent,a1,true,\"Maria, any news on the email change?\"\n",
                    encoding="utf-8")
    assert replied.import_file("events", path).quarantined == 0
    replied.refresh()  # the facts refresh brings the new tickets' text facts too
    after = {r["event_id"]: r for r in replied.sql("SELECT * FROM reply_signals").to_pylist()}
    assert [after[r["event_id"]] for r in before] == before  # T2, T3 untouched; T1.3 the same again
    assert (after["T4.2"]["greets_by_name"], after["T4.2"]["refers_specifics"], after["T4.2"]["thorough"]) == (
        True, True, True)
    assert (after["T1.4"]["questions"], after["T1.4"]["relevance"]) == (0, None)  # nobody asked since T1.3


# -- the command ---------------------------------------------------------------------------------

def test_the_command_prints_one_row_per_reply_in_input_order(tmp_path: Path) -> None:
    path = tmp_path / "replies.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle)
        w.writerow(["reply", "question"])
        w.writerow([OFF_TOPIC, TWO_QUESTIONS])
        w.writerow([f"Hi Maria, sorry! {BOTH_ANSWERS}", TWO_QUESTIONS])
        w.writerow(["Dear customer, thanks.", ""])
    out = CliRunner().invoke(main, ["text", "signals", str(path), "--reply-column", "reply",
                                    "--question-column", "question"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.output)))
    assert [r["row"] for r in rows] == ["1", "2", "3"]
    assert [(r["personalised"], r["empathetic"], r["questions"], r["questions_answered"], r["thorough"],
             r["relevant"]) for r in rows] == [
        ("False", "False", "2", "0", "False", "False"),
        ("True", "True", "2", "2", "True", "True"),
        ("False", "False", "0", "0", "", ""),
    ]


def test_the_command_writes_json_too(tmp_path: Path) -> None:
    path = tmp_path / "replies.jsonl"
    path.write_text('{"answer": "Dear Ana, we apologise.", "message": "Why was I charged twice?"}\n', encoding="utf-8")
    out = CliRunner().invoke(main, ["text", "signals", str(path), "--reply-column", "answer",
                                    "--question-column", "message", "--format", "json"])
    assert out.exit_code == 0, out.output
    [row] = json.loads(out.output)
    assert (row["row"], row["greets_by_name"], row["empathetic"], row["questions"], row["questions_answered"],
            row["relevance"], row["relevant"]) == (1, True, True, 1, 0, 0.0, False)


def test_the_command_names_a_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "replies.csv"
    path.write_text("reply,question\nHi,Why?\n", encoding="utf-8")
    out = CliRunner().invoke(main, ["text", "signals", str(path), "--reply-column", "answer"])
    assert out.exit_code == 1
    assert "Unknown column 'answer'" in out.output and "question, reply" in out.output


# -- real replies --------------------------------------------------------------------------------

UBER = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "uber_app_reviews" / "reviews.csv"
# the 33 company replies, by hand: which greet the reviewer by name ("Hi Robin,") and which
# acknowledge or apologise ("sorry to hear", "sounds frustrating", "we understand your concern",
# "doesn't sound right"), numbered in file order
UBER_NAMED = {0, 1, 2, 3, 4, 5, 6, 8, 9, 12, 13, 14, 15, 17, 18, 19, 20, 21, 22, 23, 24, 27, 29, 30, 31}
UBER_EMPATHETIC = {3, 6, 7, 11, 13, 14, 15, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 29, 30, 32}


@pytest.mark.skipif(not UBER.exists(), reason="needs ../shared/data/uber_app_reviews (see docs/data.md)")
def test_the_real_company_replies_to_app_reviews() -> None:
    with UBER.open(encoding="utf-8", newline="") as handle:
        reviews = list(csv.DictReader(handle))
    answered = [r for r in reviews if r["replyContent"]]
    assert len(answered) == 33
    found = signals([r["replyContent"] for r in answered], [r["content"] for r in answered],
                    corpus=[r["content"] for r in reviews])
    assert {i for i, s in enumerate(found) if s.greets_by_name} == UBER_NAMED
    assert {i for i, s in enumerate(found) if s.empathetic} == UBER_EMPATHETIC
