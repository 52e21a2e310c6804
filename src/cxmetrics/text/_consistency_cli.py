"""`cxmetrics text consistency`: do agents give the same answer to the same question? Per topic
or per agent, or the answers that stand apart (docs/text.md "Consistency of resolutions")."""

from __future__ import annotations

import click

import cxmetrics
from cxmetrics._clitools import fail_cleanly, workspace_path
from cxmetrics._output import FORMATS, render
from cxmetrics.errors import MissingDependencyError, StoreError
from cxmetrics.metrics._compile import check_instant, check_range
from cxmetrics.text._consistency_facts import answers_apart, scores, topic_source
from cxmetrics.text._store import enabled, refresh_text


@click.command("consistency")
@click.option("--by", type=click.Choice(["topic", "agent"]), default="topic", show_default=True,
              help="One row per topic or per agent (the agent who wrote the resolving reply).")
@click.option("--apart", is_flag=True, help="List the answers that stand apart from their topic's usual answer "
              "instead, most apart first.")
@click.option("--from", "start", help="Answers given from (inclusive), e.g. 2025-01-01.")
@click.option("--to", "end", help="Answers given before (exclusive), e.g. 2025-07-01.")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="With --apart: at most this many answers (table format: 50).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format.")
@click.pass_context
@fail_cleanly
def consistency_cmd(ctx: click.Context, by: str, apart: bool, start: str | None, end: str | None, limit: int | None,
                    fmt: str) -> None:
    """How much the agents' resolving replies differ within each topic (needs cxmetrics[text]).

    Consistency is 0-100: the mean similarity of resolving replies to their topic's usual
    answer. The first run computes the text facts (as `cxmetrics text refresh` does)."""
    if limit is not None and not apart:
        raise click.UsageError("--limit goes with --apart (the answers apart); per topic or agent every row shows.")
    check_instant(start, "start (--from)")  # a typo is reported before any work
    check_instant(end, "end (--to)")
    check_range(start, end)
    _no_sklearn_hint()
    path = workspace_path(ctx)
    if not (path / "cxmetrics.duckdb").exists():
        raise StoreError(f"no workspace at {path}: create one with `cxmetrics demo` or `cxmetrics import`, "
                         "or point --workspace (or CXMETRICS_WORKSPACE) at an existing one.")
    with cxmetrics.open(path) as ws:
        if not enabled(ws.con):  # the text layer is off: turn it on (every later refresh keeps it up to date)
            click.echo("Computing the text facts of every ticket (the text layer is on from now on)...", err=True)
            refresh_text(ws)
        source = topic_source(ws.con)
        if source.kind == "help desk":
            click.echo("Topics: the help desk's own (no discovered topics; `cxmetrics topics discover` finds them).",
                       err=True)
        if apart:
            shown = limit or (50 if fmt == "table" else None)
            table = answers_apart(ws, start=start, end=end, limit=shown + 1 if shown else None)
            if shown is not None and table.num_rows > shown:
                click.echo(f"more than {shown} answers apart; showing the {shown} most apart (use --limit)", err=True)
                table = table.slice(0, shown)
        else:
            table = scores(ws, by, start=start, end=end)
    click.echo(render(table, fmt))


def _no_sklearn_hint() -> None:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise MissingDependencyError("comparing answers needs scikit-learn, which the base install leaves out: "
                                     "pip install 'cxmetrics[text]'") from None
