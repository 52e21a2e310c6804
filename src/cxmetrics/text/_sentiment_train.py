"""A sentiment model learnt from an organisation's own labelled messages: TF-IDF on words
(1-2 grams) and on characters within words (2-5 grams), then multinomial logistic regression.

Fitting needs scikit-learn (the `text` extra); predicting does not: the model file is JSON
(vocabularies, idf weights, coefficients), never a pickle, so loading a file from elsewhere
cannot run code, and scoring runs on the base install with numpy. `_features` reproduces
scikit-learn's analyzers (tested against them) so the two agree.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cxmetrics.errors import MissingDependencyError, UserError

LABELS = ("negative", "neutral", "positive")
FORMAT = "cxmetrics-sentiment-model/1"
_WORD = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern
_SPACES = re.compile(r"\s\s+")
# the settings fitted and reproduced at prediction (changing them changes the file format)
WORD_NGRAMS, CHAR_NGRAMS, MIN_DF, C = (1, 2), (2, 5), 2, 2.0
N_LEXICON = 3  # the default model's score and its two verdicts, as features: general word knowledge
_FIX = "Make one with `cxmetrics text train-sentiment ... --out MODEL.json`."


def _lexicon_features(texts: Sequence[str]) -> np.ndarray:
    # a small labelled set cannot teach every sentiment word; the shipped lexicon knows them
    from cxmetrics.text import _sentiment_lexicon

    s = _sentiment_lexicon.score(texts)
    band = _sentiment_lexicon.NEUTRAL_BAND
    return np.c_[s, s >= band, s <= -band].astype(np.float64)


def _word_grams(text: str) -> list[str]:
    words = _WORD.findall(text.lower())
    lo, hi = WORD_NGRAMS
    return [" ".join(words[i:i + n]) for n in range(lo, hi + 1) for i in range(len(words) - n + 1)]


def _char_grams(text: str) -> list[str]:
    grams: list[str] = []
    lo, hi = CHAR_NGRAMS
    for word in _SPACES.sub(" ", text.lower()).split():  # as scikit-learn's "char_wb"
        padded = f" {word} "
        for n in range(lo, hi + 1):
            grams.extend(padded[i:i + n] for i in range(len(padded) - n + 1))
            if len(padded) <= n:
                break
    return grams


def _block(grams: list[str], vocabulary: dict[str, int], idf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    counts = Counter(g for g in grams if g in vocabulary)
    cols = np.fromiter((vocabulary[g] for g in counts), dtype=np.int64, count=len(counts))
    tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
    weights = (1.0 + np.log(tf)) * idf[cols]  # sublinear tf, then idf, then unit length
    norm = np.sqrt(weights @ weights)
    return cols, weights / norm if norm else weights


@dataclass(frozen=True)
class SentimentModel:
    """A trained sentiment model: `predict(texts)`, `save(path)`, `SentimentModel.load(path)`.

    `cv_accuracy` and `cv_macro_f1` are its 5-fold cross-validated figures on the data it was
    trained on (None when there were too few messages per class to estimate them).
    """

    labels: tuple[str, ...]
    word_vocabulary: dict[str, int]
    word_idf: np.ndarray
    char_vocabulary: dict[str, int]
    char_idf: np.ndarray
    coef: np.ndarray  # (classes, word features + char features)
    intercept: np.ndarray
    n_trained: int
    cv_accuracy: float | None = None
    cv_macro_f1: float | None = None

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, one row per text, columns in `labels` order."""
        n_words = len(self.word_vocabulary)
        logits = np.tile(self.intercept, (len(texts), 1))
        logits += _lexicon_features(texts) @ self.coef[:, -N_LEXICON:].T
        for row, text in enumerate(texts):
            if not text:
                continue
            cols, w = _block(_word_grams(text), self.word_vocabulary, self.word_idf)
            logits[row] += self.coef[:, cols] @ w
            cols, w = _block(_char_grams(text), self.char_vocabulary, self.char_idf)
            logits[row] += self.coef[:, cols + n_words] @ w
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, texts: Sequence[str]) -> list[Any]:
        """One Sentiment per text: the likeliest label, and P(positive) - P(negative) as score."""
        from cxmetrics.text.sentiment import Sentiment

        p = self.probabilities(texts)
        index = {label: i for i, label in enumerate(self.labels)}
        pos = p[:, index["positive"]] if "positive" in index else np.zeros(len(texts))
        neg = p[:, index["negative"]] if "negative" in index else np.zeros(len(texts))
        best = p.argmax(axis=1)
        out = []
        for i, text in enumerate(texts):
            if not text:  # nothing said: neutral, whatever the classes' priors are
                out.append(Sentiment("neutral", 0.0))
            else:
                out.append(Sentiment(self.labels[best[i]], float(pos[i] - neg[i])))
        return out

    def to_json(self) -> str:
        """The model as JSON text (what `save` writes and a workspace keeps in text_models)."""
        doc = {
            "format": FORMAT, "labels": list(self.labels), "n_trained": self.n_trained,
            "cv_accuracy": self.cv_accuracy, "cv_macro_f1": self.cv_macro_f1,
            "word_vocabulary": self.word_vocabulary, "word_idf": self.word_idf.tolist(),
            "char_vocabulary": self.char_vocabulary, "char_idf": self.char_idf.tolist(),
            "coef": self.coef.tolist(), "intercept": self.intercept.tolist(),
        }
        return json.dumps(doc, ensure_ascii=False)

    def save(self, path: str | Path) -> Path:
        """Write the model as JSON (no pickle: safe to load from anywhere)."""
        path = Path(path)
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> SentimentModel:
        """Read a model written by `save`; a file that is not one is a UserError saying so."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"Cannot read sentiment model {path}: {exc}. Make one with "
                            "`cxmetrics text train-sentiment ... --out MODEL.json`.") from exc
        return cls.from_json(text, str(path))

    @classmethod
    def from_json(cls, text: str | bytes, where: str = "the model", fix: str = _FIX) -> SentimentModel:
        """Read a model from `to_json`'s text; `where` names it in errors (a file, a workspace
        model) and `fix` says what to do instead."""
        try:
            doc = json.loads(text)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UserError(f"Cannot read sentiment model {where}: {exc}. {fix}") from exc
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise UserError(f"{where} is not a cxmetrics sentiment model (expected \"format\": \"{FORMAT}\"). "
                            f"{fix}")
        try:
            model = cls(
                labels=tuple(str(x) for x in doc["labels"]), n_trained=int(doc["n_trained"]),
                cv_accuracy=doc.get("cv_accuracy"), cv_macro_f1=doc.get("cv_macro_f1"),
                word_vocabulary={str(k): int(v) for k, v in doc["word_vocabulary"].items()},
                word_idf=np.asarray(doc["word_idf"], dtype=np.float64),
                char_vocabulary={str(k): int(v) for k, v in doc["char_vocabulary"].items()},
                char_idf=np.asarray(doc["char_idf"], dtype=np.float64),
                coef=np.asarray(doc["coef"], dtype=np.float64),
                intercept=np.asarray(doc["intercept"], dtype=np.float64),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UserError(f"Sentiment model {where} is damaged ({type(exc).__name__}: {exc}). {fix}") from exc
        width = len(model.word_vocabulary) + len(model.char_vocabulary) + N_LEXICON
        if model.coef.shape != (len(model.labels), width) or model.intercept.shape != (len(model.labels),):
            raise UserError(f"Sentiment model {where} is damaged (its coefficients do not match its vocabulary). {fix}")
        return model


def _sklearn() -> Any:
    try:
        import sklearn  # noqa: F401  (only to know it is there)
    except ImportError as exc:
        raise MissingDependencyError("Training a sentiment model needs scikit-learn, which the base install "
                                     "does not include: pip install 'cxmetrics[text]'") from exc
    return sklearn


def _fit(texts: Sequence[str], labels: Sequence[str]) -> tuple[Any, Any, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from scipy.sparse import csr_matrix, hstack

    words = TfidfVectorizer(ngram_range=WORD_NGRAMS, min_df=MIN_DF, sublinear_tf=True, dtype=np.float64)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, min_df=MIN_DF, sublinear_tf=True,
                            dtype=np.float64)
    x = hstack([words.fit_transform(texts), chars.fit_transform(texts), csr_matrix(_lexicon_features(texts))]).tocsr()
    # balanced classes: support data is mostly complaints, and macro-F1 weighs every class alike
    clf = LogisticRegression(C=C, max_iter=2000, class_weight="balanced").fit(x, labels)
    return words, chars, clf


def macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Mean over the true classes of F1 (the usual macro-F1)."""
    t, p = np.asarray(truth), np.asarray(predicted)
    scores = []
    for label in np.unique(t):
        tp = float(np.sum((t == label) & (p == label)))
        denominator = float(np.sum(t == label) + np.sum(p == label))
        scores.append(2 * tp / denominator if denominator else 0.0)
    return float(np.mean(scores))


def train(texts: Sequence[str], labels: Sequence[str], *, folds: int = 5, seed: int = 0) -> SentimentModel:
    """Fit on every message; estimate quality by `folds`-fold stratified cross-validation."""
    _sklearn()
    texts = ["" if t is None else str(t) for t in texts]
    labels = [str(x).strip().lower() for x in labels]
    if len(texts) != len(labels):
        raise UserError(f"train_sentiment needs one label per text: got {len(texts)} texts and {len(labels)} labels.")
    unknown = sorted(set(labels) - set(LABELS))
    if unknown:
        raise UserError(f"Unknown sentiment label(s) {unknown[:5]}: labels must be one of {', '.join(LABELS)} "
                        "(map your own labels to these first).")
    counts = Counter(labels)
    if len(counts) < 2:
        raise UserError(f"train_sentiment needs messages of at least two labels; got only {sorted(counts)}.")
    if len(texts) < 20:
        raise UserError(f"train_sentiment needs at least 20 labelled messages; got {len(texts)}.")
    cv_acc = cv_f1 = None
    if min(counts.values()) >= folds:
        from sklearn.model_selection import StratifiedKFold

        predicted = np.empty(len(texts), dtype=object)
        y = np.asarray(labels)
        for fit_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, y):
            words, chars, clf = _fit([texts[i] for i in fit_idx], y[fit_idx].tolist())
            fold = _model(words, chars, clf, len(fit_idx))
            predicted[test_idx] = [s.label for s in fold.predict([texts[i] for i in test_idx])]
        cv_acc, cv_f1 = float(np.mean(predicted == y)), macro_f1(y, predicted)
    words, chars, clf = _fit(texts, labels)
    return _model(words, chars, clf, len(texts), cv_acc, cv_f1)


def _model(words: Any, chars: Any, clf: Any, n: int, cv_acc: float | None = None,
           cv_f1: float | None = None) -> SentimentModel:
    coef, intercept = np.asarray(clf.coef_, dtype=np.float64), np.asarray(clf.intercept_, dtype=np.float64)
    if coef.shape[0] == 1:  # two classes: scikit-learn keeps one row (for the second class)
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.array([-intercept[0] / 2, intercept[0] / 2])
    return SentimentModel(
        labels=tuple(str(c) for c in clf.classes_),
        word_vocabulary={k: int(v) for k, v in words.vocabulary_.items()}, word_idf=words.idf_.astype(np.float64),
        char_vocabulary={k: int(v) for k, v in chars.vocabulary_.items()}, char_idf=chars.idf_.astype(np.float64),
        coef=coef, intercept=intercept, n_trained=n, cv_accuracy=cv_acc, cv_macro_f1=cv_f1,
    )
