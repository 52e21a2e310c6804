"""`cxmetrics topics discover`: the topics of the workspace's tickets, kept in the workspace
(docs/text.md, "Discovered topics in the workspace")."""

from __future__ import annotations

import json
from dataclasses import asdict

import click
import pyarrow as pa

from cxmetrics._clitools import fail_cleanly, workspace_path
from cxmetrics._output import FORMATS, render
from cxmetrics.errors import StoreError, UserError
from cxmetrics.text._topics_workspace import Discovery, discover_tickets

_EXAMPLE = 70  # characters of an example shown on screen


@click.command("discover")
@click.option("--k", type=click.IntRange(min=2), default=None, help="Number of topics.")
@click.option("--auto", is_flag=True, help="Pick the number of topics (silhouette; docs/text.md).")
@click.option("--from", "start", help="Cluster the tickets created from this date (inclusive); all are assigned.")
@click.option("--to", "end", help="... up to this date (exclusive).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed: same tickets and seed, same topics.")
@click.option("--refit", is_flag=True, help="Cluster again, replacing the topics kept; reports which split, merged, "
                                            "appeared or disappeared.")
@click.option("--method", type=click.Choice(["tfidf", "minilm"]), default="tfidf", show_default=True,
              help="tfidf: light; minilm: sentence embeddings, better topics, slower (cxmetrics[embeddings]).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format.")
@click.pass_context
@fail_cleanly
def discover_cmd(ctx: click.Context, k: int | None, auto: bool, start: str | None, end: str | None, seed: int,
                 refit: bool, method: str, fmt: str) -> None:
    """Discover what the tickets are about (subject and first customer message) and give every
    ticket its topic, the discovered_topic dimension (needs cxmetrics[text])."""
    import cxmetrics

    if (k is None) == (not auto):
        raise UserError("give either --k N (the number of topics) or --auto (pick it), not both or neither.")
    path = workspace_path(ctx)
    if not (path / "cxmetrics.duckdb").exists():
        raise StoreError(f"no workspace at {path}: create one with `cxmetrics demo` or `cxmetrics import`, "
                         "or point --workspace (or CXMETRICS_WORKSPACE) at an existing one.")
    with cxmetrics.open(path) as ws:
        found = discover_tickets(ws, k=k, start=start, end=end, seed=seed, refit=refit, method=method)
    if fmt == "json":
        click.echo(json.dumps(asdict(found), indent=2, ensure_ascii=False, default=str))
        return
    table = _topics_table(found, short=fmt == "table")
    if fmt == "csv":
        click.echo(render(table, "csv"))
        for change in found.changes:  # the report is not a row of this table: on stderr
            click.echo(change.note, err=True)
        return
    period = f" created in [{start or '...'}, {end or '...'})" if start or end else ""
    picked = " (--auto)" if auto else ""
    click.echo(f"{found.k} topics{picked} from {found.clustered:,} tickets{period}; {found.assigned:,} tickets "
               f"with text assigned; model {found.model_id}")
    click.echo(render(table, "table"))
    if found.replaced:
        click.echo(f"\nAgainst the topics replaced ({found.replaced}):")
        for change in found.changes:
            click.echo(f"  {change.change:<11} {change.note}")
    click.echo("\nGroup any metric by them: cxmetrics metrics tickets csat --by discovered_topic")


def _topics_table(found: Discovery, *, short: bool) -> pa.Table:
    def cut(text: str) -> str:
        text = " ".join(text.split())
        return text if not short or len(text) <= _EXAMPLE else text[: _EXAMPLE - 1] + "…"

    return pa.table({
        "topic": pa.array([t.id for t in found.topics], pa.int64()),
        "tickets": pa.array([t.size for t in found.topics], pa.int64()),
        "name": [t.name for t in found.topics],
        "example": [cut(t.example) for t in found.topics],
        "example_ticket": [t.example_ticket for t in found.topics],
    })
