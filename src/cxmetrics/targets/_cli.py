"""`cxmetrics targets ...`: KPI targets in the workspace's targets.toml.

Registered on the main command line by `main.add_command(targets_group)`; it reads and
writes only `targets.toml` (no database), so it works before any import.
"""

from __future__ import annotations

import json

import click
import pyarrow as pa

from cxmetrics._clitools import fail_cleanly, workspace_path
from cxmetrics._output import render, shown
from cxmetrics.targets._file import check_metric
from cxmetrics.targets import TARGETS_FILE, TargetsError, load_targets, remove_target, set_target, target_rows


def _by(text: str | None) -> tuple[str, str] | None:
    if text is None:
        return None
    dim, sep, value = text.partition("=")
    if not sep or not dim.strip() or not value.strip():
        raise TargetsError([f"--by '{text}' is not DIMENSION=VALUE, e.g. --by channel=email."])
    return dim.strip(), value.strip()


@click.group("targets")
def targets_group() -> None:
    """KPI targets (targets.toml): per metric, optionally per dimension value.

    A value meets its target when it is at or above it for a higher-is-better KPI
    (CSAT), at or below it for a lower-is-better one (first response time). The
    dashboard, `metrics --benchmark` and the API show them; see docs/targets.md."""


@targets_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
              help="Output format.")
@click.pass_context
@fail_cleanly
def list_cmd(ctx: click.Context, fmt: str) -> None:
    """List the targets, in the order of the file."""
    path = workspace_path(ctx) / TARGETS_FILE
    rows = target_rows(load_targets(workspace_path(ctx)))
    if fmt == "json":
        click.echo(json.dumps({"file": str(path), "targets": rows}, indent=2))
        return
    if not rows:
        click.echo(f"no targets yet ({path} does not exist or is empty): set one with "
                   "`cxmetrics targets set csat 85`")
        return
    table = pa.table({
        "metric": [r["metric"] for r in rows],
        "for": ["all" if r["dimension"] is None else f"{r['dimension']} = {r['value']}" for r in rows],
        "target": [shown(r["target"], r["unit"]) if fmt == "table" else r["target"] for r in rows],
        "met when": [("at least" if r["direction"] == "higher" else "at most") for r in rows],
        "label": [r["label"] for r in rows],
    })
    click.echo(render(table, fmt))


@targets_group.command("set")
@click.argument("metric")
@click.argument("value")
@click.option("--by", "by", metavar="DIMENSION=VALUE", help="Only for one dimension value, e.g. --by channel=email.")
@click.pass_context
@fail_cleanly
def set_cmd(ctx: click.Context, metric: str, value: str, by: str | None) -> None:
    """Set METRIC's target to VALUE, in the metric's unit: 85 (or 85%) for a percentage,
    4h or 1h30m (or seconds) for a duration."""
    number: float | str = value
    try:
        number = float(value)
    except ValueError:
        pass
    t = set_target(workspace_path(ctx), metric, number, by=_by(by))
    unit, direction = check_metric(t.metric)
    met = "at least" if direction == "higher" else "at most"
    click.echo(f"{t.metric} ({t.scope}): target {shown(t.value, unit)} (met when {met}), "
               f"written to {workspace_path(ctx) / TARGETS_FILE}")


@targets_group.command("remove")
@click.argument("metric")
@click.option("--by", "by", metavar="DIMENSION[=VALUE]",
              help="Only the targets of one dimension (and value); without it, all of METRIC's.")
@click.pass_context
@fail_cleanly
def remove_cmd(ctx: click.Context, metric: str, by: str | None) -> None:
    """Remove METRIC's targets (all of them, or those of --by)."""
    dimension, value = None, None
    if by is not None:
        dimension, _, rest = by.partition("=")
        dimension, value = dimension.strip(), (rest.strip() or None)
    gone = remove_target(workspace_path(ctx), metric, dimension=dimension, value=value)
    if not gone:
        scope = f" for {by}" if by else ""
        raise TargetsError([f"{metric} has no target{scope} to remove (`cxmetrics targets list` shows them)."])
    click.echo(f"removed {gone} target{'s' if gone != 1 else ''} of {metric}")

