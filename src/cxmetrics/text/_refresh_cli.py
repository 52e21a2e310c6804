"""`cxmetrics text refresh` and `cxmetrics text status`: the text layer's facts in the
workspace (issue 13, docs/text.md)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click
import pyarrow as pa

from cxmetrics._clitools import fail_cleanly, open_workspace
from cxmetrics._output import render

if TYPE_CHECKING:
    from cxmetrics.text._status import ActiveModel
    from cxmetrics.text._store import TextRefresh


def describe(done: TextRefresh) -> str:
    """One line: tickets in scope and rows written per step."""
    steps = ", ".join(f"{name} {n:,}" for name, n in done.steps.items()) or "nothing to write"
    return f"{_count(done.tickets, 'ticket')} in scope; rows written: {steps}"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


@click.command("refresh")
@click.option("--full", is_flag=True, help="Every ticket, not only those changed since the last text refresh.")
@click.pass_context
@fail_cleanly
def refresh_cmd(ctx: click.Context, full: bool) -> None:
    """Bring the text facts (sentiment, topics, answer signals, consistency) up to date, and
    turn the text layer on: from then on every refresh keeps them up to date."""
    from cxmetrics.text._store import refresh_text

    with open_workspace(ctx) as ws:
        done = refresh_text(ws, full=full)
    click.echo(f"text facts refreshed{' (full)' if full else ''}: {describe(done)}")
    click.echo("the text layer is on: new and changed tickets get their text facts at every refresh "
               "(the next query after an import)")


def _model_line(m: ActiveModel) -> str:
    if m.model_id is None:
        return "none (`cxmetrics topics discover` makes one)" if m.kind == "topics" else "none"
    if m.model_id == "default":
        return "default (the shipped model)"
    p = m.params
    parts = [m.model_id]
    if m.created_at is not None:
        parts.append(f"made {m.created_at:%Y-%m-%d %H:%M}")
    if p.get("origin"):
        parts.append(f"from {p['origin']}")
    if p.get("n_trained"):
        parts.append(f"{p['n_trained']:,} texts")
    if p.get("per_class"):
        parts.append(" / ".join(f"{n:,} {label}" for label, n in p["per_class"].items()))
    if p.get("cv_macro_f1") is not None:
        parts.append(f"5-fold CV accuracy {p['cv_accuracy']:.3f}, macro-F1 {p['cv_macro_f1']:.3f}")
    return "; ".join(parts)


@click.command("status")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
@fail_cleanly
def status_cmd(ctx: click.Context, fmt: str) -> None:
    """The text layer: on or off, last refresh, tickets changed since, models in use, rows per table."""
    from cxmetrics.text._status import status

    with open_workspace(ctx) as ws:
        s = status(ws)
    if fmt == "json":
        click.echo(json.dumps(s.as_dict(), indent=2, default=str))
        return
    if s.on:
        when = f"{s.last_refresh:%Y-%m-%d %H:%M:%S %Z}".strip() if s.last_refresh else "never"
        click.echo(f"text layer    on; last refresh {when}; {_count(s.pending, 'ticket')} changed since "
                   "(the next query or `cxmetrics text refresh` brings them up to date)")
    else:
        click.echo("text layer    off: `cxmetrics text refresh` turns it on")
    for m in s.models:
        click.echo(f"{m.kind + ' model':<13} {_model_line(m)}")
    rows: dict[str, Any] = {"table": list(s.rows), "rows": list(s.rows.values())}
    click.echo(render(pa.table(rows), "table"))
