"""`cxmetrics text topics FILE --column text`: the topic of each row of any CSV/JSONL file."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click

from cxmetrics._clitools import fail_cleanly
from cxmetrics._csvsafe import neutralise
from cxmetrics.errors import UserError
from cxmetrics.text._files import read_column
from cxmetrics.text.topics import METHODS, Topics, discover


@click.command("topics")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--column", required=True, help="The column holding the texts.")
@click.option("--k", type=click.IntRange(min=1), default=None, help="Number of topics.")
@click.option("--auto", is_flag=True, help="Pick the number of topics (silhouette; docs/text.md).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed: same seed, same topics.")
@click.option("--method", type=click.Choice(METHODS), default="tfidf", show_default=True,
              help="tfidf: light, needs cxmetrics[text]; minilm: sentence embeddings, better topics, slower, "
                   "needs cxmetrics[embeddings] (docs/text.md).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "table"]), default="csv", show_default=True,
              help="csv/json: row, topic id and name per input row, in input order; table: the topics.")
@fail_cleanly
def topics(file: Path, column: str, k: int | None, auto: bool, seed: int, method: str, fmt: str) -> None:
    """Discover the topics of a text column and print each row's topic (needs cxmetrics[text])."""
    if (k is None) == (not auto):
        raise UserError("give either --k N (the number of topics) or --auto (pick it), not both or neither.")
    texts = read_column(file, column)
    found = discover(texts, k=k, seed=seed, method=method)
    if auto:
        click.echo(f"--auto picked k={found.k} topics (highest cosine silhouette, smallest k within 2%).", err=True)
    if fmt == "table":
        _table(found)
    else:  # one row per input row, numbered from 1 as `text sentiment` does
        names = {t.id: t.name for t in found.topics}
        rows = [(i + 1, label, names[label]) for i, label in enumerate(found.labels)]
        if fmt == "json":
            click.echo(json.dumps([{"row": r, "topic": t, "name": n} for r, t, n in rows], indent=1,
                                  ensure_ascii=False))
            return
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["row", "topic", "name"])
        # names are words of the customers' texts: a spreadsheet must not run one as a formula
        writer.writerows((r, t, neutralise(n)) for r, t, n in rows)

def _table(found: Topics) -> None:
    click.echo(f"{'topic':>5}  {'size':>6}  distinctive words / example")
    for topic in found.topics:
        click.echo(f"{topic.id:>5}  {topic.size:>6}  {', '.join(topic.words)}")
        example = topic.example if len(topic.example) <= 100 else topic.example[:99] + "…"
        click.echo(f"{'':>5}  {'':>6}  e.g. {example!r}")
