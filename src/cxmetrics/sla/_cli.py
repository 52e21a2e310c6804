"""`cxmetrics sla ...`: a thin client of the SLA library.

Registered on the main group (`main.add_command(sla)`); the workspace comes from the
main group's `--workspace` (ctx.obj["workspace"]).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click
import pyarrow as pa

from cxmetrics._clitools import fail_cleanly as _fail_cleanly
from cxmetrics._clitools import workspace_path
from cxmetrics._output import FORMATS, humanise_seconds, render
from cxmetrics.errors import StoreError
from cxmetrics.sla._policy import POLICY_FILE, SlaPolicies, SlaPolicyError, format_duration, parse_duration
from cxmetrics.sla._query import GROUPS, at_risk, compliance, targets
from cxmetrics.sla._refresh import refresh_sla




def _folder(ctx: click.Context) -> Path:
    return workspace_path(ctx)


def _open(ctx: click.Context) -> Any:
    import cxmetrics

    path = _folder(ctx)
    if not (path / "cxmetrics.duckdb").exists():
        raise StoreError(f"no workspace at {path}: create one with `cxmetrics demo` or `cxmetrics import`, "
                         "or point --workspace (or CXMETRICS_WORKSPACE) at an existing one.")
    return cxmetrics.open(path)


def _split(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _seconds_option(text: str) -> float:
    """'30m', '2h', '90s' or a bare number of minutes."""
    if re.fullmatch(r"\d+(\.\d+)?", text.strip()):
        return float(text) * 60
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


_format_option = click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                              help="Output format.")
_now_option = click.option("--now", help="Evaluate the clocks at this time (ISO 8601; default: the current time).")


@click.group("sla")
@click.pass_context
def sla(ctx: click.Context) -> None:
    """SLA policies (sla.toml) and clocks: Zendesk's seven SLA metrics per ticket."""
    if (ctx.obj or {}).get("engine") == "spark" and ctx.invoked_subcommand != "status":
        raise click.UsageError(f"only `sla status` runs on Spark in this version; run `sla {ctx.invoked_subcommand}` "
                               "without --engine spark (docs/spark.md).")


@sla.command("policies")
@_format_option
@click.pass_context
@_fail_cleanly
def policies_cmd(ctx: click.Context, fmt: str) -> None:
    """List the policies in the order they are tried (first match applies)."""
    pols = SlaPolicies.load(_folder(ctx) / POLICY_FILE)
    if fmt == "json":
        click.echo(json.dumps([p.model_dump(mode="json") for p in pols.policies], indent=2))
        return
    rows: dict[str, list[Any]] = {"order": [], "policy": [], "conditions": [], "metric": [], "targets": [],
                                  "hours": []}
    for i, p in enumerate(pols.policies, start=1):
        cond = "; ".join(f"{k} in {', '.join(v)}" for k, v in p.conditions.given().items()) or "every ticket"
        for j, t in enumerate(p.targets):
            rows["order"].append(i)
            rows["policy"].append(p.name if j == 0 else "")
            rows["conditions"].append(cond if j == 0 else "")
            rows["metric"].append(t.metric.value)
            rows["targets"].append(", ".join(f"{k} {format_duration(s, days=not t.business)}"
                                             for k, s in t.seconds.items()))
            schedule = p.schedule_of(t)
            rows["hours"].append(("business" + (f" ({schedule})" if schedule else "")) if t.business else "calendar")
    if not pols.policies:
        click.echo(f"No SLA policies: write them in {_folder(ctx) / POLICY_FILE} (see docs/sla.md).", err=True)
    click.echo(render(pa.table(rows), fmt))


@sla.command("check")
@click.pass_context
@_fail_cleanly
def check_cmd(ctx: click.Context) -> None:
    """Check sla.toml and the schedules it names; count tickets per policy."""
    from cxmetrics.sla._business import business_time

    folder = _folder(ctx)
    path = folder / POLICY_FILE
    if not path.exists():
        raise SlaPolicyError(["the file does not exist; write your policies there (see docs/sla.md)."], str(path))
    pols = SlaPolicies.load(path)
    business_time(folder, pols)  # schedules named by the policies must exist
    n_targets = sum(len(t.seconds) for p in pols.policies for t in p.targets)
    click.echo(f"{path}: OK: {len(pols.policies)} policies, {n_targets} targets.")
    if (folder / "cxmetrics.duckdb").exists():
        counts = _tickets_per_policy(folder, pols)
        if counts is not None:
            for name in [*pols.names(), None]:
                click.echo(f"  {name or '(no policy)':<24} {counts.get(name, 0):>10,} tickets")


def _tickets_per_policy(folder: Path, pols: SlaPolicies) -> dict[str | None, int] | None:
    """Tickets per policy by the facts as they are (None when the workspace is busy)."""
    import duckdb

    from cxmetrics.sla._clocks import condition_sql

    whens = " ".join(f"WHEN {c} THEN {i}" for i, c in enumerate(condition_sql(pols)))
    idx = f"CASE WHEN f.excluded THEN NULL {whens} END" if whens else "NULL"
    try:
        con = duckdb.connect(str(folder / "cxmetrics.duckdb"), read_only=True)
    except duckdb.Error:
        return None
    try:
        rows = con.execute(f"SELECT {idx} AS i, count(*) FROM ticket_facts f GROUP BY 1").fetchall()
    except duckdb.Error:
        return None
    finally:
        con.close()
    names = pols.names()
    return {(names[i] if i is not None else None): n for i, n in rows}


@sla.command("refresh")
@_now_option
@click.option("--full", is_flag=True, help="Recompute every ticket, not only the changed ones.")
@click.pass_context
@_fail_cleanly
def refresh_cmd(ctx: click.Context, now: str | None, full: bool) -> None:
    """Recompute changed tickets and evaluate the clocks at --now."""
    with _open(ctx) as ws:
        n = refresh_sla(ws, now=now, full=full)
        states = dict(ws.con.execute("SELECT state, count(*) FROM sla_targets GROUP BY 1").fetchall())
    summary = ", ".join(f"{states.get(s, 0):,} {s}" for s in ("active", "paused", "achieved", "breached"))
    click.echo(f"{n:,} tickets recomputed; targets: {summary}.")


@sla.command("status")
@click.option("--by", "by", multiple=True, help=f"Group by (comma-separated or repeated): {', '.join(GROUPS)}.")
@click.option("--from", "start", help="Targets settled from (inclusive), e.g. 2025-01-01.")
@click.option("--to", "end", help="Targets settled before (exclusive).")
@_now_option
@_format_option
@click.pass_context
@_fail_cleanly
def status_cmd(ctx: click.Context, by: tuple[str, ...], start: str | None, end: str | None, now: str | None,
               fmt: str) -> None:
    """SLA compliance: achieved / (achieved + breached) per group.

    Over the targets settled in the period: a target settles when achieved (at its
    completion) or breached (at its due time); active and paused targets are left out.
    With a 95% Wilson interval. With --engine spark: over the sla_targets of --tables, the
    open clocks evaluated at --now on Spark."""
    if ctx.obj.get("engine") == "spark":  # over an export (docs/spark.md)
        from cxmetrics.engines._run import spark_sla_status, workspace_conf

        table = spark_sla_status(ctx.obj["tables"], by=_split(by), start=start, end=end, now=now,
                                 conf=workspace_conf(_folder(ctx), ctx.obj["spark_conf"]))
    else:
        with _open(ctx) as ws:
            refresh_sla(ws, now=now)
            table = compliance(ws.con, by=_split(by), start=start, end=end)
    if fmt == "table":
        rows = table.to_pylist()
        shown = {c: [r[c] for r in rows] for c in table.column_names if c not in ("compliance", "ci_low", "ci_high")}
        shown["compliance"] = ["" if r["compliance"] is None else f"{r['compliance']:.1f}%" for r in rows]
        shown["95% interval"] = ["" if r["ci_low"] is None else f"{r['ci_low']:.1f}-{r['ci_high']:.1f}%"
                                 for r in rows]
        table = pa.table(shown)
    click.echo(render(table, fmt))


@sla.command("at-risk")
@click.option("--within", default="30m", show_default=True, help="Due within this time: 30m, 2h, 90s (bare: minutes).")
@_now_option
@_format_option
@click.pass_context
@_fail_cleanly
def at_risk_cmd(ctx: click.Context, within: str, now: str | None, fmt: str) -> None:
    """Active targets due within the given time, soonest first."""
    within_s = _seconds_option(within)
    with _open(ctx) as ws:
        refresh_sla(ws, now=now)
        table = at_risk(ws.con, now=now, within_s=within_s)
    if fmt == "table":
        rows = table.to_pylist()
        table = pa.table({
            "ticket_id": [r["ticket_id"] for r in rows], "metric": [r["metric"] for r in rows],
            "cycle": [r["cycle"] for r in rows], "policy": [r["policy"] for r in rows],
            "priority": [r["priority"] for r in rows], "team": [r["team"] for r in rows],
            "assignee": [r["assignee_id"] for r in rows], "due_at": [r["due_at"] for r in rows],
            "due_in": [humanise_seconds(r["due_in_s"]) for r in rows],
            "left": [humanise_seconds(r["seconds_left"]) + (" bh" if r["business"] else "") for r in rows],
        })
    click.echo(render(table, fmt))


@sla.command("ticket")
@click.argument("ticket_id")
@click.option("--source", help="The ticket's source (when several help desks share ids).")
@_now_option
@_format_option
@click.pass_context
@_fail_cleanly
def ticket_cmd(ctx: click.Context, ticket_id: str, source: str | None, now: str | None, fmt: str) -> None:
    """One ticket's targets with due times and states."""
    with _open(ctx) as ws:
        refresh_sla(ws, now=now)
        table = targets(ws.con, ticket_id, source=source)
    if fmt == "table":
        rows = table.to_pylist()
        table = pa.table({
            "metric": [r["metric"] for r in rows], "cycle": [r["cycle"] for r in rows],
            "policy": [r["policy"] for r in rows],
            "target": [humanise_seconds(r["target_s"]) + (" bh" if r["business"] else "") for r in rows],
            "started_at": [r["started_at"] for r in rows], "due_at": [r["due_at"] for r in rows],
            "completed_at": [r["completed_at"] for r in rows],
            "elapsed": [humanise_seconds(r["elapsed_s"]) for r in rows],
            "left": [humanise_seconds(r["seconds_left"]) for r in rows], "state": [r["state"] for r in rows],
        })
    click.echo(render(table, fmt))
