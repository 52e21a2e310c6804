"""`cxmetrics report study STUDY [--format html|pdf] [--out FILE]`: the benchmark report of a
study (docs/studies.md). `report` is a group: other reports join it as subcommands."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cxmetrics._clitools import fail_cleanly, open_workspace


@click.group("report")
def report_group() -> None:
    """Reports to send around: `report study STUDY` (a benchmark study, HTML or PDF), `report
    weekly` (the week's KPIs, changes, SLA breaches and topics; mailed on a schedule by
    reports.toml, docs/reports.md)."""


@report_group.command("study")
@click.argument("study")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default="html", show_default=True,
              help="HTML (self-contained, opens offline) or PDF (printed by headless Chromium).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report to this file [default: STUDY.html or STUDY.pdf here]; '-' for stdout.")
@click.pass_context
@fail_cleanly
def study_report_cmd(ctx: click.Context, study: str, fmt: str, out: Path | None) -> None:
    """The benchmark report of STUDY: findings (each with its number and n), the leaderboard by
    SPI with intervals, the best company per channel, response times by channel, region and
    company size, shares ignored / auto-reply only / followed up, and review responses."""
    from cxmetrics.studies._report import report

    with open_workspace(ctx, read_only=True) as ws:
        data = report(ws, study, fmt)
    if out is not None and str(out) == "-":
        sys.stdout.buffer.write(data)
        return
    target = out or Path(f"{_safe_name(study)}.{fmt}")
    target.write_bytes(data)
    click.echo(f"wrote {target} ({len(data) / 1024:,.0f} KiB)")


def _safe_name(study: str) -> str:
    """A file name from a study name (no folders, no odd characters)."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in study).strip("._")
    return cleaned or "study"


__all__ = ["report_group"]
