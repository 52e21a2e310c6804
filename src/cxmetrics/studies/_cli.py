"""`cxmetrics study list|spi|probes`: a benchmark study's Support Performance Index
(docs/studies.md). The weights and curves are shown with every score: a footer line in table
mode, a `declaration` key in JSON (CSV stays a plain table)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click
import pyarrow as pa

from cxmetrics._clitools import fail_cleanly, open_workspace
from cxmetrics._output import FORMATS, records, render

if TYPE_CHECKING:
    from cxmetrics._workspace import Workspace


def _open(ctx: click.Context) -> Workspace:
    return open_workspace(ctx)


def _show(table: pa.Table, fmt: str, declared: dict[str, Any] | None, footer: str | None) -> None:
    if fmt == "json" and declared is not None:
        click.echo(json.dumps({"declaration": declared, "rows": records(table)}, indent=2, default=str))
        return
    click.echo(render(table, fmt))
    if fmt == "table" and footer:
        click.echo(footer)


def _by(values: tuple[str, ...]) -> list[str]:
    """--by company,channel or --by company --by channel."""
    return [v.strip() for text in values for v in text.split(",") if v.strip()]


@click.group("study")
def study_group() -> None:
    """Benchmark studies: the Support Performance Index (SPI) of the companies probed, per
    company and channel (docs/studies.md). Import the study with `cxmetrics import companies FILE`
    and `cxmetrics import probes FILE`."""


@study_group.command("list")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format.")
@click.pass_context
@fail_cleanly
def list_cmd(ctx: click.Context, fmt: str) -> None:
    """The studies in the workspace: companies, channels, probes, first and last sent."""
    from cxmetrics.studies._spi import studies

    with _open(ctx) as ws:
        table = studies(ws)
    if fmt == "table" and table.num_rows == 0:
        click.echo("No studies yet: import probes with `cxmetrics import probes FILE` (docs/studies.md).")
        return
    click.echo(render(table, fmt))


@study_group.command("spi")
@click.argument("study")
@click.option("--by", "by", multiple=True, default=("company,channel",), show_default=True,
              help="Cut by any of company, channel, industry, region, company_size (comma-separated or repeated); "
                   "'none' for the whole study.")
@click.option("--own", is_flag=True, help="Add your organisation's own tickets as one more company (own = true).")
@click.option("--from", "start", default=None, help="Only probes (and own tickets) from this date or time.")
@click.option("--to", "end", default=None, help="Only probes (and own tickets) before this date or time.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap intervals.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format.")
@click.pass_context
@fail_cleanly
def spi_cmd(ctx: click.Context, study: str, by: tuple[str, ...], own: bool, start: str | None, end: str | None,
            seed: int, fmt: str) -> None:
    """The SPI of STUDY (0-100) per group, best first: n (probes), answered share, median
    response time, the seven components and the index with its 95% bootstrap interval."""
    from cxmetrics.studies._declaration import declaration
    from cxmetrics.studies._spi import spi

    dims = [] if [b.lower() for b in _by(by)] == ["none"] else _by(by)
    with _open(ctx) as ws:
        table = spi(ws, study, by=dims, own=own, start=start, end=end, seed=seed)
        decl = declaration(ws, study)
    _show(table, fmt, decl.as_dict(), decl.footer())


@study_group.command("probes")
@click.argument("study")
@click.option("--from", "start", default=None, help="Only probes sent from this date or time.")
@click.option("--to", "end", default=None, help="Only probes sent before this date or time.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format.")
@click.pass_context
@fail_cleanly
def probes_cmd(ctx: click.Context, study: str, start: str | None, end: str | None, fmt: str) -> None:
    """Each probe of STUDY with what happened (available, answered, auto-reply, response
    seconds), its components, where its criteria came from (rubric, text, none) and its SPI."""
    from cxmetrics.studies._declaration import declaration
    from cxmetrics.studies._spi import probe_scores

    with _open(ctx) as ws:
        table = probe_scores(ws, study, start=start, end=end)
        decl = declaration(ws, study)
    _show(table, fmt, decl.as_dict(), decl.footer())
