"""`cxmetrics text sentiment` and `cxmetrics text train-sentiment` (issue 13, items 2 and 6)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

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
@click.argument("file", type=_FILE, required=False)
@click.option("--column", default=None, help="FILE's column holding the texts.")
@click.option("--label", "label_column", default=None,
              help="FILE's column holding each text's label: negative, neutral or positive.")
@click.option("--score", "score_column", default=None,
              help="Instead of labels, FILE's survey score column to label by (weak labels; see --scale).")
@click.option("--scale", type=click.Choice(["csat", "nps"]), default="csat", show_default=True,
              help="The --score column's scale: csat 1-2 negative, 3 neutral, 4-5 positive; "
                   "nps 0-6 negative, 7-8 neutral, 9-10 positive.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the model to this JSON file (for `text sentiment --model`) instead of keeping it "
                   "in the workspace.")
@click.option("--save", is_flag=True, help="With --out: keep the model in the workspace too.")
@click.option("--default", "use_default", is_flag=True,
              help="Train nothing: go back to the shipped model and score the workspace's messages with it again.")
@click.pass_context
@fail_cleanly
def train_sentiment_cmd(ctx: click.Context, file: Path | None, column: str | None, label_column: str | None,
                        score_column: str | None, scale: str, out: Path | None, save: bool, use_default: bool) -> None:
    """Learn a sentiment model and print its 5-fold cross-validated accuracy and macro-F1.

    \b
    With no FILE: from the workspace's CSAT and NPS survey comments, each labelled by its
    score (weak labels: the survey's bottom box negative, top box positive, between neutral).
    With FILE (CSV or JSONL): from its --column texts, labelled by --label or by --score.

    The model is kept in the workspace and used from then on for every customer message
    (they are scored again now); with --out it is written to a file instead (add --save to
    do both). --default goes back to the shipped model."""
    from cxmetrics._clitools import open_workspace
    from cxmetrics.text._sentiment_workspace import require_enough, survey_comments, use_default_sentiment

    if use_default:
        if file is not None or out is not None or save or column or label_column or score_column:
            raise UserError("--default trains nothing: give it alone (`cxmetrics text train-sentiment --default`).")
        with open_workspace(ctx) as ws:
            back = use_default_sentiment(ws)
        click.echo(f"the workspace scores its {back.messages:,} customer messages with the shipped model again")
        _print_change(back)
        return
    if save and out is None:
        raise UserError("--save goes with --out (write a file and keep the model in the workspace); "
                        "without --out the model is kept in the workspace anyway.")
    keep = out is None or save
    if file is None:
        if column or label_column or score_column:
            raise UserError("--column, --label and --score read a FILE: name it (`cxmetrics text train-sentiment "
                            "FILE --column TEXT --label LABEL`), or give none of them to learn from the "
                            "workspace's survey comments.")
        with open_workspace(ctx) as ws:
            texts, labels = survey_comments(ws)
            origin = "survey comments (CSAT and NPS, weakly labelled by their scores)"
            counts = require_enough(labels, "the workspace's distinct CSAT and NPS survey comments with a score")
            _train_and_keep(ws if keep else None, texts, labels, counts, origin, out, total=None)
        return
    if column is None:
        raise UserError("train-sentiment FILE needs --column COLUMN: the column holding the texts.")
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
    texts_kept, labels_kept = [t for t, _ in pairs], [lab for _, lab in pairs]
    origin = f"{file.name}, {'--label ' + label_column if label_column else '--score ' + str(score_column)}"
    if not keep:
        _train_and_keep(None, texts_kept, labels_kept, None, origin, out, total=len(texts))
        return
    with open_workspace(ctx) as ws:
        counts = require_enough(labels_kept, file.name, "Label more texts of the short classes, or write the model "
                                "to a file only (--out MODEL.json) to try it first.")
        _train_and_keep(ws, texts_kept, labels_kept, counts, origin, out, total=len(texts))


def _train_and_keep(ws: Any, texts: list[str], labels: list[str], counts: dict[str, int] | None, origin: str,
                    out: Path | None, *, total: int | None) -> None:
    """Train, print the figures, then write the file and/or keep the model in `ws`; `total`
    is the rows read from a file (None: the workspace's distinct survey comments)."""
    from cxmetrics.text._sentiment_workspace import keep_sentiment_model

    model = train_sentiment(texts, labels)
    per_class = counts or {lab: labels.count(lab) for lab in sorted(set(labels))}
    what = ("distinct survey comments" if total is None
            else f"messages ({total - len(texts)} without text or label left out)")
    click.echo(f"trained on {model.n_trained} {what}: " + ", ".join(f"{n} {lab}" for lab, n in per_class.items()))
    if model.cv_macro_f1 is None:
        click.echo("cross-validation: too few messages of some label for 5 folds (need at least 5 of each)")
    else:
        click.echo(f"5-fold cross-validated accuracy {model.cv_accuracy:.3f}, macro-F1 {model.cv_macro_f1:.3f}")
    if out is not None:
        model.save(out)
        click.echo(f"model written to {out}; use it with: cxmetrics text sentiment FILE --column TEXT --model {out}")
    if ws is not None:
        kept = keep_sentiment_model(ws, model, origin=origin, counts=counts)
        click.echo(f"kept in the workspace as {kept.model_id}: its {kept.messages:,} customer messages are scored "
                   "with it from now on")
        _print_change(kept)
        click.echo("back to the shipped model: cxmetrics text train-sentiment --default")


def _print_change(kept: Any) -> None:
    """The labels' shares before and after a change of model, and a warning when most changed."""
    if not kept.messages:
        return
    shares = ", ".join(f"{label} {kept.before.get(label, 0):.1%} -> {kept.after.get(label, 0):.1%}"
                       for label in ("negative", "neutral", "positive"))
    click.echo(f"customer messages before -> after: {shares}")
    if kept.agreement is not None:
        click.echo(f"{kept.agreement:.1%} of them keep their label")
        if kept.agreement < 0.5 and kept.model_id != "default":
            click.echo("warning: the new model relabels most messages; what it learnt from may not read like your "
                       "customers' messages (survey comments often do not). Check a sample with `cxmetrics text "
                       "sentiment`, or go back to the shipped model.", err=True)
