"""Sentiment quality on the airline tweets and speed at 100k texts (issue 13, `bench/text`).

    .venv/bin/python bench/text_sentiment_eval.py [--data DIR] [--texts 100000] [--no-train]

Prints the shipped model's accuracy and macro-F1 on dev.csv (no labels used), the 5-fold
cross-validated figures of a model trained on it (scikit-learn), then throughput (texts/s) and
peak memory of scoring N texts (dev.csv repeated) with each. Run it in a fresh process: peak
memory is the process's high-water mark.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LABELS = ("negative", "neutral", "positive")


def _figures(truth: list[str], predicted: list[str]) -> tuple[float, float]:
    accuracy = sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth)
    f1s = []
    for label in LABELS:
        tp = sum(t == p == label for t, p in zip(truth, predicted, strict=True))
        precision, recall = tp / max(1, predicted.count(label)), tp / max(1, truth.count(label))
        f1s.append(2 * precision * recall / (precision + recall) if tp else 0.0)
    return accuracy, sum(f1s) / len(f1s)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = Path(os.environ.get("CXMETRICS_DATA") or REPO.parent / "shared" / "data")
    parser.add_argument("--data", type=Path, default=default, help="the real-data folder (docs/data.md)")
    parser.add_argument("--texts", type=int, default=100_000, help="how many texts to time")
    parser.add_argument("--no-train", action="store_true", help="skip the trained model (no scikit-learn needed)")
    args = parser.parse_args()
    dev = args.data / "airline_tweets_sentiment" / "dev.csv"
    if not dev.exists():
        sys.exit(f"dev.csv not found at {dev}: get it as docs/data.md says, or pass --data")
    with dev.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    texts, truth = [r["text"] for r in rows], [r["airline_sentiment"] for r in rows]
    big = (texts * (args.texts // len(texts) + 1))[:args.texts]

    from cxmetrics.text import sentiment, train_sentiment

    majority = max(LABELS, key=truth.count)
    print(f"dev.csv: {len(texts)} texts; majority class '{majority}' alone: "
          "accuracy {:.3f}, macro-F1 {:.3f}".format(*_figures(truth, [majority] * len(truth))))
    print("shipped model (no labels):   accuracy {:.3f}, macro-F1 {:.3f}".format(
        *_figures(truth, [s.label for s in sentiment(texts)])))
    start = time.perf_counter()
    sentiment(big)
    seconds = time.perf_counter() - start
    print(f"shipped model, {len(big):,} texts: {len(big) / seconds:,.0f} texts/s ({seconds:.1f} s), "
          f"peak memory {_peak_mb():,.0f} MB")
    if args.no_train:
        return
    start = time.perf_counter()
    model = train_sentiment(texts, truth)
    print(f"trained model, 5-fold CV:     accuracy {model.cv_accuracy:.3f}, macro-F1 {model.cv_macro_f1:.3f} "
          f"(cross-validation and fit: {time.perf_counter() - start:.0f} s)")
    start = time.perf_counter()
    sentiment(big, model=model)
    seconds = time.perf_counter() - start
    print(f"trained model, {len(big):,} texts: {len(big) / seconds:,.0f} texts/s ({seconds:.1f} s), "
          f"peak memory {_peak_mb():,.0f} MB")


if __name__ == "__main__":
    main()
