"""`cxmetrics schedule ...`: business-hours schedules from the workspace's schedules.toml.

The group is registered on the main command line by `main.add_command(schedule_group)`;
it reads only `schedules.toml` (no database), so it works before any import.

>>> from click.testing import CliRunner
>>> import tempfile
>>> result = CliRunner().invoke(schedule_group, ["between", "2026-03-06T16:00Z", "2026-03-09T10:00Z"],
...                             obj={"workspace": tempfile.mkdtemp()})
>>> print(result.output.splitlines()[3])   # no schedules.toml: 24/7 UTC, business = calendar time
business   66h 00m 00s (237600 s)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
import pyarrow as pa

from cxmetrics._clitools import fail_cleanly as _fail_cleanly
from cxmetrics._clitools import workspace_path
from cxmetrics._output import render
from cxmetrics.calendar._schedule import SCHEDULES_FILE, WEEKDAYS, Schedule, ScheduleSet
from cxmetrics.errors import SettingsError, UserError

_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*$")




def _path(ctx: click.Context) -> Path:
    return workspace_path(ctx) / SCHEDULES_FILE


def _load(ctx: click.Context) -> ScheduleSet:
    return ScheduleSet.load(_path(ctx))


def _pick(ss: ScheduleSet, name: str | None) -> Schedule:
    return ss.default if name is None else ss[name]


def _format_option(*choices: str) -> Callable[..., Any]:
    return click.option("--format", "fmt", type=click.Choice(choices), default="table", show_default=True,
                        help="Output format.")


@click.group("schedule")
def schedule_group() -> None:
    """Business-hours schedules: time zone, weekly hours, holidays (schedules.toml).

    Without a schedules.toml every ticket uses one 24/7 UTC schedule, so business
    time equals calendar time. See docs/business-time.md for the file's format."""


@schedule_group.command("list")
@_format_option("table", "json")
@click.pass_context
@_fail_cleanly
def list_cmd(ctx: click.Context, fmt: str) -> None:
    """List the schedules (time zone, weekly hours, holidays this year) and the rules."""
    ss = _load(ctx)
    year = datetime.now(UTC).year
    if fmt == "json":
        click.echo(json.dumps({
            "file": str(_path(ctx)), "exists": _path(ctx).exists(), "default": ss.default_name,
            "schedules": [_as_json(s, year) for s in ss.schedules],
            "rules": [{"schedule": r.schedule, "when": {d: list(v) for d, v in r.when}} for r in ss.rules],
        }, indent=2))
        return
    if not _path(ctx).exists():
        click.echo(f"no {_path(ctx)}: every ticket uses the default 24/7 UTC schedule (business time = calendar time)")
    table = pa.table({
        "schedule": [s.name + (" (default)" if s.name == ss.default_name else "") for s in ss.schedules],
        "timezone": [s.timezone for s in ss.schedules],
        "hours": [s.describe_hours() for s in ss.schedules],
        f"holidays {year}": [len(s.holiday_dates(year)) for s in ss.schedules],
        "holiday calendars": [", ".join(str(c) for c in s.holiday_calendars) for s in ss.schedules],
    })
    click.echo(render(table, "table"))
    if ss.rules:
        click.echo("\nrules (the first match wins; otherwise the default):")
        for n, rule in enumerate(ss.rules, start=1):
            click.echo(f"  {n}. {rule.describe()} -> {rule.schedule}")


def _as_json(s: Schedule, year: int) -> dict[str, Any]:
    return {
        "name": s.name, "timezone": s.timezone,
        "hours": {WEEKDAYS[d]: [str(i) for i in day] for d, day in enumerate(s.hours)},
        "hours_text": s.describe_hours(),
        "holidays": [a.isoformat() if a == b else f"{a.isoformat()}..{b.isoformat()}" for a, b in s.holidays],
        "holiday_calendars": [c.model_dump() for c in s.holiday_calendars],
        "holidays_this_year": len(s.holiday_dates(year)),
    }


@schedule_group.command("check")
@click.argument("name", required=False)
@click.pass_context
@_fail_cleanly
def check_cmd(ctx: click.Context, name: str | None) -> None:
    """Validate schedules.toml (or one schedule of it); errors name the field and the fix."""
    path = _path(ctx)
    ss = _load(ctx)
    if not path.exists():
        click.echo(f"no {path}: every ticket uses the default 24/7 UTC schedule (business time = calendar time)")
        return
    chosen = [ss[name]] if name else list(ss.schedules)
    year = datetime.now(UTC).year
    for s in chosen:
        s.holiday_dates(year)  # the holiday calendars expand
        click.echo(f"ok  {s.name}: {s.timezone}, {s.describe_hours()}")
    if not name:
        click.echo(f"{path}: {len(ss.schedules)} schedule(s), default '{ss.default_name}', {len(ss.rules)} rule(s)")


@schedule_group.command("between")
@click.argument("start")
@click.argument("end")
@click.option("--schedule", "schedule", help="Schedule name (default: the default schedule).")
@_format_option("table", "json")
@click.pass_context
@_fail_cleanly
def between_cmd(ctx: click.Context, start: str, end: str, schedule: str | None, fmt: str) -> None:
    """Business time between START and END (ISO 8601; without an offset they are read in
    the schedule's time zone)."""
    s = _pick(_load(ctx), schedule)
    a, b = _timestamp(start, s, "START"), _timestamp(end, s, "END")
    business = s.business_seconds(a, b)
    calendar = max((b - a).total_seconds(), 0.0)
    if fmt == "json":
        click.echo(json.dumps({"schedule": s.name, "timezone": s.timezone, "start": a.isoformat(),
                               "end": b.isoformat(), "business_seconds": business, "calendar_seconds": calendar,
                               "business": humanise(business)}))
        return
    zone = ZoneInfo(s.timezone)
    click.echo(f"schedule   {s.name} ({s.timezone}; {s.describe_hours()})")
    click.echo(f"start      {a.astimezone(zone).isoformat()}")
    click.echo(f"end        {b.astimezone(zone).isoformat()}")
    click.echo(f"business   {humanise(business)} ({_number(business)} s)")
    click.echo(f"calendar   {humanise(calendar)} ({_number(calendar)} s)")


@schedule_group.command("due")
@click.argument("start")
@click.argument("duration")
@click.option("--schedule", "schedule", help="Schedule name (default: the default schedule).")
@_format_option("table", "json")
@click.pass_context
@_fail_cleanly
def due_cmd(ctx: click.Context, start: str, duration: str, schedule: str | None, fmt: str) -> None:
    """When DURATION of business time (e.g. 4h, 90m, 1h30m, 3600s) has passed after START."""
    s = _pick(_load(ctx), schedule)
    a = _timestamp(start, s, "START")
    seconds = parse_duration(duration)
    due = s.add_business_seconds(a, seconds)
    zone = ZoneInfo(s.timezone)
    if fmt == "json":
        click.echo(json.dumps({"schedule": s.name, "timezone": s.timezone, "start": a.isoformat(),
                               "business_seconds": seconds, "due": due.astimezone(zone).isoformat(),
                               "due_utc": due.astimezone(UTC).isoformat()}))
        return
    click.echo(f"schedule   {s.name} ({s.timezone}; {s.describe_hours()})")
    click.echo(f"start      {a.astimezone(zone).isoformat()}")
    click.echo(f"business   {humanise(seconds)}")
    click.echo(f"due        {due.astimezone(zone).strftime('%a')} {due.astimezone(zone).isoformat()} "
               f"({due.astimezone(UTC).isoformat()})")


@schedule_group.command("holidays")
@click.argument("name")
@click.option("--year", type=click.IntRange(1970, 2200), default=None, help="Year (default: this year).")
@_format_option("table", "json", "csv")
@click.pass_context
@_fail_cleanly
def holidays_cmd(ctx: click.Context, name: str, year: int | None, fmt: str) -> None:
    """The holidays of schedule NAME in a year: its own dates and its holiday calendars'."""
    s = _load(ctx)[name]
    year = year or datetime.now(UTC).year
    days = s.holiday_dates(year)
    table = pa.table({"date": [d.isoformat() for d in days], "weekday": [WEEKDAYS[d.weekday()] for d in days],
                      "name": list(days.values())}, schema=pa.schema(
                          [("date", pa.string()), ("weekday", pa.string()), ("name", pa.string())]))
    if fmt == "table":
        click.echo(f"{s.name}: {len(days)} holiday(s) in {year}")
    click.echo(render(table, fmt))


# -- helpers -------------------------------------------------------------------------------


def _timestamp(text: str, schedule: Schedule, what: str) -> datetime:
    """ISO 8601; a date or a naive timestamp is read in the schedule's time zone."""
    raw = text.strip()
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError:
        raise UserError(f"{what} '{text}' is not an ISO 8601 timestamp such as 2026-03-06T16:00 "
                        f"or 2026-03-06T16:00:00+01:00.") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(schedule.timezone))
    return value


def parse_duration(text: str) -> float:
    """Seconds of '4h', '90m', '1h30m', '45s', '2.5h' or a bare number of seconds.

    >>> parse_duration("1h30m"), parse_duration("4h"), parse_duration("90")
    (5400.0, 14400.0, 90.0)
    """
    m = _DURATION.match(text)
    if not m or not any(m.groups()) or not text.strip():
        raise UserError(f"duration '{text}' is not understood; write e.g. 4h, 90m, 1h30m or 3600s "
                        f"(business hours, so there is no 'd': a business day depends on the schedule).")
    h, mins, secs = (float(g) if g else 0.0 for g in m.groups())
    return h * 3600 + mins * 60 + secs


def humanise(seconds: float) -> str:
    """Hours, minutes and seconds: business time has no natural 'day'.

    >>> humanise(7200), humanise(5461.5), humanise(0)
    ('2h 00m 00s', '1h 31m 01.5s', '0h 00m 00s')
    """
    whole = int(seconds)
    frac = round(seconds - whole, 6)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    sec = f"{s:02d}" if not frac else f"{s + frac:09.6f}".rstrip("0")
    return f"{h}h {m:02d}m {sec}s"


def _number(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _hours_spec(items: tuple[str, ...]) -> dict[str, list[str]]:
    """`mon-fri=09:00-12:30,13:30-17:00` (repeatable; `sat=` for a closed day) -> the TOML table."""
    hours: dict[str, list[str]] = {}
    for item in items:
        days, sep, spans = item.partition("=")
        if not sep or not days.strip():
            raise SettingsError(f"--hours '{item}' is not DAYS=HH:MM-HH:MM[,HH:MM-HH:MM], e.g. mon-fri=09:00-17:00 "
                                "(sat= for a closed day; 24/7 for always).")
        hours[days.strip().lower()] = [s.strip() for s in spans.split(",") if s.strip()]
    return hours


def _apply_and_report(ctx: click.Context, ss: ScheduleSet) -> None:
    """Save the schedules, then (in an existing workspace) bring business time and SLA
    clocks up to date and say how many tickets changed."""
    ss.save(_path(ctx))
    click.echo(f"saved {_path(ctx)}")
    folder = _path(ctx).parent
    if not (folder / "cxmetrics.duckdb").exists():
        return
    import cxmetrics
    from cxmetrics.facts import last_business_refresh

    with cxmetrics.open(folder) as ws:
        ws.refresh()
        done = last_business_refresh(ws.con)
        if done is not None:
            click.echo(f"business time recomputed for {done.tickets:,} tickets; changed for {done.changed:,}")
        if (folder / "sla.toml").exists():
            from cxmetrics.sla import refresh_sla

            click.echo(f"SLA clocks recomputed for {refresh_sla(ws):,} tickets")


@schedule_group.command("set")
@click.argument("name")
@click.option("--timezone", "tz", help="IANA time zone, e.g. Europe/Berlin (default: the schedule's, else UTC).")
@click.option("--hours", "hours", multiple=True,
              help="DAYS=SPANS, repeatable: mon-fri=09:00-12:30,13:30-17:00  sat=10:00-14:00  sun=  (or 24/7).")
@click.option("--holiday", "holidays", multiple=True, help="A date or range: 2026-12-24 or 2026-12-27..2026-12-31.")
@click.option("--calendar", "calendars", multiple=True, help="A holidays calendar: DE, or DE-BE with a subdivision.")
@click.option("--default", "make_default", is_flag=True, help="Make it the default schedule.")
@click.pass_context
@_fail_cleanly
def set_cmd(ctx: click.Context, name: str, tz: str | None, hours: tuple[str, ...], holidays: tuple[str, ...],
            calendars: tuple[str, ...], make_default: bool) -> None:
    """Create or change schedule NAME in schedules.toml (what is not given is kept), then
    recompute business time and SLA clocks and say how many tickets changed."""
    import tomllib

    current = _load(ctx)
    data = tomllib.loads(current.to_toml()) if _path(ctx).exists() else {"schedules": {}}
    body = dict(data["schedules"].get(name, {}))
    if tz:
        body["timezone"] = tz
    body.setdefault("timezone", "UTC")
    if hours:
        spec = _hours_spec(hours)
        body["hours"] = "24/7" if list(spec) == ["24/7"] else spec
    if "hours" not in body:
        raise SettingsError(f"schedule '{name}' is new: give its hours, e.g. --hours mon-fri=09:00-17:00")
    if holidays:
        body["holidays"] = list(holidays)
    if calendars:
        body["holiday_calendars"] = [
            {"country": c.split("-", 1)[0], **({"subdiv": c.split("-", 1)[1]} if "-" in c else {})} for c in calendars]
    data["schedules"][name] = body
    if make_default or "default" not in data:
        data["default"] = name if make_default or len(data["schedules"]) == 1 else data.get("default", name)
    _apply_and_report(ctx, ScheduleSet.from_dict(data, origin=str(_path(ctx))))


@schedule_group.command("remove")
@click.argument("name")
@click.pass_context
@_fail_cleanly
def remove_cmd(ctx: click.Context, name: str) -> None:
    """Remove schedule NAME (not the default, nor one a rule names), then recompute."""
    import tomllib

    current = _load(ctx)
    current[name]  # an unknown name fails here, with suggestions
    data = tomllib.loads(current.to_toml())
    if data.get("default") == name:
        raise SettingsError(f"'{name}' is the default schedule: make another the default first "
                            "(cxmetrics schedule set OTHER --default).")
    if any(r.get("schedule") == name for r in data.get("schedule_rules", [])):
        raise SettingsError(f"a rule assigns '{name}': remove that rule from {_path(ctx)} first.")
    del data["schedules"][name]
    _apply_and_report(ctx, ScheduleSet.from_dict(data, origin=str(_path(ctx))))
