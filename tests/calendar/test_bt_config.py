"""schedules.toml: the format, its errors (each names the schedule, the field and the fix),
round trips, and the rules that assign schedules to tickets."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from cxmetrics.calendar import Interval, ScheduleSet, schedule_sql
from cxmetrics.errors import SettingsError, UnknownNameError

FULL = """
default = "support_de"

[schedules.support_de]
timezone = "Europe/Berlin"
hours = { mon-fri = ["09:00-12:30", "13:30-17:00"], fri = ["09:00-15:00"] }
holidays = ["2026-12-24", "2026-12-27..2026-12-31"]
holiday_calendars = [{ country = "DE", subdiv = "BE" }]

[schedules.us]
timezone = "America/New_York"
hours = { mon-fri = "08:00-18:00", sat = ["10:00-14:00"] }
holiday_calendars = [{ country = "US" }]

[schedules.night]
timezone = "UTC"
hours = { sun-thu = ["22:00-06:00"] }

[schedules.always]
timezone = "UTC"
hours = "24/7"

[[schedule_rules]]
schedule = "us"
when = { team = ["Tier 2 US"], channel = ["phone"] }

[[schedule_rules]]
schedule = "night"
when = { region = "APAC" }
"""


def test_the_full_example() -> None:
    ss = ScheduleSet.from_toml(FULL)
    assert ss.names == ["support_de", "us", "night", "always"]
    de = ss.default
    assert de.name == "support_de" and de.timezone == "Europe/Berlin"
    lunch = (Interval(start=540, end=750), Interval(start=810, end=1020))
    assert de.hours[:4] == (lunch,) * 4
    assert de.hours[4] == (Interval(start=540, end=900),)  # the single day overrides the range
    assert de.hours[5:] == ((), ())
    assert de.holidays == ((date(2026, 12, 24), date(2026, 12, 24)), (date(2026, 12, 27), date(2026, 12, 31)))
    assert de.describe_hours() == "mon-thu 09:00-12:30, 13:30-17:00; fri 09:00-15:00"
    # Berlin 2026: 10 public holidays (incl. Women's Day 8 March), 24 Dec and 27-31 Dec; the 25th and 26th
    # are public holidays already, 27 Dec-31 Dec adds 5 days -> 10 + 1 + 5 = 16
    assert len(de.holiday_dates(2026)) == 16
    night = ss["night"]
    assert night.hours[6] == (Interval(start=1320, end=1800),) and night.describe_hours() == "mon-thu 22:00-06:00; sun 22:00-06:00"
    assert ss["always"].is_always and ss["always"].describe_hours() == "24/7"
    assert [r.schedule for r in ss.rules] == ["us", "night"]


def test_save_and_load_give_the_same_set(tmp_path: Path) -> None:
    ss = ScheduleSet.from_toml(FULL + '\n[[schedule_rules]]\nschedule = "us"\nwhen = { team = ["O\'Brien \\"Q\\" team"] }\n')
    ss.save(tmp_path / "schedules.toml")
    again = ScheduleSet.load(tmp_path / "schedules.toml")
    assert again == ss and again.fingerprint() == ss.fingerprint()


def test_no_file_means_one_default_24_7_utc_schedule(tmp_path: Path) -> None:
    ss = ScheduleSet.load(tmp_path / "missing.toml")
    assert ss.names == ["default"] and ss.default.timezone == "UTC" and ss.default.is_always
    a, b = datetime(2026, 3, 6, 16, tzinfo=UTC), datetime(2026, 3, 9, 10, 30, tzinfo=UTC)
    assert ss.default.business_seconds(a, b) == (b - a).total_seconds()


def test_the_only_schedule_is_the_default() -> None:
    ss = ScheduleSet.from_toml('[schedules.support]\ntimezone = "UTC"\nhours = "24/7"')
    assert ss.default.name == "support"


def _error(text: str) -> str:
    with pytest.raises(SettingsError) as info:
        ScheduleSet.from_toml(text, origin="schedules.toml")
    return str(info.value)


def _one(hours: str, extra: str = "", zone: str = "Europe/Berlin") -> str:
    return _error(f'[schedules.support_de]\ntimezone = "{zone}"\nhours = {hours}\n{extra}')


@pytest.mark.parametrize(("hours", "message"), [
    ('{ mon = ["9:00-25:00"] }', "schedule 'support_de': hours.mon '9:00-25:00' is not HH:MM-HH:MM"),
    ('{ mon = ["09:60-17:00"] }', "hours.mon '09:60-17:00' is not HH:MM-HH:MM"),
    ('{ mon = ["nine to five"] }', "hours.mon 'nine to five' is not HH:MM-HH:MM"),
    ('{ mon = ["24:00-06:00"] }', "hours.mon '24:00-06:00' is not HH:MM-HH:MM"),
    ('{ mon = ["09:00-09:00"] }', "'09:00-09:00' is empty; for a whole day write '00:00-24:00'"),
    ('{ mond = ["09:00-17:00"] }', "hours key 'mond' is not a weekday; use mon, tue"),
    ('{ mon-fry = ["09:00-17:00"] }', "hours key 'mon-fry' is not a weekday"),
    ('{ mon = ["09:00-13:00", "12:00-17:00"] }', "hours mon '09:00-13:00' overlaps mon '12:00-17:00'"),
    ('{ mon = ["22:00-06:00"], tue = ["05:00-09:00"] }', "hours mon '22:00-06:00' overlaps tue '05:00-09:00'"),
    ('{ sun = ["22:00-06:00"], mon = ["05:00-09:00"] }', "hours sun '22:00-06:00' overlaps mon '05:00-09:00'"),
    ('{ mon-fri = ["09:00-17:00"], mon-wed = ["10:00-12:00"] }', "hours 'mon-fri' and 'mon-wed' both set mon"),
    ('{ mon = [] }', "hours has no business hours at all"),
    ('"9 to 5"', "hours '9 to 5' is not understood"),
    ('{ mon = 9 }', "hours.mon must be a list"),
])
def test_bad_hours(hours: str, message: str) -> None:
    text = _one(hours)
    assert message in text, text
    assert text.startswith("schedules.toml: schedule 'support_de': ")


def test_touching_intervals_and_a_week_wrap_are_fine() -> None:
    ss = ScheduleSet.from_toml('[schedules.x]\ntimezone = "UTC"\n'
                               'hours = { mon = ["06:00-12:00", "12:00-18:00"], sun = ["18:00-06:00"] }')
    assert ss.default.hours[0] == (Interval(start=360, end=720), Interval(start=720, end=1080))


def test_bad_zone_and_missing_fields() -> None:
    assert "timezone 'Europe/Berlinn' is not an IANA time zone" in _one('"24/7"', zone="Europe/Berlinn")
    assert "timezone is missing" in _error('[schedules.x]\nhours = "24/7"')
    assert "hours is missing; set e.g. hours = { mon-fri" in _error('[schedules.x]\ntimezone = "UTC"')
    assert "unknown field 'timezon'; did you mean 'timezone'?" in _error(
        '[schedules.x]\ntimezon = "UTC"\ntimezone = "UTC"\nhours = "24/7"')
    assert "not valid TOML" in _error("[schedules.x\n")
    assert "no schedules" in _error('default = "x"')
    assert "a schedule name may only hold letters" in _error('[schedules."a b"]\ntimezone = "UTC"\nhours = "24/7"')


@pytest.mark.parametrize(("extra", "message"), [
    ('holidays = ["2026-13-01"]', "holiday '2026-13-01' is not a date YYYY-MM-DD or a range"),
    ('holidays = ["2026-12-31..2026-12-24"]', "holiday range '2026-12-31..2026-12-24' ends before it starts"),
    ('holidays = "2026-12-24"', "holidays must be a list"),
    ('holiday_calendars = [{ country = "XX" }]', "country 'XX' is not known to the holidays package"),
    ('holiday_calendars = [{ country = "DE", subdiv = "ZZ" }]', "'ZZ' is not a subdivision of DE; known: BB, BE"),
    ('holiday_calendars = [{ land = "DE" }]', "must look like { country = \"DE\", subdiv = \"BE\" }"),
])
def test_bad_holidays(extra: str, message: str) -> None:
    text = _one('"24/7"', extra)
    assert message in text, text


def test_holiday_calendar_shorthands() -> None:
    ss = ScheduleSet.from_toml('[schedules.x]\ntimezone = "UTC"\nhours = "24/7"\nholiday_calendars = ["de"]')
    assert str(ss.default.holiday_calendars[0]) == "DE"
    ss = ScheduleSet.from_toml('[schedules.x]\ntimezone = "UTC"\nhours = "24/7"\n'
                               'holiday_calendars = { country = "DE", subdiv = "by" }')
    assert str(ss.default.holiday_calendars[0]) == "DE-BY"


BASE = '[schedules.default]\ntimezone = "UTC"\nhours = "24/7"\n[schedules.us]\ntimezone = "UTC"\nhours = "24/7"\n'


@pytest.mark.parametrize(("rules", "message"), [
    ('[[schedule_rules]]\nschedule = "usa"\nwhen = { team = "A" }', "schedule_rules #1: schedule 'usa' is not defined; did you mean 'us'?"),
    ('[[schedule_rules]]\nschedule = "us"\nwhen = { teams = "A" }', "'teams' is not a ticket dimension a rule may test; did you mean 'team'?"),
    ('[[schedule_rules]]\nschedule = "us"\nwhen = {}', "when must name at least one dimension"),
    ('[[schedule_rules]]\nschedule = "us"\nwhen = { team = [] }', "when.team must be a value or a non-empty list"),
    ('[[schedule_rules]]\nwhen = { team = "A" }', "schedule is missing"),
    ('[[schedule_rules]]\nschedule = "us"\nwhen = { team = "A" }\nif = 1', "unknown field 'if'"),
    ('default = "nope"', "default schedule 'nope' is not defined"),
    ('colour = "red"', "unknown key 'colour'"),
])
def test_bad_rules(rules: str, message: str) -> None:
    head, body = (rules, "") if rules.startswith(("default", "colour")) else ("", rules)
    text = _error(head + "\n" + BASE + body)
    assert message in text, text


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as info:
        ScheduleSet.from_toml('[schedules.a]\ntimezone = "Mars/Olympus"\nhours = { mon = ["9-5"] }\n'
                              '[[schedule_rules]]\nschedule = "b"\nwhen = { team = "x" }')
    assert len(info.value.errors) == 3  # type: ignore[attr-defined]
    assert "Mars/Olympus" in str(info.value) and "'9-5'" in str(info.value) and "'b' is not defined" in str(info.value)


def test_rules_first_match_wins_case_blind() -> None:
    ss = ScheduleSet.from_toml(FULL)
    assert ss.schedule_for(team="tier 2 us", channel="PHONE").name == "us"
    assert ss.schedule_for(team="Tier 2 US", channel="email").name == "support_de"  # both dimensions must match
    assert ss.schedule_for(team="Tier 2 US", channel="phone", region="APAC").name == "us"  # first rule first
    assert ss.schedule_for(region="apac").name == "night"
    assert ss.schedule_for(team=None, region=None).name == "support_de"
    with pytest.raises(UnknownNameError, match="Did you mean 'team'"):
        ss.schedule_for(teem="x")
    with pytest.raises(UnknownNameError, match="Unknown schedule 'nope'"):
        ss["nope"]


def test_schedule_sql_agrees_with_schedule_for() -> None:
    ss = ScheduleSet.from_toml(FULL + '\n[[schedule_rules]]\nschedule = "always"\nwhen = { team = ["O\'Brien\'s"] }\n')
    rows = [("Tier 2 US", "phone", None), ("tier 2 us", "Phone", "APAC"), ("Tier 2 US", "email", "APAC"),
            (None, None, None), ("O'Brien's", "chat", None), ("x", "y", "emea")]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (team VARCHAR, channel VARCHAR, region VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    got = [r[0] for r in con.execute(f"SELECT {schedule_sql(ss, 't')} FROM t").fetchall()]
    want = [ss.schedule_for(team=a, channel=b, region=c).name for a, b, c in rows]
    assert got == want == ["us", "us", "night", "support_de", "always", "support_de"]


def test_schedule_sql_without_rules_is_the_default_name() -> None:
    assert schedule_sql(ScheduleSet.all_hours()) == "'default'"


def test_the_fingerprint_follows_the_definition() -> None:
    a = ScheduleSet.from_toml(FULL)
    b = ScheduleSet.from_toml(FULL.replace('"13:30-17:00"', '"13:30-17:30"'))
    assert a.fingerprint() == ScheduleSet.from_toml(FULL).fingerprint() != b.fingerprint()
