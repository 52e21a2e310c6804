"""`cxmetrics text sentiment` and `cxmetrics text train-sentiment` (issue 13, items 2 and 6)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click

from cxmetrics._clitools import fail_cleanly
from cxmetrics.errors import UserError
from cxmetrics.text._sentiment_train import SentimentModel
from cxmetrics.text._files import read_column
from cxmetrics.text.sentiment import sentiment, train_sentiment, weak_labels

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command("sentiment")
@click.argument("file", type=_FILE)
@click.option("--column", required=True, help="The column holding the texts.")
@click.option("--model", "model_path", type=_FILE, default=None,
              help="A model from `text train-sentiment` (default: the shipped model).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@fail_cleanly
def sentiment_cmd(file: Path, column: str, model_path: Path | None, fmt: str) -> None:
    """Print one label (negative|neutral|positive) and score in [-1, 1] per row of a CSV or
    JSONL FILE, in input order; an empty text is neutral, score 0."""
    texts = read_column(file, column)
    model = SentimentModel.load(model_path) if model_path else None
    results = sentiment(texts, model=model)
    if fmt == "json":
        rows = [{"row": i + 1, "label": s.label, "score": round(s.score, 4)} for i, s in enumerate(results)]
        click.echo(json.dumps(rows, indent=1))
        return
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["row", "label", "score"])
    for i, s in enumerate(results):
        out.writerow([i + 1, s.label, f"{s.score:.4f}"])


@click.command("train-sentiment")
@click.argument("file", type=_FILE)
@click.option("--column", required=True, help="The column holding the texts.")
@click.option("--label", "label_column", default=None,
              help="The column holding each text's label: negative, neutral or positive.")
@click.option("--score", "score_column", default=None,
              help="Instead of labels, a survey score column to label by (weak labels; see --scale).")
@click.option("--scale", type=click.Choice(["csat", "nps"]), default="csat", show_default=True,
              help="The --score column's scale: csat 1-2 negative, 3 neutral, 4-5 positive; "
                   "nps 0-6 negative, 7-8 neutral, 9-10 positive.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the model (JSON).")
@fail_cleanly
def train_sentiment_cmd(file: Path, column: str, label_column: str | None, score_column: str | None, scale: str,
                        out: Path) -> None:
    """Learn a sentiment model from a labelled CSV or JSONL FILE, print its 5-fold
    cross-validated accuracy and macro-F1, and write it to --out for `text sentiment --model`."""
    if (label_column is None) == (score_column is None):
        raise UserError("train-sentiment needs exactly one of --label COLUMN (labels negative/neutral/positive) "
                        "or --score COLUMN (survey scores, weakly labelled by --scale).")
    texts = read_column(file, column)
    if label_column is not None:
        labels: list[str | None] = [v.strip().lower() or None for v in read_column(file, label_column)]
    else:
        raw = read_column(file, score_column or "")
        try:
            labels = weak_labels([float(v) if v.strip() else None for v in raw], scale)
        except ValueError as exc:
            if isinstance(exc, UserError):
                raise
            raise UserError(f"Column '{score_column}' holds a value that is not a number ({exc}).") from exc
    pairs = [(t, lab) for t, lab in zip(texts, labels, strict=True) if lab is not None and t.strip()]
    model = train_sentiment([t for t, _ in pairs], [lab for _, lab in pairs])
    model.save(out)
    click.echo(f"trained on {model.n_trained} messages ({len(texts) - len(pairs)} without text or label left out)")
    if model.cv_macro_f1 is None:
        click.echo("cross-validation: too few messages of some label for 5 folds (need at least 5 of each)")
    else:
        click.echo(f"5-fold cross-validated accuracy {model.cv_accuracy:.3f}, macro-F1 {model.cv_macro_f1:.3f}")
    click.echo(f"model written to {out}; use it with: cxmetrics text sentiment FILE --column TEXT --model {out}")
