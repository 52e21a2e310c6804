"""How customers feel: `sentiment(texts)` labels each message negative, neutral or positive
with a score in [-1, 1] (docs/text.md, issue 13 item 2).

The default model ships with the package and needs no labelled data (a customer-service
lexicon and rules over the VADER lexicon, numpy only); `train_sentiment(texts, labels)` learns
a better one from an organisation's own messages (needs `pip install 'cxmetrics[text]'`), and
`sentiment(texts, model=...)` uses it.

>>> [s.label for s in sentiment(["Thank you so much, the agent was wonderful",
...                               "My flight was cancelled and nobody answers",
...                               "What time does the desk open?"])]
['positive', 'negative', 'neutral']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cxmetrics.errors import UserError
from cxmetrics.text import _sentiment_lexicon
from cxmetrics.text._sentiment_train import LABELS, SentimentModel, train

__all__ = ["LABELS", "Sentiment", "SentimentModel", "sentiment", "train_sentiment", "weak_labels"]


@dataclass(frozen=True)
class Sentiment:
    """One message's sentiment: `label` is negative|neutral|positive, `score` is in [-1, 1]."""

    label: str
    score: float


def _texts(texts: Sequence[str | None]) -> list[str]:
    if isinstance(texts, str):  # a lone string would be read as one message per character
        raise UserError("sentiment() takes a list of texts; wrap a single text in a list: sentiment([text]).")
    return ["" if t is None else str(t).strip() for t in texts]


def sentiment(texts: Sequence[str | None], model: SentimentModel | None = None) -> list[Sentiment]:
    """One Sentiment per text, in order; empty or missing text is neutral with score 0.

    `model` is a trained SentimentModel (from train_sentiment or SentimentModel.load); without
    one the default, shipped model is used.
    """
    clean = _texts(texts)
    if model is not None:
        return model.predict(clean)
    scores = _sentiment_lexicon.score(clean)
    labels = _sentiment_lexicon.labels(scores)
    return [Sentiment(str(label), float(s)) for label, s in zip(labels, scores, strict=True)]


def train_sentiment(texts: Sequence[str | None], labels: Sequence[str], *, folds: int = 5) -> SentimentModel:
    """Learn a model from labelled messages (labels negative|neutral|positive); its
    `cv_accuracy` and `cv_macro_f1` are `folds`-fold cross-validated. Needs scikit-learn."""
    return train(_texts(texts), labels, folds=folds)


def weak_labels(scores: Sequence[float | None], scale: str = "csat") -> list[str | None]:
    """Labels from survey scores for training without hand labels: CSAT (1-5) 1-2 negative,
    3 neutral, 4-5 positive; NPS (0-10) detractors 0-6 negative, passives 7-8 neutral,
    promoters 9-10 positive. A missing score gives None (leave that comment out)."""
    bounds = {"csat": (1, 2, 3, 5), "nps": (0, 6, 8, 10)}
    if scale not in bounds:
        raise UserError(f"Unknown score scale '{scale}': use 'csat' (1-5) or 'nps' (0-10).")
    low, negative_max, neutral_max, high = bounds[scale]
    out: list[str | None] = []
    for s in scores:
        if s is None or (isinstance(s, float) and np.isnan(s)):
            out.append(None)
            continue
        if not low <= float(s) <= high:
            raise UserError(f"Score {s} is outside the {scale.upper()} scale {low}-{high}.")
        out.append("negative" if s <= negative_max else "neutral" if s <= neutral_max else "positive")
    return out
