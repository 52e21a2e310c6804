"""`cxmetrics demo`: generate the demo organisation into a workspace and summarise it.

The generated tables go through the same checks and merge as any import, so the demo
also exercises the import path; rows carry source 'demo' and replace earlier demo rows.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from cxmetrics._output import compare_table_for_screen, metric_table_for_screen, render, shown
from cxmetrics._workspace import Workspace
from cxmetrics.demo import DemoConfig, generate
from cxmetrics.demo._config_files import SLA_TOML, schedules_toml
from cxmetrics.demo._trickle import DEFAULT_PER_MINUTE, attach
from cxmetrics.errors import UserError
from cxmetrics.model import TABLES
from cxmetrics.store import rollback

SOURCE = "demo"
# org tables first, then what refers to them
HEADLINE = ["csat", "nps", "ces", "frt", "frt_first_touch", "full_resolution_time", "fcr", "reopen_rate",
            "service_level", "abandonment_rate", "aht", "bot_resolution_rate", "tickets", "unanswered"]
ORDER = ("agents", "customers", "tickets", "events", "surveys", "survey_sends", "activity", "funnel", "costs",
         "annotations")


def parse_end(text: str) -> dt.datetime:
    """The instant the generated year ends (`demo --end`); without an offset, UTC.

    >>> parse_end("2026-11-01T00:00Z"), parse_end("2026-11-01").tzinfo
    (datetime.datetime(2026, 11, 1, 0, 0, tzinfo=datetime.timezone.utc), datetime.timezone.utc)
    """
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"--end '{text}' is not a date or time such as 2026-11-01 or 2026-11-01T09:30Z.") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)


def clear_demo(ws: Workspace) -> None:
    """Remove earlier demo rows (only source 'demo'), in one transaction."""
    ws.con.execute("BEGIN TRANSACTION")
    try:
        for table in TABLES.values():
            ws.con.execute(f"DELETE FROM {table.write_name} WHERE source = ?", [SOURCE])
        ws.con.execute("DELETE FROM quarantine WHERE import_id IN (SELECT import_id FROM imports WHERE source = ?)", [SOURCE])
        ws.con.execute("COMMIT")
    except BaseException:
        rollback(ws.con)
        raise


def write_config_files(ws: Workspace, config: DemoConfig) -> list[str]:
    """The demo's business hours, SLA policies, KPI targets and surveys, into files the
    workspace does not have yet (a user's own are never overwritten); returns the names written."""
    from cxmetrics.calendar import SCHEDULES_FILE
    from cxmetrics.demo._config_files import SURVEYS_TOML, TARGETS_TOML
    from cxmetrics.sla import POLICY_FILE
    from cxmetrics.surveys._config import CONFIG_FILE as SURVEYS_FILE
    from cxmetrics.targets import TARGETS_FILE

    written = []
    for name, text in ((SCHEDULES_FILE, schedules_toml(config.timezone)), (POLICY_FILE, SLA_TOML),
                       (TARGETS_FILE, TARGETS_TOML), (SURVEYS_FILE, SURVEYS_TOML)):
        path = ws.path / name
        if not path.exists():
            path.write_text(text, encoding="utf-8")
            written.append(name)
    return written


def run_demo(ws: Workspace, config: DemoConfig, echo: Callable[[str], None] = print) -> str:
    started = time.perf_counter()
    written = write_config_files(ws, config)
    if written:
        echo(f"  wrote the demo's {' and '.join(written)} into {ws.path}")
    clear_demo(ws)
    quarantined = 0
    done = 0
    for batch in generate(config):
        for name in ORDER:
            if name in batch and batch[name].num_rows:
                summary = ws.import_table(name, batch[name], source=SOURCE, label=f"demo:{name}", canonical=True)
                quarantined += summary.quarantined
        done += batch["tickets"].num_rows if "tickets" in batch else 0
        if config.tickets >= 500_000:
            echo(f"  generated {done:,} of {config.tickets:,} tickets ({time.perf_counter() - started:.0f} s)")
    from cxmetrics.demo._shifts import demo_shifts

    # a phone roster planned by Erlang C, so staffed vs required and occupancy show (docs/workforce.md)
    ws.refresh()
    shifts = demo_shifts(ws, SOURCE)
    if shifts.num_rows:
        quarantined += ws.import_table("shifts", shifts, source=SOURCE, label="demo:shifts", canonical=True).quarantined
    from cxmetrics._demo_study import import_study, study_lines

    # a benchmark study of the demo's market and the organisation's app reviews (docs/studies.md)
    quarantined += import_study(ws, config)
    seconds = time.perf_counter() - started
    from cxmetrics._demo_text import text_layer

    # topics, sentiment, answer signals and consistency over the demo's messages (the Topics page)
    return summary_report(ws, config, seconds, quarantined, text=text_layer(ws, config, echo), study=study_lines(ws))


def serve_demo(path: Path, port: int, *, open_browser: bool = True, new_key: bool = False, trickle: bool = True,
               per_minute: float = DEFAULT_PER_MINUTE, echo: Callable[[str], None] = print) -> None:
    """Serve the dashboard over the demo workspace; with `trickle`, a few live demo events
    a minute (source 'demo', ids `live-...`) keep its live panels moving until it stops."""
    from cxmetrics.api._serve import DEFAULT_HOST, serve

    def prepare(app: object) -> None:
        if trickle:
            attach(app, per_minute=per_minute)
            echo(f"Live demo events: about {per_minute:g} a minute while it serves (ids live-...; "
                 "`cxmetrics demo --no-trickle` serves without them).")
        from cxmetrics.api._serve import url_for

        line = survey_link_line(app.state.workspace, url_for(DEFAULT_HOST, port))  # type: ignore[attr-defined]
        if line:
            echo(line)

    serve(path, DEFAULT_HOST, port, open_browser=open_browser, new_key=new_key, echo=echo, prepare=prepare)


def survey_link_line(ws: Workspace, url: str) -> str | None:
    """A survey link for the demo's latest solved ticket with no answer yet, so the demo
    shows collection without mailing anyone: a link send (as `cxmetrics surveys link`
    makes), its page at this server. None when surveys.toml defines no ticket survey."""
    from cxmetrics.surveys._config import SurveysConfig, Trigger
    from cxmetrics.surveys._sends import link

    try:
        config = SurveysConfig.load(ws.path)
    except UserError as exc:  # a broken surveys.toml of the user's: say so, serve all the same
        return f"Surveys: {exc}"
    ticket_surveys = [s for s in config.surveys if s.enabled and s.trigger is not Trigger.RELATIONSHIP]
    if not ticket_surveys:
        return None
    rows = ws.con.execute(
        "SELECT ticket_id FROM ticket_facts f WHERE source = ? AND status IN ('solved', 'closed') AND NOT excluded "
        "AND NOT coalesce(bot_contained, false) AND NOT EXISTS (SELECT 1 FROM surveys s WHERE s.source = f.source "
        "AND s.ticket_id = f.ticket_id) ORDER BY last_solved_at DESC, ticket_id LIMIT 1", [SOURCE]).fetchall()
    if not rows:
        return None
    survey = ticket_surveys[0]
    lo, hi = survey.scale_range
    # the server's own address, as surveys.toml's base_url would give it
    try:
        info = link(ws, rows[0][0], survey=survey, source=SOURCE, score=hi,
                    config=config.model_copy(update={"base_url": url.rstrip("/")}))
    except UserError as exc:  # the dashboard serves all the same
        return f"Surveys: no survey link to try: {exc}"
    return (f"Answer a survey as a demo customer would (ticket {rows[0][0]}, {survey.name}: {lo}-{hi}, {hi} "
            f"pre-selected; nothing is mailed in the demo):\n\n    {info.url}\n")


def surveys_lines(ws: Workspace) -> list[str]:
    """The summary's lines on surveys.toml: what is defined, and why the demo mails nobody."""
    from cxmetrics.surveys._config import SurveysConfig, Trigger

    try:
        config = SurveysConfig.load(ws.path)
    except UserError as exc:
        return [f"Surveys: {exc}"]
    if not config.surveys:
        return []
    what = []
    for s in config.surveys:
        if s.trigger is Trigger.RELATIONSHIP:
            when = f"every {_span(s.every_s or 0)}" + (f" to {_segment(s.segment)}" if s.segment else "")
        elif s.trigger is Trigger.SOLVED:
            when = f"{_span(s.delay_s)} after a solve"
        else:
            when = s.trigger.value.replace("_", " ")
        what.append(f"{s.name} ({s.kind} {s.scale}, {when}{'' if s.enabled else ', disabled'})")
    mail = ("mailed through [email]" if config.email is not None else
            "nothing is mailed (no [email] table); while the dashboard serves, `cxmetrics surveys link TICKET "
            "--score 5` makes a link to answer one as a customer")
    return [f"Surveys (surveys.toml; docs/surveys.md): {'; '.join(what)}; {mail}."]


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _segment(segment: dict[str, tuple[str, ...]]) -> str:
    return " and ".join(f"{col} {'/'.join(vals)}" for col, vals in segment.items()) + " customers"


def sla_table_for_screen(table: pa.Table) -> pa.Table:
    rows = table.to_pylist()
    keep = [c for c in ("policy", "metric") if c in table.column_names]
    return pa.table({
        **{c: [r[c] for r in rows] for c in keep},
        "compliance": [shown(r["compliance"], "percent") for r in rows],
        "targets": [r["n"] for r in rows],
        "breached": [r["breached"] for r in rows],
    })


def summary_report(ws: Workspace, config: DemoConfig, seconds: float, quarantined: int,
                   text: list[str] | None = None, study: list[str] | None = None) -> str:
    counts = ws.counts()
    span = ws.con.execute(
        "SELECT strftime(min(created_at), '%Y-%m-%d'), strftime(max(created_at), '%Y-%m-%d %H:%M'), "
        "count(*) FILTER (WHERE status IN ('new', 'open', 'pending', 'on-hold')) FROM tickets WHERE source = ?",
        [SOURCE],
    ).fetchall()[0]
    by_channel = ws.sql("""
        SELECT channel, count(*) AS tickets, round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS share_pct,
               count(*) FILTER (WHERE status IN ('solved', 'closed')) AS solved
        FROM tickets WHERE source = 'demo' GROUP BY channel ORDER BY tickets DESC
    """)
    notes = ws.sql("SELECT strftime(ts, '%Y-%m-%d') AS date, kind, label FROM annotations WHERE source = 'demo' ORDER BY ts")
    headline = ws.metrics(HEADLINE, benchmark="all").table
    launch = ws.compare(["bot_involvement_rate", "frt_first_touch", "csat"], annotation="Chat Assistant launched",
                        where={"channel": ["chat", "messaging"]})
    from cxmetrics.sla import compliance, refresh_sla

    refresh_sla(ws)
    sla = compliance(ws.con, by=["policy", "metric"])
    lines = [
        f"Demo organisation generated in {seconds:.1f} s (seed {config.seed}) into {ws.path}",
        f"  tickets created {span[0]} .. {span[1]} ({ws.settings.timezone}); still in flight: {span[2]:,}; "
        f"rows quarantined: {quarantined}",
        "",
        "Rows per table:",
        "  " + "  ".join(f"{k} {v:,}" for k, v in counts.items() if k != "quarantine"),
        "",
        "Tickets by channel:",
        render(by_channel),
        "",
        "Headline KPIs (whole year; target and a published reference where one exists):",
        render(metric_table_for_screen(headline).drop_columns(["source"])),
        "",
        "Annotated changes:",
        render(notes),
        "",
        "Chat and messaging, 28 days before vs after the Chat Assistant launch:",
        render(compare_table_for_screen(launch)),
        "",
        "SLA compliance by policy and SLA metric (sla.toml; targets settled, whole year):",
        render(sla_table_for_screen(sla)),
        "",
        *([*text, ""] if text else []),
        *([*study, ""] if study else []),
        *([*surveys, ""] if (surveys := surveys_lines(ws)) else []),
        "Next: cxmetrics -w " + str(ws.path) + " metrics csat,frt --by channel --grain month   (catalogue: cxmetrics catalogue)",
    ]
    return "\n".join(lines)
