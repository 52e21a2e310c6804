"""`cxmetrics report weekly`, `report run-due` and `report status` (docs/reports.md).

They join the `report` group of the study report (studies/_report_cli.py) in cli.py.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from cxmetrics._clitools import fail_cleanly, open_workspace
from cxmetrics.errors import UserError
from cxmetrics.reports._config import check_addresses, load_config
from cxmetrics.reports._period import Week, due_week, parse_day, send_at


def _week(ws_timezone: str, week: str | None, end: str | None) -> Week:
    if week and end:
        raise UserError("give --week or --end, not both.")
    if week:
        return Week.parse(week)
    day = parse_day(end) if end else datetime.now(ZoneInfo(ws_timezone)).date()
    return Week.ending_before(day)


@click.command("weekly")
@click.option("--to", "to", multiple=True, metavar="EMAIL",
              help="Mail the report to this address (repeat for several), through reports.toml's [email] "
                   "destination of alerts.toml. Without it, the report is written to a file.")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default="pdf", show_default=True,
              help="pdf: the PDF file (with --to: the HTML e-mail with the PDF attached); html: the HTML only.")
@click.option("--output", "output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report to this file [default without --to: weekly-YYYY-Www.pdf or .html here]; "
                   "'-' for stdout.")
@click.option("--week", "week", metavar="YYYY-Www", help="The ISO week to report, e.g. 2026-W10 "
              "[default: the last complete week].")
@click.option("--end", "end", metavar="DATE", help="Report the last complete week (Monday to Sunday) before DATE "
              "(YYYY-MM-DD; a Monday reports the week that ends the day before).")
@click.pass_context
@fail_cleanly
def weekly_cmd(ctx: click.Context, to: tuple[str, ...], fmt: str, output: Path | None, week: str | None,
               end: str | None) -> None:
    """The weekly report: headline KPIs against their targets, what changed against the
    week before (only changes the test of change calls real), the week's SLA breaches and
    the top topics. Written to a file, or mailed with --to (docs/reports.md)."""
    from cxmetrics.reports._run import build, send_now

    if to:
        try:
            to = check_addresses(list(to), "--to")
        except ValueError as exc:
            raise UserError(f"--to: {exc}") from None
    with open_workspace(ctx) as ws:
        chosen = _week(ws.settings.timezone, week, end)
        if to:
            outcome = send_now(ws, chosen, to, fmt=fmt)
            if not outcome.ok:
                hint = "" if outcome.permanent else " (a temporary failure: run the command again)"
                raise UserError(f"the report for {chosen.label} was not sent: {outcome.error}{hint}")
            click.echo(f"sent the weekly report for {chosen.label} to {', '.join(to)}"
                       + (f" ({outcome.note})" if outcome.note else ""))
            if output is None:
                return
        built = build(ws, chosen, fmt=fmt, chromium=load_config(ws.path).chromium)
    data = built.pdf if fmt == "pdf" else built.html.encode("utf-8")
    assert data is not None
    if output is not None and str(output) == "-":
        sys.stdout.buffer.write(data)
        return
    target = output or Path(f"weekly-{chosen.label}.{fmt}")
    target.write_bytes(data)
    click.echo(f"wrote {target} ({len(data) / 1024:,.0f} KiB): the weekly report for {chosen.label}")


@click.command("run-due")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
@fail_cleanly
def run_due_cmd(ctx: click.Context, fmt: str) -> None:
    """Send the scheduled reports of reports.toml that are due now, once each (for cron;
    `cxmetrics serve` runs the schedules itself). Running it again sends nothing twice."""
    from cxmetrics.reports._run import run_due

    with open_workspace(ctx) as ws:
        results = run_due(ws)
    if fmt == "json":
        click.echo(json.dumps([{**r.__dict__, "next_attempt_at": None if r.next_attempt_at is None
                                else r.next_attempt_at.isoformat()} for r in results]))
        return
    if not results:
        click.echo("no report is scheduled: add a [[report]] to reports.toml (docs/reports.md)")
    for r in results:
        click.echo(str(r))
    if any(r.status == "failed" for r in results):
        sys.exit(1)


@click.command("status")
@click.pass_context
@fail_cleanly
def status_cmd(ctx: click.Context) -> None:
    """The schedules of reports.toml with their next send time, and what the ledger holds
    (each period sent, pending or given up)."""
    from cxmetrics.reports._ledger import rows

    with open_workspace(ctx, read_only=True) as ws:
        cfg = load_config(ws.path)
        now = datetime.now(UTC)
        for r in cfg.reports:
            zone = r.timezone or ws.settings.timezone
            week, _ = due_week(now, r.send, zone)
            nxt = send_at(Week(week.start + timedelta(days=7)), r.send, zone)  # the period after the last due
            state = "enabled" if r.enabled else "disabled"
            click.echo(f"{r.name}: {r.kind.value}, {r.format.value}, to {', '.join(r.to)}; {state}; next "
                       f"{nxt.astimezone(ZoneInfo(zone)):%a %Y-%m-%d %H:%M} {zone}")
        ledger = rows(ws)
    if not cfg.reports:
        click.echo("no report is scheduled: add a [[report]] to reports.toml (docs/reports.md)")
    for row in ledger:
        when = row["delivered_at"] or row["last_attempt_at"]
        click.echo(f"  {row['schedule']} {row['period']}: {row['status']} after {row['attempts']} attempt(s)"
                   + (f", {when:%Y-%m-%d %H:%M %Z}" if when else "")
                   + (f"; next attempt {row['next_attempt_at']:%Y-%m-%d %H:%M %Z}"
                      if row["status"] == "pending" else "")
                   + (f"; last error: {row['last_error']}" if row["last_error"] else ""))


__all__ = ["run_due_cmd", "status_cmd", "weekly_cmd"]
