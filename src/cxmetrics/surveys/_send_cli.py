"""`cxmetrics surveys run | send | link | sends | rotate-key`: sending surveys and seeing
what went out.

`run` does once what the server does every `interval`; `send` sends a definition now to a
list of tickets or customers; `link` prints a survey link to paste into a chat or SMS. They
open the workspace as every command does (through the running server when there is one).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from cxmetrics._clitools import fail_cleanly, open_workspace
from cxmetrics.errors import UserError
from cxmetrics.surveys import _sends
from cxmetrics.surveys._deliver import write_turn
from cxmetrics.surveys._tokens import rotate_key

_FORMAT = click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
                       help="Output format.")


def _parse_now(text: str | None, timezone: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"--now '{text}' is not an ISO 8601 time such as 2026-03-06T12:00:00Z.") from None
    if value.tzinfo is None:  # a naive time is in the workspace's time zone, as in imports
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return value.astimezone(UTC)


def _when(value: Any) -> str:
    return "-" if value is None else f"{value.astimezone(UTC):%Y-%m-%d %H:%M}Z"


def _print_report(report: _sends.RunReport, fmt: str, *, dry_run: bool = False) -> None:
    _show(report, fmt, dry_run=dry_run)
    if report.problem:  # after the report: the plan was made, the e-mails wait for the setting
        click.echo(report.problem, err=True)
        sys.exit(1)


def _show(report: _sends.RunReport, fmt: str, *, dry_run: bool = False) -> None:
    if fmt == "json":
        click.echo(json.dumps({**report.to_dict(), "dry_run": dry_run}, indent=2))
        return
    verb = "would plan" if dry_run else "planned"
    click.echo(f"{report.now:%Y-%m-%d %H:%M:%S}Z: {verb} {report.planned} send(s)"
               + (f", {report.waiting} ticket(s) waiting for their delay" if report.waiting else ""))
    if not dry_run:
        click.echo(f"  e-mails: {report.delivered} delivered, {report.reminded} reminder(s), {report.failed} failed, "
                   f"{report.retrying} to retry, {report.cancelled} cancelled")
    elif report.deliveries:
        click.echo(f"  e-mails due now: {len(report.deliveries)}")
    skipped = _sends.skip_counts(report.skipped)
    if skipped:
        click.echo("  not surveyed: " + ", ".join(f"{reason} {n}" for reason, n in skipped.items()))
    for d in report.deliveries:
        if d.status in ("failed", "retry"):
            when = f"; again at {_when(d.next_attempt_at)}" if d.next_attempt_at else ""
            click.echo(f"  {d.status}: {d.survey} {d.purpose} for ticket {d.ticket_id or '-'} "
                       f"(attempt {d.attempt}): {d.error}{when}")


@click.command("run")
@click.option("--now", "now_text", metavar="ISO", help="Run as if it were this time (default: now).")
@click.option("--dry-run", is_flag=True, help="Show what is due without planning or sending anything.")
@_FORMAT
@click.pass_context
@fail_cleanly
def run_cmd(ctx: click.Context, now_text: str | None, dry_run: bool, fmt: str) -> None:
    """Plan the surveys that are due and send the e-mails due (what the server does every
    interval); prints what was done and, by reason, what was not surveyed."""
    with open_workspace(ctx) as ws:
        now = _parse_now(now_text, ws.settings.timezone)
        report = _sends.preview(ws, now=now) if dry_run else _sends.run(ws, now=now)
    _print_report(report, fmt, dry_run=dry_run)


def _list(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


@click.command("send")
@click.argument("survey")
@click.option("--tickets", help="Ticket ids, comma-separated: their requesters get the survey.")
@click.option("--tickets-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A file of ticket ids, one a line (a CSV's first column; a header line is skipped).")
@click.option("--customers", help="Customer ids, comma-separated.")
@click.option("--source", help="Only tickets or customers of this source.")
@click.option("--force", is_flag=True, help="Send even to customers surveyed within the throttle.")
@click.option("--now", "now_text", metavar="ISO", help="Send as if it were this time (default: now).")
@_FORMAT
@click.pass_context
@fail_cleanly
def send_cmd(ctx: click.Context, survey: str, tickets: str | None, tickets_file: Path | None, customers: str | None,
             source: str | None, force: bool, now_text: str | None, fmt: str) -> None:
    """Send SURVEY now, by e-mail, to the customers of a list of tickets or to customers."""
    ids = _list(tickets)
    if tickets_file is not None:
        lines = [ln.split(",")[0].strip().strip('"') for ln in tickets_file.read_text("utf-8").splitlines()]
        if lines and lines[0].lower() in ("ticket_id", "id", "ticket"):
            lines = lines[1:]
        ids += [x for x in lines if x]
    with open_workspace(ctx) as ws:
        now = _parse_now(now_text, ws.settings.timezone)
        report = _sends.send_now(ws, survey, tickets=ids, customers=_list(customers), source=source, now=now,
                                 force=force)
    _print_report(report, fmt)


@click.command("link")
@click.argument("ticket")
@click.option("--survey", help="The survey definition (default: the only ticket survey of surveys.toml).")
@click.option("--source", help="The ticket's source, when the id is in several.")
@click.option("--score", type=int, help="Open the page with this score selected.")
@_FORMAT
@click.pass_context
@fail_cleanly
def link_cmd(ctx: click.Context, ticket: str, survey: str | None, source: str | None, score: int | None,
             fmt: str) -> None:
    """Print a survey link for TICKET to paste into a chat or SMS (the customer opens it,
    rates, and may comment; the link expires after token_ttl)."""
    with open_workspace(ctx) as ws:
        info = _sends.link(ws, ticket, survey=survey, source=source, score=score)
    if fmt == "json":
        click.echo(json.dumps(info.to_dict(), indent=2))
    else:
        click.echo(info.url)
        click.echo(f"(send {info.send_id}; works until {_when(info.expires_at)})", err=True)


@click.command("sends")
@click.option("--status", type=click.Choice(["pending", "delivered", "failed", "answered"]),
              help="Only sends in this state.")
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True, help="At most this many.")
@_FORMAT
@click.pass_context
@fail_cleanly
def sends_cmd(ctx: click.Context, status: str | None, limit: int, fmt: str) -> None:
    """The latest survey sends, newest first, with their state (pending, delivered, failed,
    cancelled, answered)."""
    with open_workspace(ctx) as ws:
        rows = _sends.recent_sends(ws, status=status, limit=limit)
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v)))
        return
    if not rows:
        click.echo("No survey sends" + (f" with status {status}." if status else " yet."))
        return
    header = f"{'sent':<18} {'status':<10} {'survey':<16} {'ticket':<12} {'to':<28} {'lang':<4}  note"
    click.echo(header)
    for r in rows:
        note = r["last_error"] if r["status"] in ("failed", "pending") and r["last_error"] else ""
        if r["status"] == "answered" and r["score"] is not None:
            note = f"score {r['score']:g}"
        click.echo(f"{_when(r['sent_at'] or r['created_at']):<18} {r['status']:<10} {r['survey'][:16]:<16} "
                   f"{(r['ticket_id'] or '-')[:12]:<12} {(r['address'] or r['delivery'])[:28]:<28} "
                   f"{r['language']:<4}  {note}")


@click.command("rotate-key")
@click.pass_context
@fail_cleanly
def rotate_key_cmd(ctx: click.Context) -> None:
    """Make a new key for signing survey links; links signed with the old one keep working
    until they expire (rotate when a key may have leaked)."""
    with open_workspace(ctx) as ws, write_turn(ws):
        key_id, _ = rotate_key(ws.con)
    click.echo(f"New survey signing key {key_id}; earlier links keep working until they expire.")


COMMANDS: list[click.Command] = [run_cmd, send_cmd, link_cmd, sends_cmd, rotate_key_cmd]
