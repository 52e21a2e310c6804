"""Sentiment quality on real customer messages (issue 13, acceptance): 7,320 tweets to six US
airlines, labelled by people (../shared/data/airline_tweets_sentiment/dev.csv, CC BY-NC-SA:
used here to evaluate and as a user's own data, never to build the shipped model).

Skipped, saying where the data was looked for, when it is absent (docs/data.md says how to get it).
"""

from __future__ import annotations

import csv

import pytest
from realdata._data import data_file, needs

DEV = data_file("airline_tweets_sentiment", "dev.csv")


def _dev() -> tuple[list[str], list[str]]:
    with DEV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], [r["airline_sentiment"] for r in rows]


def _accuracy_and_macro_f1(truth: list[str], predicted: list[str]) -> tuple[float, float]:
    # computed here from the definitions, not with the package's own helper
    accuracy = sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth)
    f1s = []
    for label in ("negative", "neutral", "positive"):
        tp = sum(t == p == label for t, p in zip(truth, predicted, strict=True))
        precision = tp / max(1, predicted.count(label))
        recall = tp / truth.count(label)
        f1s.append(2 * precision * recall / (precision + recall) if tp else 0.0)
    return accuracy, sum(f1s) / 3


@needs(DEV)
def test_the_shipped_model_beats_the_majority_class_and_vader_without_any_labels():
    from cxmetrics.text import sentiment

    texts, truth = _dev()
    accuracy, macro_f1 = _accuracy_and_macro_f1(truth, [s.label for s in sentiment(texts)])
    # measured 0.730 / 0.673 (0.703 / 0.660 with a symmetric neutral band; VADER as shipped
    # 0.49 / 0.46; the majority class 0.63 / 0.26): the aims, met with some room
    assert accuracy >= 0.70, accuracy
    assert macro_f1 >= 0.65, macro_f1


@needs(DEV)
@pytest.mark.slow
def test_a_model_trained_on_the_organisations_labels_reaches_the_aim_by_cross_validation():
    pytest.importorskip("sklearn")
    from cxmetrics.text import train_sentiment

    texts, truth = _dev()
    model = train_sentiment(texts, truth)  # 5-fold stratified, fixed seed; measured 0.810 / 0.763
    assert model.cv_macro_f1 is not None and model.cv_macro_f1 >= 0.76, model.cv_macro_f1
    assert model.cv_accuracy is not None and model.cv_accuracy >= 0.80, model.cv_accuracy
