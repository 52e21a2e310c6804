"""`cxmetrics text signals`: the signals of a good answer for each reply in a file (issue 13, item 4)."""

from __future__ import annotations

from pathlib import Path

import click
import pyarrow as pa

from cxmetrics._clitools import fail_cleanly
from cxmetrics._output import render
from cxmetrics.text._files import read_column
from cxmetrics.text.signals import signals

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command("signals")
@click.argument("file", type=_FILE)
@click.option("--reply-column", required=True, help="The column holding the agents' replies.")
@click.option("--question-column", default=None,
              help="The column holding what each reply answers (the customer's message); without it, "
                   "only greeting by name and empathy are judged.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "table"]), default="csv", show_default=True)
@fail_cleanly
def signals_cmd(file: Path, reply_column: str, question_column: str | None, fmt: str) -> None:
    """Print the signals of a good answer for each row of a CSV or JSONL FILE, in input order:
    greets_by_name, refers_specifics, personalised, empathetic, questions, questions_answered,
    thorough, relevance (0-1) and relevant (docs/text.md). Rarity of the customer's words is
    measured over the file's --question-column."""
    replies = read_column(file, reply_column)
    asked: list[str | None] = [None] * len(replies)
    if question_column is not None:
        asked = [q if q.strip() else None for q in read_column(file, question_column)]
    found = signals(replies, asked)
    table = pa.table({
        "row": pa.array(range(1, len(found) + 1), pa.int64()),
        **{name: pa.array([getattr(s, name) for s in found]) for name in (
            "greets_by_name", "refers_specifics", "personalised", "empathetic", "questions", "questions_answered",
            "thorough", "relevance", "relevant")},
    })
    click.echo(render(table, fmt))
