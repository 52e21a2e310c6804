"""`cxmetrics export ...`: a metric query, or the rows behind a number, as a file.

A group of subcommands (`metrics`, `tickets`), so exports of other things (the canonical
tables) join it as commands of their own. A file is written beside its target and renamed
into place when complete: a failed export leaves no half-written file.
"""

from __future__ import annotations

import io
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import click

from cxmetrics._clitools import fail_cleanly, open_workspace, parse_where, query_options, split_values
from cxmetrics.errors import UserError
from cxmetrics.exports._queries import export_metrics, export_tickets
from cxmetrics.exports._writers import FORMATS, Format, parse_format


def _format(fmt: str | None, output: str) -> Format:
    if fmt is not None:
        return parse_format(fmt)
    if output == "-":
        return Format.CSV  # standard output takes text
    suffix = Path(output).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise click.UsageError(f"give --format ({', '.join(FORMATS)}): the output '{output}' does not say which.")
    return Format(suffix)


def _write(output: str, fmt: Format, run: Callable[[BinaryIO], int]) -> int:
    """Run `run(file)` on `output` ('-': standard output, csv only), atomically for a file."""
    if output == "-":
        if fmt is not Format.CSV:
            raise UserError(f"{fmt.value} is a binary format: give --output FILE (only csv goes to standard output).")
        stdout = getattr(sys.stdout, "buffer", None)
        if stdout is None:  # a server running the command for a shell captures text (api/_local_cli.py)
            text = io.BytesIO()
            rows = run(text)
            click.echo(text.getvalue().decode(), nl=False)
            return rows
        rows = run(stdout)
        stdout.flush()
        return rows
    target = Path(output)
    if target.is_dir():
        raise UserError(f"--output '{output}' is a folder: give a file name, e.g. {target / ('export.' + fmt.value)}.")
    if not target.parent.exists():
        raise UserError(f"--output '{output}': the folder {target.parent} does not exist.")
    # opened as any new file (not mkstemp's 0600), so the export gets the usual permissions
    tmp = target.parent / f".{target.name}.{secrets.token_hex(4)}.part"
    try:
        with open(tmp, "xb") as out:
            rows = run(out)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return rows


_format_option = click.option("--format", "fmt", type=click.Choice(FORMATS),
                              help="File format (default: from the output file's extension; csv for standard output).")
# a click.Path, so a server running the command for this shell (_remote_cli.py) gets it absolute
_output_option = click.option("--output", "-o", "output", required=True, type=click.Path(allow_dash=True),
                              help="The file to write; '-' writes csv to standard output.")


@click.group("export")
def export_group() -> None:
    """Write query answers and the rows behind them as CSV, Parquet or Excel (.xlsx).

    CSV quotes text a spreadsheet would run as a formula; xlsx keeps numbers as numbers and
    dates and times as Excel dates in the workspace's time zone (named in the header)."""


@export_group.command("metrics")
@click.argument("ids", nargs=-1, required=True)
@query_options
@_format_option
@_output_option
@click.pass_context
@fail_cleanly
def export_metrics_cmd(ctx: click.Context, ids: tuple[str, ...], by: tuple[str, ...], grain: str | None,
                       start: str | None, end: str | None, where: tuple[str, ...], fmt: str | None,
                       output: str) -> None:
    """Export a metric query (the same IDS and options as `cxmetrics metrics`): one row per
    metric, group and period, with value, n, 95% interval, flags and unit."""
    kind = _format(fmt, output)
    with open_workspace(ctx, read_only=True) as ws:
        rows = _write(output, kind, lambda out: export_metrics(
            ws, split_values(ids), out, kind, by=split_values(by), grain=grain, where=parse_where(where),
            start=start, end=end))
    if output != "-":
        click.echo(f"{rows:,} rows written to {output} ({kind.value})", err=True)


@export_group.command("tickets")
@click.option("--metric", default="tickets", show_default=True,
              help="The metric whose rows to export (tickets: every created ticket); its declaration decides "
                   "which rows count and which time places them in the period.")
@click.option("--from", "start", help="Period start (inclusive), e.g. 2025-01-01.")
@click.option("--to", "end", help="Period end (exclusive), e.g. 2025-07-01.")
@click.option("--where", "where", multiple=True, help="Filter DIM=VALUE[,VALUE...]; repeat for more dimensions.")
@click.option("--sort", "order", help="A column to sort by, -column for descending (default: latest first).")
@_format_option
@_output_option
@click.pass_context
@fail_cleanly
def export_tickets_cmd(ctx: click.Context, metric: str, start: str | None, end: str | None, where: tuple[str, ...],
                       order: str | None, fmt: str | None, output: str) -> None:
    """Export every row behind a metric's number (the dashboard's ticket list, in full),
    streamed in batches: a million rows never sit in memory at once."""
    kind = _format(fmt, output)
    with open_workspace(ctx, read_only=True) as ws:
        rows = _write(output, kind, lambda out: export_tickets(
            ws, metric, out, kind, where=parse_where(where), start=start, end=end, order=order))
    if output != "-":
        click.echo(f"{rows:,} rows written to {output} ({kind.value})", err=True)


@export_group.command("tables")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["parquet"]), default="parquet", show_default=True,
              help="File format of the tables (Parquet: what Spark and lakehouses read).")
@click.pass_context
@fail_cleanly
def export_tables_cmd(ctx: click.Context, folder: Path, fmt: str) -> None:
    """Write the canonical tables and the facts the metrics read (ticket_facts, their
    business-time twins, reply intervals, SLA targets, surveys...) as Parquet, one folder per
    table under FOLDER, for `cxmetrics --engine spark --tables FOLDER metrics ...` (docs/spark.md).
    Facts (and SLA clocks) are brought up to date first."""
    from cxmetrics.exports._tables import export_tables

    with open_workspace(ctx) as ws:
        counts = export_tables(ws, folder)
    click.echo(f"{len(counts)} tables ({sum(counts.values()):,} rows) written to {folder} ({fmt})", err=True)
