"""Text layer speed: texts/s and peak memory of sentiment and topic discovery at 100k texts,
and the whole workspace path for 100k tickets (issue 13; bench/text/README.md).

    .venv/bin/python bench/text/throughput.py [--n 100000] [--parts PART,...] [--tmp DIR]

Texts: BANKING77 training queries and airline tweets, repeated and perturbed (_corpus.py).
Each part runs in a fresh interpreter that reports its own wall time, CPU time (user + system,
DuckDB's and BLAS's threads added up: less swayed by other work on a shared machine than wall
time) and peak RSS; the 1-minute load average before each part is kept beside it.

  sentiment           the shipped model, `sentiment(texts)`
  sentiment_reference VADER (`pip install vaderSentiment`; its polarity_scores per text,
                      labels at +-0.05 as its authors advise) when importable, else a plain-Python
                      lexicon loop over the same VADER lexicon: the ratio is ours over it
  sentiment_trained   a model trained on the airline dev.csv (fit timed without cross-validation),
                      then `sentiment(texts, model=...)`
  topics              `discover(texts, k=77)`, then `assign` of a tenth of them again
  topics_auto         `discover(texts, k=None)`
  topics_reference    the issue's baseline: word TF-IDF + SVD (100) + k-means (77, 10 starts);
                      NMI against the BANKING77 intents (its texts only) for it and for ours
  workspace           n tickets (six events each: the text as the first customer message, an
                      agent reply, a customer follow-up, a resolving reply, solved) imported,
                      then the CLI: `text refresh`, `topics discover --k 77`, `text refresh --full`,
                      and 1% more tickets imported and `text refresh` again (incremental);
                      each command in its own process, with seconds per refresh step and the
                      rows each text table holds afterwards (every ticket must be there)

Aims, printed as PASS/FAIL lines: 100k tickets' texts processed (`text refresh` + `topics
discover`) in under 10 minutes on 2 cores; incremental afterwards (1% more tickets' `text
refresh` in under 10% of the CPU time of `text refresh --full`, which runs the same steps over
every ticket). JSON goes to bench/out/text_throughput.json
(text_throughput_<n>.json for other n).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Self

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import _corpus

PARTS = ("sentiment", "sentiment_reference", "sentiment_trained", "topics", "topics_auto", "topics_reference",
         "workspace")
AIM_SECONDS = 600  # the issue: 100k tickets' texts in under 10 minutes on 2 cores


# -- measured in the child -------------------------------------------------------------------


def _nmi(texts: list[_corpus.Text], labels: list[int]) -> float:
    """NMI of topics against the BANKING77 intents, over the BANKING77 texts only."""
    from sklearn.metrics import normalized_mutual_info_score

    pairs = [(t.topic, label) for t, label in zip(texts, labels, strict=True) if t.banking]
    return round(normalized_mutual_info_score([p[0] for p in pairs], [p[1] for p in pairs]), 4)


class Clock:
    """Wall and CPU seconds of a block (CPU: every thread of the process, so DuckDB's and BLAS's
    work counts; on a shared machine it moves less than wall time does)."""

    def __enter__(self) -> Self:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self._wall, time.process_time() - self._cpu

    def rates(self, n: int) -> dict[str, float]:
        return {"texts": n, "seconds": round(self.wall, 2), "cpu_seconds": round(self.cpu, 2),
                "texts_per_s": round(n / self.wall), "texts_per_cpu_s": round(n / max(self.cpu, 1e-9))}


def part_sentiment(n: int) -> dict[str, Any]:
    from cxmetrics.text import sentiment

    texts = [t.text for t in _corpus.corpus(n)]
    with Clock() as clock:
        scored = sentiment(texts)
    negative = sum(s.label == "negative" for s in scored) / n
    return {**clock.rates(n), "share_negative": round(negative, 3)}


def _plain_lexicon() -> Any:
    """The plain-Python reference: the VADER lexicon summed word by word, normalised as VADER does."""
    import math
    import re

    lexicon: dict[str, float] = {}
    path = ROOT / "src" / "cxmetrics" / "text" / "_sentiment_data" / "vader_lexicon.tsv"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            word, value = line.split("\t")[:2]
            lexicon[word] = float(value)
    words = re.compile(r"[\w']+")

    def compound(text: str) -> float:
        total = sum(lexicon.get(w, 0.0) for w in words.findall(text.lower()))
        return total / math.sqrt(total * total + 15)

    return compound


def part_sentiment_reference(n: int) -> dict[str, Any]:
    texts = [t.text for t in _corpus.corpus(n)]
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        name, compound = "plain-Python lexicon loop (vaderSentiment not installed)", _plain_lexicon()
    else:
        analyser = SentimentIntensityAnalyzer()
        from importlib.metadata import PackageNotFoundError, version

        try:
            name = f"vaderSentiment {version('vaderSentiment')}"
        except PackageNotFoundError:
            name = "vaderSentiment"
        compound = lambda text: analyser.polarity_scores(text)["compound"]
    with Clock() as clock:
        scores = [compound(t) for t in texts]
        labels = ["negative" if s <= -0.05 else "positive" if s >= 0.05 else "neutral" for s in scores]
    return {"reference": name.strip(), **clock.rates(n), "share_negative": round(labels.count("negative") / n, 3)}


def part_sentiment_trained(n: int) -> dict[str, Any]:
    import csv

    from cxmetrics.text import sentiment, train_sentiment

    with _corpus.AIRLINE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with Clock() as fit:
        # more folds than messages: cross-validation is skipped, the fit alone is timed
        model = train_sentiment([r["text"] for r in rows], [r["airline_sentiment"] for r in rows],
                                folds=len(rows) + 1)
    texts = [t.text for t in _corpus.corpus(n)]
    with Clock() as clock:
        sentiment(texts, model=model)
    return {"trained_on": len(rows), "fit_seconds": round(fit.wall, 1), **clock.rates(n)}


def part_topics(n: int) -> dict[str, Any]:
    from cxmetrics.text import discover

    corpus = _corpus.corpus(n)
    texts = [t.text for t in corpus]
    with Clock() as clock:
        found = discover(texts, k=77, seed=0)
    again = texts[: max(1, n // 10)]
    with Clock() as assign:
        assigned = found.assign(again)
    agree = sum(a == b for a, b in zip(assigned, found.labels, strict=False)) / len(assigned)
    return {**clock.rates(n), "k": found.k, "assign_texts": len(again),
            "assign_texts_per_s": round(len(again) / assign.wall),
            "assign_texts_per_cpu_s": round(len(again) / max(assign.cpu, 1e-9)),
            "assign_agrees_with_fit": round(agree, 4),
            "nmi_banking77": _nmi(corpus, found.labels)}


def part_topics_auto(n: int) -> dict[str, Any]:
    from cxmetrics.text import discover

    corpus = _corpus.corpus(n)
    with Clock() as clock:
        found = discover([t.text for t in corpus], k=None, seed=0)
    return {**clock.rates(n), "k": found.k, "nmi_banking77": _nmi(corpus, found.labels)}


def part_topics_reference(n: int) -> dict[str, Any]:
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    corpus = _corpus.corpus(n)
    with Clock() as clock:
        words = TfidfVectorizer().fit_transform([t.text for t in corpus])
        reduced = TruncatedSVD(100, random_state=0).fit_transform(words)
        reduced /= np.maximum(np.linalg.norm(reduced, axis=1, keepdims=True), 1e-12)
        labels = KMeans(77, n_init=10, random_state=0).fit_predict(reduced).tolist()
    return {"reference": "word TF-IDF + SVD 100 + k-means (k=77, 10 starts)", **clock.rates(n), "k": 77,
            "nmi_banking77": _nmi(corpus, labels)}


# a CLI command in the child, with the time of each text refresh step and of the facts refresh
CLI = """
import json, os, sys, time, traceback
from collections import defaultdict
import cxmetrics.facts, cxmetrics.text._store as store
from cxmetrics.cli import main

steps, cpu = defaultdict(float), defaultdict(float)
def clocked(name, fn):
    def run(*a, **k):
        t, c = time.perf_counter(), time.process_time()
        try:
            return fn(*a, **k)
        finally:
            steps[name] += time.perf_counter() - t
            cpu[name] += time.process_time() - c
    return run
step = store._step
store._step = lambda target: clocked(dict((t, n) for n, t in store.STEPS).get(target, target), step(target))
timed_facts = clocked("facts refresh", cxmetrics.facts.refresh_facts)
cxmetrics.facts.refresh_facts = timed_facts
try:  # `topics discover`: the clustering itself, apart from reading texts and writing topics
    import cxmetrics.text._topics_workspace as topics_ws
    topics_ws.discover = clocked("clustering", topics_ws.discover)
except (ImportError, AttributeError):
    pass
started, error = time.perf_counter(), None
try:
    main(sys.argv[1:], standalone_mode=False)
    if os.environ.get("BENCH_FACTS_AFTER"):  # the facts of the first import, apart from the text refresh
        import cxmetrics
        with cxmetrics.open(sys.argv[2]) as ws:
            ws.refresh()
except BaseException as exc:
    error = f"{type(exc).__name__}: {exc}"
    traceback.print_exc()
out = {"seconds": round(time.perf_counter() - started, 1), "steps_s": {k: round(v, 1) for k, v in steps.items()},
       "steps_cpu_s": {k: round(v, 1) for k, v in cpu.items()}}
if error:
    out["error"] = error
print("RESULT " + json.dumps(out))
"""

# what the text tables hold afterwards: every ticket's texts must have been processed
COUNTS = """
import json, sys, cxmetrics
queries = {
    "tickets": "SELECT count(*) FROM ticket_facts",
    "ticket_text_with_sentiment": "SELECT count(sentiment_first) FROM ticket_text",
    "message_sentiment": "SELECT count(*) FROM message_sentiment",
    "reply_signals": "SELECT count(*) FROM reply_signals",
    "resolution_answers": "SELECT count(*) FROM resolution_answers",
    "tickets_with_discovered_topic": "SELECT count(discovered_topic) FROM ticket_facts",
    "text_models_mb": "SELECT round(sum(octet_length(payload)) / 1048576, 1) FROM text_models",
}
try:  # a resolving reply is compared only within a discovered topic that has enough of them
    from cxmetrics.text.consistency import MIN_ANSWERS
    queries["resolution_answers_expected"] = f'''
        SELECT coalesce(sum(n), 0) FROM (
            SELECT count(*) AS n FROM ticket_facts f JOIN ticket_text t USING (source, ticket_id)
            WHERE f.first_solved_at IS NOT NULL AND NOT f.excluded AND t.topic_id IS NOT NULL
            GROUP BY t.topic_id HAVING count(*) >= {MIN_ANSWERS})'''
except ImportError:
    pass
out = {}
with cxmetrics.open(sys.argv[1], read_only=True) as ws:
    for name, sql in queries.items():
        try:
            out[name] = ws.con.execute(sql).fetchall()[0][0]
        except Exception as exc:
            out[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
print("RESULT " + json.dumps(out, default=float))
"""


def _run(args: list[str], **extra_env: str) -> dict[str, Any]:
    """Run a fresh interpreter on args; its last `RESULT {json}` line, with the wall time, CPU
    time and peak RSS of the whole process (os.wait4: its threads included)."""
    paths = (str(ROOT / "src"), os.environ.get("PYTHONPATH"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p),
           **extra_env}
    load = os.getloadavg()[0]
    with tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        assert proc.stdout is not None
        stdout = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stdout.close()
        err.seek(0)
        stderr = err.read()
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT "):]) if lines else {}
    if proc.returncode or not lines:
        result.setdefault("error", (stderr.strip().splitlines() or ["no output"])[-1])
    result.update(process_wall_s=round(wall, 1), cpu_s=round(usage.ru_utime + usage.ru_stime, 1),
                  peak_rss_mb=round(usage.ru_maxrss / 1024), load_1m_before=round(load, 2))
    return result


# -- the parts, run from the parent ----------------------------------------------------------


def workspace(n: int, tmp: Path) -> dict[str, Any]:
    """The workspace path: n tickets imported, then the CLI commands a user runs, each in its own process."""
    folder = tmp / f"ws_text_{n}"
    shutil.rmtree(folder, ignore_errors=True)
    more = max(1, n // 100)
    started = time.perf_counter()
    texts = _corpus.corpus(n + more)
    first = _corpus.write_events(tmp / f"events_{n}.csv", texts[:n])
    extra = _corpus.write_events(tmp / f"events_{n}_more.csv", texts[n:], first=n)
    out: dict[str, Any] = {"tickets": n, "more_tickets": more, "events_per_ticket": 6,
                           "generate_s": round(time.perf_counter() - started, 1), "commands": {}}
    commands = [
        ("import (+ facts refresh)", ["import", "events", str(first)]),
        ("text refresh", ["text", "refresh"]),
        ("topics discover", ["topics", "discover", "--k", "77"]),
        ("text refresh --full", ["text", "refresh", "--full"]),
        ("counts", None),
        ("import 1% more", ["import", "events", str(extra)]),
        ("text refresh (incremental)", ["text", "refresh"]),
        ("counts after", None),
    ]
    for name, command in commands:
        if command is None:
            out[name.replace(" ", "_")] = _run(["-c", COUNTS, str(folder)])
            print(f"  workspace {name}: {json.dumps(out[name.replace(' ', '_')])}", file=sys.stderr, flush=True)
            continue
        # the first import's facts are refreshed in its process, so that `text refresh` times the
        # text alone; later, `text refresh` brings the new rows' facts up to date itself, as a user sees
        facts_after = {"BENCH_FACTS_AFTER": "1"} if name == "import (+ facts refresh)" else {}
        out["commands"][name] = _run(["-c", CLI, "-w", str(folder), *command], **facts_after)
        print(f"  workspace `{' '.join(command[:3])}`: {json.dumps(out['commands'][name])}", file=sys.stderr,
              flush=True)
        if name.startswith("import") and "error" in out["commands"][name]:
            break
    return out


def _row(name: str, r: dict[str, Any]) -> str:
    if "error" in r:
        return f"{name:<20} error: {r['error']}"
    notes = [r["reference"]] if "reference" in r else []
    notes += [f"{key} {r[key]:,}" for key in ("k", "nmi_banking77", "share_negative", "fit_seconds",
                                               "assign_texts_per_s") if key in r]
    return (f"{name:<20}{r.get('texts', 0):>8,}{r.get('seconds', 0):>9,.1f}{r.get('texts_per_s', 0):>9,}"
            f"{r.get('cpu_seconds', 0):>8,.1f}{r.get('texts_per_cpu_s', 0):>12,}{r['peak_rss_mb']:>8,}"
            f"{r['load_1m_before']:>6.1f}  {'; '.join(notes)}")


def _ratio(results: dict[str, Any], ours: str, reference: str, key: str) -> float | None:
    a, b = results.get(ours, {}), results.get(reference, {})
    if key in a and key in b and "error" not in a and "error" not in b:
        return round(a[key] / b[key], 2)
    return None


def report(results: dict[str, Any]) -> list[str]:
    """The table, the ratios and the aims' PASS/FAIL lines."""
    lines = [(f"{'part':<20}{'texts':>8}{'seconds':>9}{'texts/s':>9}{'cpu s':>8}{'texts/cpu-s':>12}{'peak MB':>8}"
              f"{'load':>6}  notes")]
    lines += [_row(p, results[p]) for p in PARTS if p != "workspace" and p in results]
    for ours, reference in (("sentiment", "sentiment_reference"), ("sentiment_trained", "sentiment_reference"),
                            ("topics", "topics_reference"), ("topics_auto", "topics_reference")):
        wall, cpu = (_ratio(results, ours, reference, key) for key in ("texts_per_s", "texts_per_cpu_s"))
        if wall is not None:
            lines.append(f"ratio {ours} / {reference}: {wall} (texts/s), {cpu} (texts per CPU second)")
    ws = results.get("workspace")
    if not ws:
        return lines
    lines.append(f"workspace: {ws['tickets']:,} tickets ({ws['events_per_ticket']} events each), then "
                 f"{ws['more_tickets']:,} more")
    lines.append(f"{'command':<28}{'seconds':>9}{'cpu s':>9}{'peak MB':>9}{'load':>7}  steps (wall/CPU s)")
    for name, r in ws["commands"].items():
        cpu = r.get("steps_cpu_s", {})
        steps = ", ".join(f"{k} {v}/{cpu.get(k, '?')}" for k, v in sorted(r.get("steps_s", {}).items(),
                                                                         key=lambda kv: -kv[1]))
        text = f"error: {r['error']}" if "error" in r else steps
        lines.append(f"{name:<28}{r['process_wall_s']:>9,.1f}{r['cpu_s']:>9,.0f}{r['peak_rss_mb']:>9,}"
                     f"{r['load_1m_before']:>7.1f}  {text}")
    for key in ("counts", "counts_after"):
        if key in ws:
            usage = ("process_wall_s", "cpu_s", "peak_rss_mb", "load_1m_before")
            shown = {k: v for k, v in ws[key].items() if k not in usage}
            lines.append(f"{key}: " + ", ".join(f"{k} {v}" for k, v in shown.items()))
    lines += aims(ws)
    return lines


def aims(ws: dict[str, Any]) -> list[str]:
    c = ws["commands"]
    # below 100k the fixed costs (start-up, the model's load) weigh more: no verdict
    full_size = ws["tickets"] >= 100_000
    note = "" if full_size else f" (aims are for 100k tickets; measured on {ws['tickets']:,})"

    def verdict(passed: bool) -> str:
        return ("PASS" if passed else "FAIL") if full_size else "n/a "

    first, discover, full, again = (c.get(k, {"error": "not run"}) for k in (
        "text refresh", "topics discover", "text refresh --full", "text refresh (incremental)"))
    out = []
    if "error" in first or "error" in discover:
        out.append("FAIL  100k tickets' texts in under 10 minutes: not measured (a command failed)")
    else:
        wall = first["process_wall_s"] + discover["process_wall_s"]
        cpu = first["cpu_s"] + discover["cpu_s"]
        load = max(first["load_1m_before"], discover["load_1m_before"])
        out.append(f"{verdict(wall < AIM_SECONDS)}  100k tickets' texts (text refresh + topics discover) in under "
                   f"10 minutes, wall time: {wall / 60:.1f} min (load average up to {load:.1f} on {os.cpu_count()} "
                   f"cores){note}")
        # with no other work and no waiting on the disk, a process's wall time is at most its CPU
        # time (threads only shorten it): CPU time bounds what an idle machine would take
        out.append(f"{verdict(cpu < AIM_SECONDS)}  the same in CPU time, the bound on an idle machine's wall "
                   f"time: {cpu / 60:.1f} min{note}")
    counts = ws.get("counts_after", {})
    tickets = counts.get("tickets")
    if isinstance(tickets, int):
        want = {"ticket_text_with_sentiment": tickets, "message_sentiment": 2 * tickets, "reply_signals": 2 * tickets,
                "resolution_answers": counts.get("resolution_answers_expected", "?"),
                "tickets_with_discovered_topic": tickets}
        short = [f"{k} {counts.get(k)} (want {v})" for k, v in want.items() if counts.get(k) != v]
        out.append(("FAIL  every ticket's texts processed: " + "; ".join(short)) if short
                   else f"PASS  every ticket's texts processed ({tickets:,} tickets: two customer messages, "
                        "two agent replies each, and the resolving reply of each in a topic large enough to "
                        "compare)")
    if "error" in full or "error" in again:
        out.append("FAIL  incremental: not measured (a command failed)")
    else:
        # against `text refresh --full`: the same steps, with the topic model, over every ticket
        share = again["cpu_s"] / full["cpu_s"]
        cpu = again.get("steps_cpu_s") or {"?": 0}
        top = max(cpu, key=cpu.get)
        out.append(f"{verdict(share < 0.10)}  incremental: {ws['more_tickets']:,} more tickets' `text refresh` in "
                   f"{again['process_wall_s']:.1f} s ({again['cpu_s']:.1f} CPU s), {share:.0%} of `text refresh "
                   f"--full`'s CPU time (aim < 10%; most of it: {top}, {cpu[top]} CPU s){note}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="texts (and workspace tickets) to time")
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated, from: " + ", ".join(PARTS))
    parser.add_argument("--tmp", type=Path, help="keep the workspace and its CSVs here (default: a temporary folder)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(globals()[f"part_{args.child}"](args.n)), flush=True)
        return
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        sys.exit(f"unknown part(s) {', '.join(unknown)}: choose from {', '.join(PARTS)}")
    if args.n < 100:
        sys.exit(f"--n {args.n} is too few texts to cluster into 77 topics: give at least 100")
    why = _corpus.missing()
    if why:
        sys.exit(why)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / ("text_throughput.json" if args.n == 100_000 else f"text_throughput_{args.n}.json")
    # a run of some parts keeps the other parts' last results
    results: dict[str, Any] = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            check=False)  # not a git checkout: no commit to name
    results["run"] = {"n": args.n, "cpus": os.cpu_count(), "commit": commit.stdout.strip() or None,
                      "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    for part in parts:
        if part == "workspace":
            if args.tmp:
                args.tmp.mkdir(parents=True, exist_ok=True)
                results[part] = workspace(args.n, args.tmp)
            else:
                with tempfile.TemporaryDirectory(prefix="cx_text_bench_") as tmp:
                    results[part] = workspace(args.n, Path(tmp))
        else:
            results[part] = _run([__file__, "--child", part, "--n", str(args.n)])
            print(f"  {part}: {json.dumps(results[part])}", file=sys.stderr, flush=True)
        out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print("\n".join(report(results)))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
