"""`cxmetrics reviews summary`: how a company answers its public reviews, as sentences with
their n, or as JSON (docs/studies.md, "Reviews")."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from cxmetrics._clitools import fail_cleanly, open_workspace

if TYPE_CHECKING:
    from cxmetrics._workspace import Workspace


def _open(ctx: click.Context) -> Workspace:
    return open_workspace(ctx, make="`cxmetrics import reviews FILE` or `cxmetrics demo`")


@click.group("reviews")
def reviews_group() -> None:
    """Public reviews (app stores, review sites) and the company's replies: import them with
    `cxmetrics import reviews FILE` (docs/studies.md, "Reviews")."""


@reviews_group.command("summary")
@click.option("--company", help="Only this company or app (the `app` dimension), compared case-blind.")
@click.option("--platform", help="Only this platform, e.g. google_play, app_store, trustpilot.")
@click.option("--from", "start", help="Reviews created from this date (inclusive), e.g. 2024-11-01.")
@click.option("--to", "end", help="Reviews created before this date (exclusive).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="table: the findings as sentences; json: the numbers (shares as fractions 0-1).")
@click.pass_context
@fail_cleanly
def summary_cmd(ctx: click.Context, company: str | None, platform: str | None, start: str | None,
                end: str | None, fmt: str) -> None:
    """Share of reviews answered, overall and by star band; how much more often 1-2 star
    reviews are answered than 4-5 star ones (with a 95% interval); time to answer; replies
    dated before their review; and how many replies are personalised."""
    from cxmetrics.studies._reviews import review_sentences, review_summary

    with _open(ctx) as ws:
        summary = review_summary(ws, company=company, platform=platform, start=start, end=end)
    if fmt == "json":
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo("\n".join(review_sentences(summary)))
