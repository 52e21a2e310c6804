"""Sentiment quality on the airline tweets (issue 13; docs/text.md "Sentiment").

    .venv/bin/python bench/text/sentiment_quality.py [--data DIR] [--no-train]

On dev.csv (7,320 labelled tweets; ../shared/data or CXMETRICS_DATA, see docs/data.md): the
accuracy and macro-F1 of the majority class, of VADER as shipped (when `vaderSentiment` is
importable; compound at +-0.05, as its authors advise), of the shipped model (no labels used),
and the 5-fold cross-validated figures of a model trained on the file (scikit-learn). Speed is
measured by bench/text/throughput.py. JSON goes to bench/out/text_sentiment.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LABELS = ("negative", "neutral", "positive")


def figures(truth: list[str], predicted: list[str]) -> dict[str, float]:
    """Accuracy and macro-F1 (the mean of the three classes' F1), by hand."""
    accuracy = sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth)
    f1s = []
    for label in LABELS:
        tp = sum(t == p == label for t, p in zip(truth, predicted, strict=True))
        precision, recall = tp / max(1, predicted.count(label)), tp / max(1, truth.count(label))
        f1s.append(2 * precision * recall / (precision + recall) if tp else 0.0)
    return {"accuracy": round(accuracy, 3), "macro_f1": round(sum(f1s) / len(f1s), 3)}


def vader(texts: list[str]) -> list[str] | None:
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        return None
    analyser = SentimentIntensityAnalyzer()
    scores = [analyser.polarity_scores(t)["compound"] for t in texts]
    return ["negative" if s <= -0.05 else "positive" if s >= 0.05 else "neutral" for s in scores]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = Path(os.environ.get("CXMETRICS_DATA") or ROOT.parent / "shared" / "data")
    parser.add_argument("--data", type=Path, default=default, help="the real-data folder (docs/data.md)")
    parser.add_argument("--no-train", action="store_true", help="skip the trained model (no scikit-learn needed)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    dev = args.data / "airline_tweets_sentiment" / "dev.csv"
    if not dev.exists():
        sys.exit(f"dev.csv not found at {dev}: get it as docs/data.md says, or pass --data")
    with dev.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    texts, truth = [r["text"] for r in rows], [r["airline_sentiment"] for r in rows]

    from cxmetrics.text import sentiment, train_sentiment

    majority = max(LABELS, key=truth.count)
    results: dict[str, dict[str, float | str]] = {
        f"majority class ({majority})": figures(truth, [majority] * len(truth))}
    by_vader = vader(texts)
    results["VADER as shipped"] = (figures(truth, by_vader) if by_vader is not None
                                   else {"skipped": "pip install vaderSentiment to compare"})
    results["cxmetrics shipped model, no labels"] = figures(truth, [s.label for s in sentiment(texts)])
    if not args.no_train:
        started = time.perf_counter()
        model = train_sentiment(texts, truth)
        results["trained on the file, 5-fold cross-validated"] = {
            "accuracy": round(model.cv_accuracy, 3), "macro_f1": round(model.cv_macro_f1, 3),
            "seconds_with_cv": round(time.perf_counter() - started)}
    print(f"dev.csv: {len(texts):,} texts")
    print(f"{'model':<46}{'accuracy':>9}{'macro-F1':>9}")
    for name, r in results.items():
        if "skipped" in r:
            print(f"{name:<46}  skipped: {r['skipped']}")
        else:
            print(f"{name:<46}{r['accuracy']:>9.3f}{r['macro_f1']:>9.3f}")
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / "text_sentiment.json"
    out.write_text(json.dumps({"texts": len(texts), "models": results}, indent=2), encoding="utf-8")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
