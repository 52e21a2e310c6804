"""`schedules.toml`: parsing into frozen models with errors that say what to fix, and back.

Every problem of a file is collected before raising, so one run shows them all:

>>> parse_text('''
... [schedules.default]
... timezone = "Europe/Berlin"
... hours = { mon = ["9:00-25:00"] }
... ''', "schedules.toml")
Traceback (most recent call last):
...
cxmetrics.errors.SettingsError: schedules.toml: schedule 'default': hours.mon '9:00-25:00' is not HH:MM-HH:MM with hours 00-24 and minutes 00-59 (e.g. '09:00-17:00'; '22:00-06:00' runs past midnight)

>>> s = parse_text('''
... [schedules.default]
... timezone = "UTC"
... hours = { mon-fri = ["09:00-12:30", "13:30-17:00"], fri = "09:00-15:00" }
... ''', "x").default
>>> s.describe_hours()
'mon-thu 09:00-12:30, 13:30-17:00; fri 09:00-15:00'
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cxmetrics.calendar._schedule import (
    DEFAULT_NAME,
    DIMENSIONS,
    WEEKDAYS,
    HolidayCalendar,
    Interval,
    Rule,
    Schedule,
    ScheduleSet,
)
from cxmetrics.errors import SettingsError

_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_ALWAYS = "24/7"
_SCHEDULE_KEYS = ("timezone", "hours", "holidays", "holiday_calendars")
_TOP_KEYS = ("default", "schedules", "schedule_rules")
_HOURS_EXAMPLE = 'hours = { mon-fri = ["09:00-17:00"] } or hours = "24/7"'


class _Issues(list[str]):
    def raise_if_any(self, origin: str) -> None:
        if self:
            err = SettingsError(f"{origin}: " + f"\n{origin}: ".join(self))
            err.errors = list(self)  # type: ignore[attr-defined]
            raise err


def _suggest(name: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(choices)}"


# -- parsing ----------------------------------------------------------------------------


def load_file(path: Path) -> ScheduleSet:
    if not path.exists():
        return ScheduleSet.all_hours()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: cannot be read ({exc}).") from None
    return parse_text(text, str(path))


def parse_text(text: str, origin: str) -> ScheduleSet:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{origin}: not valid TOML: {exc}") from None
    return parse_set(data, origin)


def parse_set(data: dict[str, Any], origin: str) -> ScheduleSet:
    issues = _Issues()
    for key in data:
        if key not in _TOP_KEYS:
            issues.append(f"unknown key '{key}'{_suggest(key, _TOP_KEYS)}")
    raw = data.get("schedules")
    schedules: list[Schedule] = []
    if not isinstance(raw, dict) or not raw:
        issues.append("no schedules: add at least one, e.g. [schedules.default] with timezone and hours")
        raw = {}
    for name, body in raw.items():
        if not isinstance(body, dict):
            issues.append(f"schedules.{name} must be a table ([schedules.{name}]) with timezone and hours")
            continue
        schedule = _schedule(name, body, issues)
        if schedule is not None:
            schedules.append(schedule)
    names = list(raw)
    default = data.get("default")
    if default is None:
        if DEFAULT_NAME in raw or len(raw) != 1:
            default = DEFAULT_NAME
        else:
            default = names[0]
    if not isinstance(default, str):
        issues.append(f"default must be the name of a schedule, not {default!r}")
    elif names and default not in raw:
        issues.append(f"default schedule '{default}' is not defined: add [schedules.{default}] "
                      f"or set default = one of {', '.join(names)}")
    rules = _rules(data.get("schedule_rules", []), names, issues)
    issues.raise_if_any(origin)
    return ScheduleSet(schedules=tuple(schedules), default_name=default, rules=tuple(rules))


def parse_schedule(name: str, data: dict[str, Any], origin: str = "schedule") -> Schedule:
    issues = _Issues()
    schedule = _schedule(name, data, issues)
    issues.raise_if_any(origin)
    assert schedule is not None
    return schedule


def _schedule(name: str, body: dict[str, Any], issues: _Issues) -> Schedule | None:
    where = f"schedule '{name}'"
    before = len(issues)
    if not _NAME.match(name):
        issues.append(f"{where}: a schedule name may only hold letters, digits, '_' and '-'")
    for key in body:
        if key not in _SCHEDULE_KEYS:
            issues.append(f"{where}: unknown field '{key}'{_suggest(key, _SCHEDULE_KEYS)}")
    zone = body.get("timezone")
    if zone is None:
        issues.append(f"{where}: timezone is missing; set an IANA name such as timezone = \"Europe/Berlin\"")
    elif not _is_zone(zone):
        issues.append(f"{where}: timezone {zone!r} is not an IANA time zone; use a name such as 'Europe/Berlin', "
                      f"'America/New_York' or 'UTC'")
    hours = _hours(where, body.get("hours"), issues)
    holidays = _holidays(where, body.get("holidays", []), issues)
    calendars = _calendars(where, body.get("holiday_calendars", []), issues)
    if len(issues) > before or hours is None:
        return None
    return Schedule(name=name, timezone=zone, hours=hours, holidays=holidays, holiday_calendars=calendars)


def _is_zone(zone: object) -> bool:
    if not isinstance(zone, str) or not zone or zone != zone.strip():
        return False
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _days_of(key: str) -> list[int] | None:
    """Weekday numbers named by an hours key: 'mon', 'mon-fri', 'fri-mon', 'daily'."""
    key = key.strip().lower()
    if key in ("daily", "mon-sun"):
        return list(range(7))
    first, sep, last = key.partition("-")
    if first not in WEEKDAYS or (sep and last not in WEEKDAYS):
        return None
    a, b = WEEKDAYS.index(first), WEEKDAYS.index(last) if sep else WEEKDAYS.index(first)
    return [(a + i) % 7 for i in range((b - a) % 7 + 1)]


def _hours(where: str, raw: object, issues: _Issues) -> tuple[tuple[Interval, ...], ...] | None:
    if raw is None:
        issues.append(f"{where}: hours is missing; set e.g. {_HOURS_EXAMPLE}")
        return None
    if isinstance(raw, str):
        if raw.strip() == _ALWAYS:
            return ((Interval(start=0, end=1440),),) * 7
        issues.append(f"{where}: hours {raw!r} is not understood; set e.g. {_HOURS_EXAMPLE}")
        return None
    if not isinstance(raw, dict):
        issues.append(f"{where}: hours must be a table of weekdays, e.g. {_HOURS_EXAMPLE}")
        return None
    days: list[list[Interval] | None] = [None] * 7
    owner: list[tuple[str, bool] | None] = [None] * 7  # (key, key names one day)
    ok = True
    for key, value in raw.items():
        numbers = _days_of(key)
        if numbers is None:
            issues.append(f"{where}: hours key '{key}' is not a weekday; use mon, tue, wed, thu, fri, sat, sun, "
                          f"a range such as mon-fri, or daily")
            ok = False
            continue
        intervals = _intervals(where, key, value, issues)
        if intervals is None:
            ok = False
            continue
        single = len(numbers) == 1 and "-" not in key and key.strip().lower() != "daily"
        for d in numbers:
            prior = owner[d]
            if prior is not None and prior[1] == single:
                issues.append(f"{where}: hours '{prior[0]}' and '{key}' both set {WEEKDAYS[d]}; "
                              f"give each day once (a single day such as '{WEEKDAYS[d]}' may override a range)")
                ok = False
            elif prior is None or single:  # a single day overrides a range, whatever the order
                days[d], owner[d] = intervals, (key, single)
    if not ok:
        return None
    week = tuple(tuple(sorted(d or [], key=lambda i: i.start)) for d in days)
    if not any(week):
        issues.append(f"{where}: hours has no business hours at all; set e.g. {_HOURS_EXAMPLE}")
        return None
    # overlaps, within a day and across midnight (minutes of the week, wrapping Sunday into Monday)
    spans = sorted(((d * 1440 + i.start, d * 1440 + i.end, d, i) for d, day in enumerate(week) for i in day),
                   key=lambda x: x[0])
    week_min = 7 * 1440
    for k, (s, e, d, i) in enumerate(spans):
        nxt_s, _, nd, ni = spans[(k + 1) % len(spans)]
        if k + 1 == len(spans):
            nxt_s += week_min
        if len(spans) > 1 and e > nxt_s:
            issues.append(f"{where}: hours {WEEKDAYS[d]} '{i}' overlaps {WEEKDAYS[nd]} '{ni}'; "
                          f"make the intervals disjoint")
            return None
    return week


def _intervals(where: str, key: str, value: object, issues: _Issues) -> list[Interval] | None:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        issues.append(f"{where}: hours.{key} must be a list such as [\"09:00-17:00\"] ([] for a closed day)")
        return None
    out = []
    for text in value:
        m = _TIME.match(text) if isinstance(text, str) else None
        ok = bool(m)
        if m:
            h1, m1, h2, m2 = (int(g) for g in m.groups())
            ok = h1 < 24 and m1 < 60 and m2 < 60 and (h2 < 24 or (h2 == 24 and m2 == 0))
        if not ok:
            issues.append(f"{where}: hours.{key} {text!r} is not HH:MM-HH:MM with hours 00-24 and minutes 00-59 "
                          f"(e.g. '09:00-17:00'; '22:00-06:00' runs past midnight)")
            return None
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end == start:
            issues.append(f"{where}: hours.{key} '{text}' is empty; for a whole day write '00:00-24:00'")
            return None
        if end < start:
            end += 1440  # runs into the next day
        out.append(Interval(start=start, end=end))
    return out


def _holidays(where: str, raw: object, issues: _Issues) -> tuple[tuple[date, date], ...]:
    if not isinstance(raw, list):
        issues.append(f"{where}: holidays must be a list such as [\"2026-12-24\", \"2026-12-27..2026-12-31\"]")
        return ()
    out = []
    for item in raw:
        text = item.isoformat() if isinstance(item, date) else item
        first, sep, last = text.partition("..") if isinstance(text, str) else ("", "", "")
        try:
            a = date.fromisoformat(first.strip())
            b = date.fromisoformat(last.strip()) if sep else a
        except ValueError:
            issues.append(f"{where}: holiday {item!r} is not a date YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD")
            continue
        if b < a:
            issues.append(f"{where}: holiday range '{text}' ends before it starts; write it first..last")
            continue
        if b - a > timedelta(days=3660):
            issues.append(f"{where}: holiday range '{text}' is longer than ten years")
            continue
        out.append((a, b))
    return tuple(sorted(set(out)))


def _calendars(where: str, raw: object, issues: _Issues) -> tuple[HolidayCalendar, ...]:
    if not raw:
        return ()
    import holidays

    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        issues.append(f"{where}: holiday_calendars must be a list such as [{{ country = \"DE\", subdiv = \"BE\" }}]")
        return ()
    supported = holidays.list_supported_countries()
    out = []
    for item in raw:
        if isinstance(item, str):
            item = {"country": item}
        if not isinstance(item, dict) or set(item) - {"country", "subdiv"} or "country" not in item:
            issues.append(f"{where}: holiday calendar {item!r} must look like {{ country = \"DE\", subdiv = \"BE\" }}")
            continue
        country, subdiv = str(item["country"]).upper(), item.get("subdiv")
        if country not in supported:
            issues.append(f"{where}: holiday calendar country '{item['country']}' is not known to the holidays "
                          f"package (ISO 3166 codes such as DE, US, GB){_suggest(country, sorted(supported))}")
            continue
        if subdiv is not None:
            subdivs = [str(x) for x in supported[country]]
            match = [x for x in subdivs if x.upper() == str(subdiv).upper()]
            if not match:
                listing = ", ".join(subdivs) if subdivs else "none"
                issues.append(f"{where}: '{subdiv}' is not a subdivision of {country}; known: {listing}")
                continue
            subdiv = match[0]
        out.append(HolidayCalendar(country=country, subdiv=subdiv))
    return tuple(out)


def _rules(raw: object, names: list[str], issues: _Issues) -> list[Rule]:
    if not isinstance(raw, list):
        issues.append("schedule_rules must be an array of tables: [[schedule_rules]] with schedule and when")
        return []
    out = []
    for n, item in enumerate(raw, start=1):
        where = f"schedule_rules #{n}"
        if not isinstance(item, dict):
            issues.append(f"{where} must be a table with schedule and when")
            continue
        for key in item:
            if key not in ("schedule", "when"):
                issues.append(f"{where}: unknown field '{key}'{_suggest(key, ('schedule', 'when'))}")
        target = item.get("schedule")
        if not isinstance(target, str):
            issues.append(f"{where}: schedule is missing; name the schedule the matching tickets get")
        elif target not in names:
            issues.append(f"{where}: schedule '{target}' is not defined{_suggest(target, names)}")
        when = item.get("when")
        if not isinstance(when, dict) or not when:
            issues.append(f"{where}: when must name at least one dimension, e.g. when = {{ team = [\"Tier 2\"] }}")
            continue
        conditions = []
        for dim, values in when.items():
            if dim not in DIMENSIONS:
                issues.append(f"{where}: '{dim}' is not a ticket dimension a rule may test{_suggest(dim, DIMENSIONS)}")
                continue
            values = [values] if isinstance(values, str) else values
            if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
                issues.append(f"{where}: when.{dim} must be a value or a non-empty list of values")
                continue
            conditions.append((dim, tuple(values)))
        if isinstance(target, str) and len(conditions) == len(when):
            out.append(Rule(schedule=target, when=tuple(conditions)))
    return out


# -- formatting --------------------------------------------------------------------------


def hours_groups(week: tuple[tuple[Interval, ...], ...]) -> list[tuple[str, list[str]]]:
    """Runs of consecutive weekdays with the same intervals: [('mon-fri', ['09:00-17:00']), ...]."""
    groups: list[tuple[int, int, tuple[Interval, ...]]] = []
    for d, day in enumerate(week):
        if groups and groups[-1][2] == day:
            groups[-1] = (groups[-1][0], d, day)
        else:
            groups.append((d, d, day))
    out = []
    for a, b, day in groups:
        key = WEEKDAYS[a] if a == b else f"{WEEKDAYS[a]}-{WEEKDAYS[b]}"
        out.append((key, [str(i) for i in day]))
    return out


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def format_set(ss: ScheduleSet) -> str:
    lines = ["# Business-hours schedules of this workspace (see docs/business-time.md).",
             f"default = {_q(ss.default_name)}"]
    for s in ss.schedules:
        lines += ["", f"[schedules.{s.name}]", f"timezone = {_q(s.timezone)}"]
        if all(day == (Interval(start=0, end=1440),) for day in s.hours):
            lines.append(f"hours = {_q(_ALWAYS)}")
        else:
            items = ", ".join(f"{key} = [{', '.join(_q(v) for v in values)}]" for key, values in hours_groups(s.hours))
            lines.append(f"hours = {{ {items} }}")
        if s.holidays:
            texts = [a.isoformat() if a == b else f"{a.isoformat()}..{b.isoformat()}" for a, b in s.holidays]
            lines.append(f"holidays = [{', '.join(_q(t) for t in texts)}]")
        if s.holiday_calendars:
            cals = [f"{{ country = {_q(c.country)}" + (f", subdiv = {_q(c.subdiv)}" if c.subdiv else "") + " }"
                    for c in s.holiday_calendars]
            lines.append(f"holiday_calendars = [{', '.join(cals)}]")
    for r in ss.rules:
        when = ", ".join(f"{dim} = [{', '.join(_q(v) for v in values)}]" for dim, values in r.when)
        lines += ["", "[[schedule_rules]]", f"schedule = {_q(r.schedule)}", f"when = {{ {when} }}"]
    return "\n".join(lines) + "\n"
