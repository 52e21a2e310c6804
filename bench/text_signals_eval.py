"""Signals of a good answer (issue 13, item 4; docs/text.md): where the relevance threshold comes
from, and how fast the signals are.

    .venv/bin/python bench/text_signals_eval.py [--data ../shared/data] [--n 100000]

1. Threshold: 5,000 pairs of BANKING77 training queries with the same intent and 5,000 random
   pairs (seed 0); for each candidate threshold, the share of each reaching it. RELEVANT_AT is
   the threshold that best separates them (largest difference of the two shares).
2. Speed: `signals(replies, asked)` over n synthetic replies and questions (wall time, peak RSS).
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import time
from pathlib import Path

import numpy as np

from cxmetrics.text._signals_bags import bags, cosine
from cxmetrics.text.signals import RELEVANT_AT, signals


def threshold(data: Path, pairs: int = 5000) -> None:
    with (data / "banking77_intents" / "train.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    texts = [r["text"] for r in rows]
    intents = [r["category"] for r in rows]
    by_intent: dict[str, list[int]] = {}
    for i, intent in enumerate(intents):
        by_intent.setdefault(intent, []).append(i)
    rng = np.random.default_rng(0)
    first = rng.integers(0, len(texts), pairs)
    same = np.array([rng.choice(by_intent[intents[i]]) for i in first])
    other = rng.integers(0, len(texts), pairs)
    scores = {}
    for name, second in (("same intent", same), ("random", other)):
        found, weights = bags([texts[i] for i in first], [texts[i] for i in second])
        scores[name] = np.nan_to_num(cosine(found.groups[0], weights[0], found.groups[1], weights[1], found.size, pairs))
    print(f"BANKING77, {pairs} pairs each: share of pairs whose relevance reaches the threshold")
    print("threshold  same intent  random  difference")
    for t in (0.05, 0.10, 0.15, 0.20, 0.25, 0.30):
        a, b = (scores["same intent"] >= t).mean(), (scores["random"] >= t).mean()
        mark = "  <- RELEVANT_AT" if abs(t - RELEVANT_AT) < 1e-9 else ""
        print(f"{t:9.2f}  {a:11.3f}  {b:6.3f}  {a - b:10.3f}{mark}")


def speed(n: int) -> None:
    rng = random.Random(0)
    asks = ["How do I reset my password? And can I change my email?",
            "My order #A-{k} for ${k}.00 has not arrived, where is it?",
            "The kettle I bought stopped working after two days. Can I get a refund or a replacement?\nThanks,\nMaria"]
    answers = ["Hi Maria, sorry about that! To reset your password open Settings > Security.",
               "Dear customer, your order A-{k} left our warehouse today and should arrive in 3 days.",
               "Hello Ana, I understand how frustrating that is. We will send a replacement kettle today."]
    asked = [rng.choice(asks).format(k=rng.randint(100, 99999)) for _ in range(n)]
    replies = [rng.choice(answers).format(k=rng.randint(100, 99999)) for _ in range(n)]
    start = time.perf_counter()
    signals(replies, asked)
    took = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"signals: {n:,} replies in {took:.1f} s ({n / took:,.0f} a second), peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    if (args.data / "banking77_intents" / "train.csv").exists():
        threshold(args.data)
    else:
        print(f"no BANKING77 under {args.data}: threshold part skipped")
    speed(args.n)
