"""The command line: a thin client of the library.

Every command opens the workspace (`--workspace`, default ./cxmetrics-workspace),
calls the library and prints. Errors a user can fix print `TypeName: message` and
exit 1; usage errors exit 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import pyarrow as pa

import cxmetrics
from cxmetrics._clitools import fail_cleanly as _fail_cleanly
from cxmetrics._clitools import parse_where, query_options, split_values
from cxmetrics._output import (
    FORMATS,
    compare_table_for_screen,
    metric_table_for_screen,
    render,
    scorecard_for_screen,
    shown,
)
from cxmetrics._remote_cli import RoutedGroup
from cxmetrics._workspace import DEFAULT_PATH
from cxmetrics.metrics._query import MetricTable
from cxmetrics.alerts._cli import watch as sla_watch
from cxmetrics.api._cli import keys as keys_group
from cxmetrics.api._cli import serve as serve_cmd
from cxmetrics.calendar._cli import schedule_group
from cxmetrics.text._cli import text_group
from cxmetrics.text._discover_cli import discover_cmd as topics_discover
from cxmetrics.workforce._cli import staffing_cmd
from cxmetrics.workforce._forecast_cli import forecast_cmd
from cxmetrics.workforce._shifts_cli import shifts_group
from cxmetrics.connectors import VENDORS, import_vendor
from cxmetrics.ingest import KINDS
from cxmetrics.model import ColType
from cxmetrics.settings import SETTINGS
from cxmetrics.studies._report_cli import report_group
from cxmetrics.reports._cli import run_due_cmd as report_run_due
from cxmetrics.reports._cli import status_cmd as report_status
from cxmetrics.reports._cli import weekly_cmd as report_weekly
from cxmetrics.exports._cli import export_group
from cxmetrics.sla._cli import sla as sla_group
from cxmetrics.studies._cli import study_group
from cxmetrics.targets._cli import targets_group
from cxmetrics.studies._reviews_cli import reviews_group
from cxmetrics.surveys._cli import surveys_group




def _open(ctx: click.Context, read_only: bool = False, create: bool = False) -> cxmetrics.Workspace:
    """Open the workspace; only commands that put data in (import, demo, config) create one."""
    path = Path(ctx.obj["workspace"])
    if not create and not (path / "cxmetrics.duckdb").exists():
        raise cxmetrics.StoreError(
            f"no workspace at {path}: create one with `cxmetrics demo` or `cxmetrics import`, "
            "or point --workspace (or CXMETRICS_WORKSPACE) at an existing one."
        )
    return cxmetrics.open(path, read_only=read_only, create=create)


_format_option = click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format."
)


#: the commands that run on Spark over an export (and `sla status`: cxmetrics.sla._cli)
SPARK_COMMANDS = ("metrics", "refresh", "scorecard")


# RoutedGroup: while a server holds the workspace, the command runs in it (cxmetrics/_remote_cli.py)
@click.group(cls=RoutedGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--workspace", "-w", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_PATH,
    envvar="CXMETRICS_WORKSPACE", show_default=True, help="Workspace folder (env CXMETRICS_WORKSPACE).",
)
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True,
              help="Where `metrics`, `refresh`, `sla status` and `scorecard` run: the workspace (duckdb), "
                   "or Spark over --tables (docs/spark.md).")
@click.option("--tables", type=click.Path(file_okay=False, path_type=Path),
              help="With --engine spark: a folder written by `cxmetrics export tables`.")
@click.option("--catalog", metavar="DB",
              help="With --engine spark: read the tables by name from this database of the Spark session's "
                   "catalog (Hive, Delta, Iceberg; catalog.db for another catalog), instead of --tables.")
@click.option("--spark-conf", "spark_conf", multiple=True, metavar="KEY=VALUE",
              help="A Spark setting for --engine spark (repeat), e.g. spark.master=local[2].")
@click.version_option(cxmetrics.__version__, prog_name="cxmetrics")
@click.pass_context
def main(ctx: click.Context, workspace: Path, engine: str, tables: Path | None, catalog: str | None,
         spark_conf: tuple[str, ...]) -> None:
    """cxmetrics: customer-service KPIs from your help desk, calls and surveys."""
    ctx.obj = {"workspace": workspace, "engine": engine, "tables": tables, "catalog": catalog, "spark_conf": spark_conf}
    if catalog is not None and (engine != "spark" or tables is not None):
        raise click.UsageError("--catalog DB is where --engine spark reads the tables, instead of --tables DIR: "
                               "give --engine spark and one of the two.")
    if engine == "spark" and tables is None and catalog is None:
        raise click.UsageError("--engine spark reads the tables of `cxmetrics export tables DIR`: give --tables DIR "
                               "(or --catalog DB, a database of the Spark session's catalog).")
    if engine == "spark" and ctx.invoked_subcommand not in (*SPARK_COMMANDS, "sla", None):
        raise click.UsageError(f"only `metrics`, `refresh`, `sla status` and `scorecard` run on Spark in this "
                               f"version; run `{ctx.invoked_subcommand}` without --engine spark (docs/spark.md).")
    if catalog is not None and ctx.invoked_subcommand in ("sla", "scorecard"):
        raise click.UsageError(f"`{ctx.invoked_subcommand}` on Spark reads an export's folder: give --tables DIR "
                               "instead of --catalog (docs/spark.md).")


@main.command("import")
@click.argument("kind", type=click.Choice([*sorted(KINDS), *sorted(VENDORS), "tables"]))
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path), help="TOML mapping: column renames, time zone, formats, value maps.")
@click.option("--source", help="Source name for rows that carry none (default: the mapping's, else 'default').")
@click.option("--file-format", type=click.Choice(["csv", "jsonl", "parquet"]), help="File format (default: by extension).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Summary format; json prints one object: import_id, read, inserted, updated, unchanged, quarantined.")
@click.pass_context
@_fail_cleanly
def import_cmd(ctx: click.Context, kind: str, file: Path, mapping: Path | None, source: str | None,
               file_format: str | None, fmt: str) -> None:
    """Import FILE (CSV, JSON Lines or Parquet) as KIND; or a help desk's saved API
    JSON (a file or a folder of pages) with KIND = its name, e.g. `import zendesk export/`
    (one summary per table it feeds; each table lands whole, and a re-run completes it).

    Idempotent and atomic: re-importing changes nothing, and an interrupted import
    leaves the workspace as it was. Bad rows go to the quarantine with their line and
    reason; the summary reconciles: read = inserted + updated + unchanged + quarantined.

    `import tables DIR` fills a new workspace with a `cxmetrics export tables` folder as it is,
    facts included (those `--engine spark --tables DIR refresh` derived), to serve it
    (docs/spark.md, "Serving what Spark built").
    """
    if kind == "tables":
        _import_tables(ctx, file, fmt, given=[o for o, v in (("--mapping", mapping), ("--source", source),
                                                             ("--file-format", file_format)) if v])
        return
    if kind in VENDORS:  # one reconciled summary per canonical table it fed
        with _open(ctx, create=True) as ws:
            result = import_vendor(ws, kind, file, source=source, mapping=mapping, file_format=file_format)
        click.echo(json.dumps(result.to_dict()) if fmt == "json" else str(result))
        return
    with _open(ctx, create=True) as ws:
        summary = ws.import_file(kind, file, mapping=mapping, source=source, file_format=file_format,
                                 progress=fmt == "table")
    click.echo(json.dumps(summary.to_dict()) if fmt == "json" else str(summary))


def _import_tables(ctx: click.Context, folder: Path, fmt: str, given: list[str]) -> None:
    from cxmetrics.exports._import_tables import import_tables

    if given:
        raise click.UsageError(f"import tables loads an export as it is: {', '.join(given)} does not apply.")
    with _open(ctx, create=True) as ws:
        counts = import_tables(ws, folder)
    if fmt == "json":
        click.echo(json.dumps({"tables": counts}))
    else:
        click.echo(f"{len(counts)} tables ({sum(counts.values()):,} rows) loaded from {folder} into {ws.path}; "
                   "facts as exported, nothing derived again")


@main.command("sync")
@click.argument("vendor", type=click.Choice(sorted(VENDORS)))
@click.option("--source", help="Source name of the rows (default: the help desk's name).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Summary format; json prints one object: streams, tables (each reconciled), requests.")
@click.option("--config", "config", is_flag=True,
              help="Read the help desk's schedules and SLA policies instead, and show the schedules.toml and "
                   "sla.toml they make (docs/connectors.md, \"Configuration carried over\").")
@click.option("--from", "from_path", type=click.Path(exists=True, path_type=Path),
              help="With --config: read saved API responses (a file or folder) instead of the API.")
@click.option("--write", is_flag=True, help="With --config: write the files (an existing one is kept as .bak).")
@click.pass_context
@_fail_cleanly
def sync_cmd(ctx: click.Context, vendor: str, source: str | None, fmt: str, config: bool = False,
             from_path: Path | None = None, write: bool = False) -> None:
    """Pull VENDOR's changes since the last sync through its REST API, as set up in
    settings.toml's [connectors.VENDOR] (docs/connectors.md, "Live sync").

    Incremental and resumable: the cursor is kept in the workspace with the pages
    fetched up to it, so a sync stopped at any point (Ctrl+C, a crash, a network error)
    continues where it stopped, with nothing lost or stored twice. Rate limits (429,
    Retry-After) and server errors are waited out with backoff.

    With --config, reads VENDOR's business hours and SLA policies instead and shows the
    schedules.toml and sla.toml they make (and what they change); --write writes them.
    """
    if config:  # configuration carried over (connectors/config.py), not a data sync
        from cxmetrics.connectors._config_cli import run_config

        run_config(Path(ctx.obj["workspace"]), vendor, source=from_path, write=write, fmt=fmt)
        return
    if from_path is not None or write:
        raise click.UsageError("--from and --write go with --config (cxmetrics sync VENDOR --config --from FOLDER).")
    from cxmetrics.connectors import sync

    live = sys.stderr.isatty() and fmt == "table"

    def progress(stream: str, seen: object) -> None:
        if live:
            click.echo(f"\r{vendor} {stream}: {seen.pages:,} pages, {seen.objects:,} objects\033[K",  # type: ignore[attr-defined]
                       nl=False, err=True)

    with _open(ctx, create=True) as ws:
        summary = sync(ws, vendor, source=source, progress=progress)
    if live:
        click.echo("\r\033[K", nl=False, err=True)
    click.echo(json.dumps(summary.to_dict()) if fmt == "json" else str(summary))


@main.command()
@click.option("--import", "import_id", help="Only rows of this import.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many rows (table format: 50).")
@_format_option
@click.pass_context
@_fail_cleanly
def quarantine(ctx: click.Context, import_id: str | None, limit: int | None, fmt: str) -> None:
    """List rows that imports rejected, with file, line and reason.

    The quarantine holds what the latest import of each file rejected: fix the file
    and import it again, and its old entries go."""
    with _open(ctx) as ws:
        table = ws.quarantine(import_id)
    shown = limit or (50 if fmt == "table" else None)
    if shown is not None and table.num_rows > shown:
        if fmt == "table":
            click.echo(f"{table.num_rows:,} rows; showing {shown} (use --limit or --format json)", err=True)
        table = table.slice(0, shown)
    if fmt == "table":
        table = table.select(["import_id", "kind", "file", "line", "reason", "raw"])
    click.echo(render(table, fmt))


@main.command()
@_format_option
@click.pass_context
@_fail_cleanly
def imports(ctx: click.Context, fmt: str) -> None:
    """List past imports with their counts, newest first."""
    with _open(ctx) as ws:
        table = ws.imports()
    if fmt == "table":
        table = table.select(["import_id", "kind", "file", "started_at", "read", "inserted", "updated",
                              "unchanged", "quarantined"])
    click.echo(render(table, fmt))


@main.command()
@_format_option
@click.pass_context
@_fail_cleanly
def status(ctx: click.Context, fmt: str) -> None:
    """Show the workspace: where it is, its settings and the rows in each table."""
    with _open(ctx) as ws:
        counts = ws.counts()
        info = {"workspace": str(ws.path.resolve()), "schema_version": ws.schema_version,
                **{s.name: getattr(ws.settings, s.name) for s in SETTINGS}}
    if fmt == "json":
        click.echo(json.dumps({**info, "rows": counts}, indent=2))
        return
    for k, v in info.items():
        click.echo(f"{k:<16} {v}")
    click.echo(render(pa.table({"table": list(counts), "rows": list(counts.values())}), fmt))


@main.command()
@click.argument("assignments", nargs=-1, metavar="[KEY=VALUE]...")
@click.pass_context
@_fail_cleanly
def config(ctx: click.Context, assignments: tuple[str, ...]) -> None:
    """Show or change workspace settings, e.g. `cxmetrics config timezone=Europe/Berlin`."""
    changes = {}
    for a in assignments:
        key, sep, value = a.partition("=")
        if not sep:
            raise click.UsageError(f"'{a}' is not KEY=VALUE.")
        changes[key.strip()] = value.strip()
    known = {s.name for s in SETTINGS}
    for key in changes:
        if key not in known:
            raise cxmetrics.UnknownNameError("setting", key, known)
    with _open(ctx, create=True) as ws:
        settings = ws.configure(**changes) if changes else ws.settings
    for s in SETTINGS:
        click.echo(f"{s.name:<14} {getattr(settings, s.name):<16} {s.doc}")


@main.command()
@click.argument("kind", required=False, type=click.Choice(sorted(KINDS)))
def formats(kind: str | None) -> None:
    """Describe the import formats: columns, types and allowed values."""
    for name in [kind] if kind else sorted(KINDS):
        spec = KINDS[name]
        click.echo(f"{name}: {spec.doc}")
        for col in spec.inputs:
            detail = col.doc or (f"one of {', '.join(col.values)}" if col.values else "")
            kind_word = col.type.value if col.type is not ColType.TEXT else "text"
            req = "required" if col.required else ""
            click.echo(f"  {col.name:<18} {kind_word:<10} {req:<9} {detail}".rstrip())
        click.echo("")
    for vendor in VENDORS.values() if kind is None else ():  # help desks: `cxmetrics import VENDOR PATH`
        click.echo(f"{vendor.name} (cxmetrics import {vendor.name} PATH): {vendor.doc}")
        click.echo("".join(f"  {line}\n" for line in vendor.reads))


@main.command("reconcile")
@click.argument("vendor", type=click.Choice(sorted(VENDORS)))
@click.option("--metric", "metrics", multiple=True, help="Only this metric (repeat for more), e.g. reply_time.")
@click.option("--source", help="Our tickets of this source (default: the help desk's name, as imports give it).")
@click.option("--limit", type=click.IntRange(min=0), default=None,
              help="List at most this many tickets (table format: 50); the counts cover every ticket.")
@_format_option
@click.pass_context
@_fail_cleanly
def reconcile_cmd(ctx: click.Context, vendor: str, metrics: tuple[str, ...], source: str | None, limit: int | None,
                  fmt: str) -> None:
    """Compare VENDOR's own per-ticket numbers (Zendesk ticket_metrics, Freshdesk stats,
    Intercom statistics, kept by `cxmetrics import VENDOR`) with ours: per metric, how many
    tickets agree within a minute (counts: exactly), then the tickets that do not, with
    both values, ours minus the vendor's (in minutes) and the reason where the ticket's
    data shows one. Disagreements are data: the command succeeds whatever they are.
    csv prints the tickets (the per-metric lines go to stderr)."""
    from cxmetrics.connectors.reconcile import reconcile

    shown_at_most = limit if limit is not None else (50 if fmt == "table" else None)
    with _open(ctx) as ws:
        result = reconcile(ws, vendor, metrics=list(metrics) or None, source=source, limit=shown_at_most)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    if fmt == "csv":
        click.echo(result.summary(), err=True)
        click.echo(render(result.differences_table(), "csv"))
        return
    click.echo(result.summary())
    if not result.total_differences:
        click.echo("\nEvery ticket both sides measured agrees.")
        return
    click.echo("")
    click.echo(render(result.differences_table(), "table"))
    if len(result.differences) < result.total_differences:
        click.echo(f"{result.total_differences:,} tickets do not agree; showing {len(result.differences)} "
                   "(use --limit, --metric or --format json)", err=True)


@main.command()
@click.option("--tickets", type=click.IntRange(1_000, 10_000_000), default=100_000, show_default=True,
              help="Tickets to generate (12 months).")
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed: the same seed gives the same data.")
@click.option("--no-serve", is_flag=True, help="Do not serve the dashboard afterwards.")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True,
              help="Port of the dashboard the demo ends by serving (on 127.0.0.1).")
@click.option("--no-open", is_flag=True, help="Serve, but do not open a browser.")
@click.option("--no-trickle", is_flag=True,
              help="Serve without the live demo events (by default a few a minute keep the live panels moving).")
@click.option("--new-key", is_flag=True, help="Create and print a new admin key when the server starts.")
@click.option("--end", "end", help="End the generated year at this instant instead of now (e.g. 2026-11-01T00:00Z): "
              "the same seed and end give the same data.")
@click.pass_context
@_fail_cleanly
def demo(ctx: click.Context, tickets: int, seed: int, no_serve: bool, port: int, no_open: bool, no_trickle: bool,
         new_key: bool, end: str | None) -> None:
    """Generate a realistic support organisation into the workspace (the 12 months up to
    now, with the newest tickets still in flight), summarise it, and serve the dashboard
    over it (until Ctrl+C; --no-serve skips that). While it serves, a few live demo events
    a minute (ids `live-...`) keep it moving.

    Replaces earlier demo data (source 'demo', live events included); your own imports are left alone."""
    import datetime as dt

    from cxmetrics.demo import DemoConfig
    from cxmetrics._demo_run import parse_end, run_demo, serve_demo

    until = dt.datetime.now(dt.timezone.utc) if end is None else parse_end(end)
    with _open(ctx, create=True) as ws:
        report = run_demo(ws, DemoConfig(tickets=tickets, seed=seed, end=until), echo=click.echo)
        path = ws.path
    click.echo(report)
    if not no_serve:
        click.echo("")
        serve_demo(path, port, open_browser=not no_open, new_key=new_key, trickle=not no_trickle, echo=click.echo)


# a metric query's options and their parsing, shared with `cxmetrics export metrics` (exports/_cli.py)
_parse_where, _split = parse_where, split_values


@main.command()
@click.argument("ids", nargs=-1, required=True)
@query_options
@click.option("--explain", is_flag=True, help="Print the SQL it runs instead of running it.")
@click.option("--benchmark", help="Show target, industry reference and gap: an industry (ecommerce, retail, banking, "
              "software, telecom, airlines), a channel, or 'channel' for each row's own.")
@_format_option
@click.pass_context
@_fail_cleanly
def metrics(ctx: click.Context, ids: tuple[str, ...], by: tuple[str, ...], grain: str | None, start: str | None,
            end: str | None, where: tuple[str, ...], explain: bool, benchmark: str | None, fmt: str) -> None:
    """Compute metrics (IDS: csat, frt_p90, nps, ...; see `cxmetrics catalogue`).

    Every value comes with n and, where it is an estimate, a 95% interval; values from
    fewer than 30 observations are flagged small_sample."""
    if ctx.obj["engine"] == "spark":
        result = _spark_metrics(ctx, ids, by, grain, start, end, where, explain, benchmark)
    else:
        with _open(ctx) as ws:
            result = ws.metrics(_split(ids), by=_split(by), grain=grain, where=_parse_where(where), start=start,
                                end=end, explain=explain, benchmark=benchmark)
    if explain:
        click.echo("\n;\n\n".join(result.sql) + "\n;")
        return
    table = result.table
    click.echo(render(metric_table_for_screen(table) if fmt == "table" else table, fmt))  # json: ISO periods


def _spark_metrics(ctx: click.Context, ids: tuple[str, ...], by: tuple[str, ...], grain: str | None,
                   start: str | None, end: str | None, where: tuple[str, ...], explain: bool,
                   benchmark: str | None) -> MetricTable:
    """`metrics` on Spark over --tables; the Spark conf from the workspace's settings (when
    there is a workspace) and --spark-conf."""
    from cxmetrics.engines import Catalog, spark_metrics
    from cxmetrics.engines._run import workspace_conf

    if benchmark is not None:
        raise click.UsageError("--benchmark reads the workspace's targets: run it without --engine spark.")
    path = Path(ctx.obj["workspace"])
    conf = workspace_conf(path, ctx.obj["spark_conf"])
    tables: Path | Catalog = ctx.obj["tables"]
    if ctx.obj["catalog"] is not None:  # no manifest: the zone given, else the workspace's, else the session's
        settings = cxmetrics.Settings.load(path / "settings.toml") if (path / "settings.toml").exists() else None
        zone = conf.get("spark.sql.session.timeZone") or (settings.timezone if settings is not None else None)
        tables = Catalog(ctx.obj["catalog"], zone)
    return spark_metrics(tables, _split(ids), by=_split(by), grain=grain, where=_parse_where(where),
                         start=start, end=end, conf=conf, explain=explain)


@main.command("refresh")
@click.option("--full", is_flag=True, help="Every ticket, not only those changed since the last refresh "
                                           "(with --engine spark, always every ticket).")
@click.option("--now", help="With --engine spark: evaluate the SLA clocks at this time (ISO 8601; default: "
                            "the current time).")
@click.option("--no-sla", "no_sla", is_flag=True, help="With --engine spark: derive the facts only, not the SLA "
                                                      "clocks (the export's sla_targets stay as they are).")
@click.pass_context
@_fail_cleanly
def refresh_cmd(ctx: click.Context, full: bool, now: str | None, no_sla: bool) -> None:
    """Bring the ticket facts up to date (queries do it too, before they run). A full refresh derives
    every ticket again, rewrites only the rows that differ and says how many tickets' did. With --engine spark:
    derive ticket_facts, reply_intervals, contacts, survey_fatigue, their business-time twins and
    the SLA clocks on Spark from the tables in --tables and write them back there (docs/spark.md,
    "Facts on Spark")."""
    if ctx.obj["engine"] == "spark":
        from cxmetrics.engines._run import workspace_conf
        from cxmetrics.engines._spark_facts import spark_refresh

        if ctx.obj["catalog"] is not None:
            raise click.UsageError("refresh on Spark writes the facts as Parquet into --tables DIR, not into a "
                                   "catalog: run it with --tables, then register DIR's tables in the catalog "
                                   "(docs/spark.md, \"A Spark catalog as the source\").")
        conf = workspace_conf(Path(ctx.obj["workspace"]), ctx.obj["spark_conf"])
        counts = spark_refresh(ctx.obj["tables"], conf, now=now, sla=not no_sla)
        rows = ", ".join(f"{name} {n:,}" for name, n in counts.items())
        click.echo(f"facts derived on Spark and written to {ctx.obj['tables']}: {rows}")
        return
    if now is not None or no_sla:
        option = "--now" if now is not None else "--no-sla"
        raise click.UsageError(f"{option} is for a refresh on Spark, which derives the SLA clocks too; on the "
                               "workspace, `refresh` derives the facts only and `cxmetrics sla refresh` the clocks.")
    from cxmetrics.facts import last_business_refresh, last_full_refresh

    with _open(ctx) as ws:
        before = last_full_refresh(ws.con)
        n = ws.refresh(full=full)
        done = last_full_refresh(ws.con)
        business = last_business_refresh(ws.con)
    if done is None or done == before:  # only the touched tickets: every one of them rewritten
        click.echo(f"facts refreshed: {n:,} ticket{'' if n == 1 else 's'}")
        return
    # every ticket derived again (asked for, the first refresh, or new schedules): what changed
    click.echo(f"facts refreshed (full): {n:,} ticket{'' if n == 1 else 's'}")
    if done.first:
        click.echo("  every ticket's facts are new (nothing was stored before)")
        return
    twins = f", business time {business.changed:,}" if business is not None and business.recomputed_all else ""
    click.echo(f"  changed (tickets): facts {done.facts_changed:,}, reply intervals {done.replies_changed:,}, "
               f"contacts {done.contacts_changed:,}{twins}; survey sends' fatigue ordinals: {done.sends_changed:,}")


@main.command()
@_format_option
def catalogue(fmt: str) -> None:
    """List every metric with its declaration: what each number means."""
    from cxmetrics.metrics._registry import registry

    specs = [s.model_dump(mode="json") for s in registry()]
    if fmt == "json":
        click.echo(json.dumps(specs, indent=2))
        return
    table = pa.table({
        "id": [s["id"] for s in specs], "label": [s["label"] for s in specs], "kind": [s["kind"] for s in specs],
        "unit": [s["unit"] for s in specs], "description": [s["description"] for s in specs],
    })
    click.echo(render(table, fmt))


@main.command("compare")
@click.argument("ids", nargs=-1, required=True)
@click.option("--a", "period_a", help="First period START:END (END excluded), e.g. 2025-01-01:2025-02-01.")
@click.option("--b", "period_b", help="Second period START:END.")
@click.option("--annotation", help="Compare the days before and after this annotation (id or label).")
@click.option("--days", type=click.IntRange(1, 366), default=28, show_default=True, help="Window around an annotation.")
@click.option("--by", "by", multiple=True, help="Group by ticket dimensions.")
@click.option("--where", "where", multiple=True, help="Filter DIM=VALUE[,VALUE...].")
@_format_option
@click.pass_context
@_fail_cleanly
def compare_cmd(ctx: click.Context, ids: tuple[str, ...], period_a: str | None, period_b: str | None,
                annotation: str | None, days: int, by: tuple[str, ...], where: tuple[str, ...], fmt: str) -> None:
    """Test whether metrics changed between two periods, or around an annotation.

    Each change's 95% interval and p-value come from one method, so "real change" (p < 0.05)
    means the interval excludes 0: proportions by Newcombe's score interval, NPS and medians by
    combining each period's own interval (MOVER), means by Welch's t, counts by a Poisson z.
    No data in the earlier period: not tested (flag no_data_before). See docs/statistics.md."""
    from cxmetrics.metrics._compare import parse_period

    a = parse_period(period_a) if period_a else None
    b = parse_period(period_b) if period_b else None
    with _open(ctx) as ws:
        table = ws.compare(_split(ids), a, b, annotation=annotation, days=days, by=_split(by), where=_parse_where(where))
    if fmt == "table":
        table = compare_table_for_screen(table)
    click.echo(render(table, fmt))


@main.command("scorecard")
@click.option("--from", "start", help="Period start (inclusive).")
@click.option("--to", "end", help="Period end (exclusive).")
@click.option("--where", "where", multiple=True, help="Filter DIM=VALUE[,VALUE...], e.g. team=Billing.")
@click.option("--min-n", type=click.IntRange(1), default=None,
              help="Rank only agents with at least this many observations of the ranking KPI "
                   "[default: half the median per agent, between 5 and 30].")
@click.option("--rank-by", type=click.Choice(["csat", "fcr", "solved_tickets"]), default="csat", show_default=True)
@click.option("--hours", type=click.Choice(["calendar", "business"]), default="calendar", show_default=True,
              help="First touch and FRT in calendar time or in the business hours of each ticket's schedule.")
@_format_option
@click.pass_context
@_fail_cleanly
def scorecard_cmd(ctx: click.Context, start: str | None, end: str | None, where: tuple[str, ...], min_n: int | None,
                  rank_by: str, hours: str, fmt: str) -> None:
    """Agents and bots measured alike: solved, first touch, FRT, AHT, FCR, reopens, CSAT."""
    if ctx.obj["engine"] == "spark":
        from cxmetrics.engines._run import spark_scorecard, workspace_conf

        table = spark_scorecard(ctx.obj["tables"], start=start, end=end, where=_parse_where(where), min_n=min_n,
                                rank_by=rank_by, hours=hours,
                                conf=workspace_conf(Path(ctx.obj["workspace"]), ctx.obj["spark_conf"]))
    else:
        with _open(ctx) as ws:
            table = ws.scorecard(start=start, end=end, where=_parse_where(where), min_n=min_n, rank_by=rank_by,
                                 hours=hours)
    if fmt == "table":
        table = scorecard_for_screen(table)
    click.echo(render(table, fmt))


# a group that runs as a command too: `topics --from --to` ranks topics, `topics discover`
# finds them in the tickets' texts (cxmetrics.text, docs/text.md)
@main.group("topics", invoke_without_command=True)
@click.option("--from", "start", help="Period start (inclusive), e.g. 2026-09-01.  [required]")
@click.option("--to", "end", help="Period end (exclusive).  [required]")
@click.option("--where", "where", multiple=True, help="Filter DIM=VALUE[,VALUE...], e.g. channel=email.")
@click.option("--limit", type=click.IntRange(1), default=10, show_default=True)
@click.option("--discovered", is_flag=True,
              help="The topics found in the texts (`cxmetrics topics discover`) instead of the help desk's.")
@_format_option
@click.pass_context
@_fail_cleanly
def topics_cmd(ctx: click.Context, start: str | None, end: str | None, where: tuple[str, ...], limit: int,
               discovered: bool, fmt: str) -> None:
    """Top topics: volume, share, change against the period before (tested), CSAT, FRT, and
    whether each is emerging (its share rose significantly). `topics discover` finds topics
    in the tickets' texts."""
    if ctx.invoked_subcommand is not None:
        if start or end or where or discovered:
            raise click.UsageError(f"--from/--to/--where/--discovered rank topics and cannot go with "
                                   f"`{ctx.invoked_subcommand}`; give its own options after it, e.g. "
                                   f"cxmetrics topics {ctx.invoked_subcommand} --from D.")
        return
    for name, value in (("start", start), ("end", end)):
        if value is None:
            raise click.MissingParameter(ctx=ctx, param=next(p for p in ctx.command.params if p.name == name))
    with _open(ctx) as ws:
        table = ws.topics(start=start, end=end, where=_parse_where(where), limit=limit, discovered=discovered)
    if fmt == "table":
        rows = table.to_pylist()
        table = pa.table({
            "topic": [r["topic"] for r in rows], "tickets": [r["tickets"] for r in rows],
            "share": [shown(r["share"], "percent") for r in rows],
            "before": [shown(r["before"], "count") for r in rows],
            "change": ["" if r["change"] is None else f"{r['change']:+,.0f}" for r in rows],
            "verdict": ["no data before" if r["flags"] else "" if r["significant"] is None
                        else ("real change" if r["significant"] else "noise") for r in rows],
            "csat": [shown(r["csat"], "percent") for r in rows], "frt": [shown(r["frt"], "seconds") for r in rows],
            "emerging": ["emerging" if r["emerging"] else "" for r in rows],
        })
    click.echo(render(table, fmt))


# -- command groups that live with their packages ----------------------------------------------

main.add_command(serve_cmd)
main.add_command(keys_group)
main.add_command(schedule_group)
main.add_command(sla_group)
main.add_command(targets_group)
main.add_command(text_group)
main.add_command(staffing_cmd)
main.add_command(forecast_cmd)
main.add_command(shifts_group)
main.add_command(report_group)
report_group.add_command(report_weekly)  # scheduled reports (reports/, docs/reports.md)
report_group.add_command(report_run_due)
report_group.add_command(report_status)
main.add_command(study_group)
main.add_command(reviews_group)
main.add_command(surveys_group)
main.add_command(export_group)
topics_cmd.add_command(topics_discover)
sla_group.add_command(sla_watch)
