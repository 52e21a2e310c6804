"""Sentiment of customer messages (issue 13, items 2 and 6): the shipped model on hand-written
cases, a trained model's file round trip and its agreement with scikit-learn, weak labels from
survey scores, and the CLI's row order, formats and errors."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cxmetrics.cli import main
from cxmetrics.errors import MissingDependencyError, UserError

# (text, the label a support lead would give it)
CASES = [
    ("Thank you so much, the agent was wonderful", "positive"),
    ("Great service today, thanks for sorting it out so quickly!", "positive"),
    ("Love the new app, checking in took a minute 😍", "positive"),
    ("Kudos to your team, the refund arrived in a day", "positive"),
    ("My flight was cancelled and nobody answers", "negative"),
    ("Still waiting for a reply after 3 days", "negative"),
    ("I have been on hold for two hours, this is ridiculous", "negative"),
    ("My bag was lost and the desk was rude", "negative"),
    ("not happy with the service", "negative"),
    ("The agent was not helpful at all", "negative"),
    ("Thanks for nothing", "negative"),
    ("The crew was nice but we sat delayed on the runway for 3 hours", "negative"),
    ("I was charged twice and no response to my emails 😡", "negative"),
    ("What time does the desk open?", "neutral"),
    ("Can I change my seat on tomorrow's flight?", "neutral"),
    ("Please send me the invoice for order 1234", "neutral"),
    ("Is there a phone number for the Paris office?", "neutral"),
]


def test_the_default_model_labels_plain_customer_messages_as_a_support_lead_would():
    from cxmetrics.text import sentiment

    got = sentiment([text for text, _ in CASES])
    assert [(text, s.label) for (text, _), s in zip(CASES, got, strict=True)] == CASES
    for s in got:  # the score agrees with the label's direction and stays in [-1, 1]
        assert -1.0 <= s.score <= 1.0
        assert {"positive": s.score > 0, "negative": s.score < 0, "neutral": True}[s.label]


def test_negation_intensifiers_and_contrast_move_the_score_the_right_way():
    from cxmetrics.text import sentiment

    happy, not_happy, very_happy = sentiment(["I am happy", "I am not happy", "I am very happy"])
    assert not_happy.score < 0 < happy.score < very_happy.score
    # what follows "but" is the writer's point
    before, after = sentiment(["the flight was delayed but the crew was wonderful",
                               "the crew was wonderful but the flight was delayed"])
    assert before.label == "positive" and after.label == "negative"
    # "!" strengthens, capitals shout
    plain, loud = sentiment(["the service was terrible", "the service was TERRIBLE!!"])
    assert loud.score < plain.score < 0


def test_empty_and_missing_texts_are_neutral_zero_and_order_is_kept():
    from cxmetrics.text import Sentiment, sentiment

    got = sentiment(["", None, "   ", "thanks!", "worst airline ever"])
    assert got[:3] == [Sentiment("neutral", 0.0)] * 3
    assert [s.label for s in got[3:]] == ["positive", "negative"]
    assert sentiment([]) == []


def test_a_single_string_is_refused_with_the_fix():
    from cxmetrics.text import sentiment

    with pytest.raises(UserError, match=r"sentiment\(\[text\]\)"):
        sentiment("thank you")


def test_the_default_model_needs_only_the_base_install(monkeypatch):
    # scikit-learn is an extra: the shipped model must not touch it
    monkeypatch.setitem(sys.modules, "sklearn", None)
    from cxmetrics.text import sentiment

    assert sentiment(["thank you, great help"])[0].label == "positive"


# a small labelled corpus an organisation could have (8 of each label)
TRAIN = {
    "negative": ["my parcel never arrived", "the parcel arrived broken", "still no refund after two weeks",
                 "your courier lost my parcel", "nobody replies to my emails", "the delivery is late again",
                 "wrong item delivered and no reply", "terrible delivery, the box was crushed"],
    "neutral": ["where can I find my invoice", "can I change the delivery address",
                "what are your opening hours", "do you deliver to Spain", "how do I return an item",
                "is the store open on Sunday", "which courier do you use", "can I pay by bank transfer"],
    "positive": ["thanks, the parcel arrived early", "great service, thank you", "the courier was lovely",
                 "thank you for the quick refund", "love the packaging, thanks", "excellent support, cheers",
                 "arrived next day, brilliant", "really helpful agent, thank you"],
}


def _corpus() -> tuple[list[str], list[str]]:
    texts = [t for i in range(8) for label in TRAIN for t in [TRAIN[label][i]]]
    labels = [label for i in range(8) for label in TRAIN]
    return texts, labels


def test_a_trained_model_learns_the_organisations_labels_and_round_trips_through_json(tmp_path: Path):
    pytest.importorskip("sklearn")
    from cxmetrics.text import SentimentModel, sentiment, train_sentiment

    texts, labels = _corpus()
    model = train_sentiment(texts, labels)
    assert model.n_trained == 24 and set(model.labels) == {"negative", "neutral", "positive"}
    assert model.cv_accuracy is not None and 0.0 <= model.cv_accuracy <= 1.0
    # it reproduces its own training labels (a linear model on 24 separable texts)
    assert [s.label for s in model.predict(texts)] == labels
    path = model.save(tmp_path / "model.json")
    doc = json.loads(path.read_text(encoding="utf-8"))  # plain JSON, no pickle
    assert doc["format"] == "cxmetrics-sentiment-model/1" and doc["n_trained"] == 24
    loaded = SentimentModel.load(path)
    new = ["my parcel is late and nobody replies", "thank you, lovely service", "do you deliver to Italy"]
    assert sentiment(new, model=loaded) == model.predict(new)
    assert [s.label for s in sentiment(new, model=loaded)] == ["negative", "positive", "neutral"]
    assert sentiment([""], model=loaded)[0].label == "neutral"


def test_scoring_a_trained_model_without_scikit_learn_matches_scikit_learn():
    pytest.importorskip("sklearn")
    from scipy.sparse import csr_matrix, hstack

    from cxmetrics.text import _sentiment_train as T

    texts, labels = _corpus()
    words, chars, clf = T._fit(texts, labels)
    model = T._model(words, chars, clf, len(texts))
    new = ["my parcel is late", "Thank-you!!  Great   SERVICE", "é à ü unicode words", "x"]
    x = hstack([words.transform(new), chars.transform(new), csr_matrix(T._lexicon_features(new))]).tocsr()
    np.testing.assert_allclose(model.probabilities(new), clf.predict_proba(x), rtol=1e-9, atol=1e-12)


def test_training_errors_name_the_value_and_the_fix():
    pytest.importorskip("sklearn")
    from cxmetrics.text import train_sentiment

    texts, labels = _corpus()
    with pytest.raises(UserError, match=r"'angry'.*negative, neutral, positive"):
        train_sentiment(texts, labels[:-1] + ["angry"])
    with pytest.raises(UserError, match="one label per text"):
        train_sentiment(texts, labels[:-1])
    with pytest.raises(UserError, match="at least two labels"):
        train_sentiment(texts, ["negative"] * len(texts))


def test_training_without_scikit_learn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    from cxmetrics.text import train_sentiment

    with pytest.raises(MissingDependencyError, match=r"pip install 'cxmetrics\[text\]'"):
        train_sentiment(*_corpus())


def test_a_model_file_that_is_not_one_is_refused(tmp_path: Path):
    from cxmetrics.text import SentimentModel

    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}', encoding="utf-8")
    with pytest.raises(UserError, match="not a cxmetrics sentiment model"):
        SentimentModel.load(bad)
    bad.write_text("not json", encoding="utf-8")
    with pytest.raises(UserError, match="Cannot read sentiment model"):
        SentimentModel.load(bad)


def test_weak_labels_from_survey_scores():
    from cxmetrics.text import weak_labels

    assert weak_labels([1, 2, 3, 4, 5, None]) == ["negative", "negative", "neutral", "positive", "positive", None]
    assert weak_labels([0, 6, 7, 8, 9, 10], "nps") == ["negative", "negative", "neutral", "neutral",
                                                         "positive", "positive"]
    with pytest.raises(UserError, match="outside the CSAT scale 1-5"):
        weak_labels([7])


# --- CLI -------------------------------------------------------------------------------------

def _csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def test_cli_prints_one_label_and_score_per_row_in_input_order(tmp_path: Path):
    file = _csv(tmp_path / "msgs.csv", ["id", "text"], [
        ["a", "What time does the desk open?"], ["b", "Thank you so much, the agent was wonderful"],
        ["c", ""], ["d", "My flight was cancelled and nobody answers"]])
    done = CliRunner().invoke(main, ["text", "sentiment", str(file), "--column", "text"])
    assert done.exit_code == 0, done.output
    rows = list(csv.DictReader(io.StringIO(done.output)))
    assert [r["row"] for r in rows] == ["1", "2", "3", "4"]
    assert [r["label"] for r in rows] == ["neutral", "positive", "neutral", "negative"]
    assert rows[2]["score"] == "0.0000" and float(rows[1]["score"]) > 0 > float(rows[3]["score"])


def test_cli_json_output_and_jsonl_input(tmp_path: Path):
    file = tmp_path / "msgs.jsonl"
    file.write_text("\n".join(json.dumps({"body": t}) for t in ["worst service ever", "thanks a lot!", None]) + "\n",
                    encoding="utf-8")
    done = CliRunner().invoke(main, ["text", "sentiment", str(file), "--column", "body", "--format", "json"])
    assert done.exit_code == 0, done.output
    got = json.loads(done.output)
    assert [(r["row"], r["label"]) for r in got] == [(1, "negative"), (2, "positive"), (3, "neutral")]
    assert got[2]["score"] == 0


def test_cli_missing_column_lists_the_columns(tmp_path: Path):
    file = _csv(tmp_path / "msgs.csv", ["id", "message"], [["1", "hello"]])
    done = CliRunner().invoke(main, ["text", "sentiment", str(file), "--column", "text"])
    assert done.exit_code == 1
    assert "UnknownNameError: Unknown column 'text'" in done.output and "id, message" in done.output


def test_cli_trains_prints_cross_validated_figures_and_scores_with_the_model(tmp_path: Path):
    pytest.importorskip("sklearn")
    texts, labels = _corpus()
    train = _csv(tmp_path / "labelled.csv", ["text", "feeling"], [[t, lab] for t, lab in zip(texts, labels)])
    model = tmp_path / "model.json"
    runner = CliRunner()
    done = runner.invoke(main, ["text", "train-sentiment", str(train), "--column", "text", "--label", "feeling",
                                "--out", str(model)])
    assert done.exit_code == 0, done.output
    assert "trained on 24 messages" in done.output and "5-fold cross-validated accuracy" in done.output
    new = _csv(tmp_path / "new.csv", ["text"], [["do you deliver to Italy"], ["your courier lost my parcel again"]])
    done = runner.invoke(main, ["text", "sentiment", str(new), "--column", "text", "--model", str(model)])
    assert done.exit_code == 0, done.output
    assert [r["label"] for r in csv.DictReader(io.StringIO(done.output))] == ["neutral", "negative"]


def test_cli_trains_from_survey_scores_weakly(tmp_path: Path):
    pytest.importorskip("sklearn")
    texts, labels = _corpus()
    score = {"negative": "1", "neutral": "3", "positive": "5"}
    file = _csv(tmp_path / "survey.csv", ["comment", "csat"], [[t, score[lab]] for t, lab in zip(texts, labels)])
    done = CliRunner().invoke(main, ["text", "train-sentiment", str(file), "--column", "comment", "--score", "csat",
                                     "--out", str(tmp_path / "m.json")])
    assert done.exit_code == 0, done.output
    assert "trained on 24 messages" in done.output
    done = CliRunner().invoke(main, ["text", "train-sentiment", str(file), "--column", "comment",
                                     "--out", str(tmp_path / "m.json")])
    assert done.exit_code == 1 and "UserError: train-sentiment needs exactly one of --label" in done.output
