"""Business time worked out by hand (issue 4's acceptance cases and more), each through the
Python scalar path and the SQL engine, which must agree with the hand arithmetic."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import duckdb
import pytest
from _bt_helpers import UTC, sql_business_seconds, sql_due_times

from cxmetrics.calendar import ScheduleSet

H = 3600
BERLIN, NEW_YORK, KOLKATA = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")

SCHEDULES = ScheduleSet.from_dict({"default": "office", "schedules": {
    "office": {"timezone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}},
    "office_mon_off": {"timezone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}, "holidays": ["2026-03-09"]},
    "office_berlin": {"timezone": "Europe/Berlin", "hours": {"mon-fri": ["09:00-17:00"]}},
    "office_kolkata": {"timezone": "Asia/Kolkata", "hours": {"mon-fri": ["09:00-17:00"]}},
    "lunch": {"timezone": "UTC", "hours": {"mon-fri": ["09:00-12:30", "13:30-17:00"]}},
    "night": {"timezone": "UTC", "hours": {"mon-fri": ["22:00-06:00"]}},
    "night_mon_off": {"timezone": "UTC", "hours": {"mon-fri": ["22:00-06:00"]}, "holidays": ["2026-03-02"]},
    "berlin_day": {"timezone": "Europe/Berlin", "hours": {"daily": ["00:00-24:00"]}},
    "berlin_early": {"timezone": "Europe/Berlin", "hours": {"daily": ["01:00-04:00"]}},
    "berlin_247": {"timezone": "Europe/Berlin", "hours": "24/7"},
    "ny_day": {"timezone": "America/New_York", "hours": {"daily": ["00:00-24:00"]}},
    "ny_early": {"timezone": "America/New_York", "hours": {"daily": ["01:00-04:00"]}},
    "ny_late_overnight": {"timezone": "America/New_York", "hours": {"daily": ["23:30-01:30"]}},
}})


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


# (schedule, start, end, expected business seconds) -- 2026-03-06 is a Friday
DURATIONS = {
    # Fri 16:00-17:00 (1 h) + Mon 09:00-10:00 (1 h) = 2 h
    "fri 16:00 to mon 10:00": ("office", utc(2026, 3, 6, 16), utc(2026, 3, 9, 10), 2 * H),
    # Monday 9 March is a holiday: Fri 16-17 (1 h) + Tue 09-10 (1 h) = 2 h
    "holiday in the middle": ("office_mon_off", utc(2026, 3, 6, 16), utc(2026, 3, 10, 10), 2 * H),
    # without the holiday the same span is Fri 1 h + Mon 8 h + Tue 1 h = 10 h
    "same span, no holiday": ("office", utc(2026, 3, 6, 16), utc(2026, 3, 10, 10), 10 * H),
    # lunch 12:30-13:30 is off: 12:00-12:30 (0.5 h) + 13:30-14:00 (0.5 h) = 1 h
    "lunch break": ("lunch", utc(2026, 3, 9, 12), utc(2026, 3, 9, 14), 1 * H),
    # Mon-Fri shifts 22:00-06:00: Mon 20:00 -> Tue 08:00 holds Mon 22:00-Tue 06:00 = 8 h
    "overnight shift": ("night", utc(2026, 3, 2, 20), utc(2026, 3, 3, 8), 8 * H),
    # Friday's shift runs to Saturday 06:00: Sat 00:00 -> 12:00 holds 6 h
    "overnight into saturday": ("night", utc(2026, 3, 7, 0), utc(2026, 3, 7, 12), 6 * H),
    # no Sunday shift: Sun 20:00 -> Mon 08:00 holds nothing (Monday's shift starts 22:00)
    "no sunday shift": ("night", utc(2026, 3, 8, 20), utc(2026, 3, 9, 8), 0),
    # Monday 2 March is a holiday: its 22:00-06:00 shift is off, Tuesday's (22:00-) is not
    # Mon 20:00 -> Wed 08:00 = Tue 22:00-Wed 06:00 = 8 h
    "overnight shift on a holiday": ("night_mon_off", utc(2026, 3, 2, 20), utc(2026, 3, 4, 8), 8 * H),
    # start inside, end outside: Mon 10:00 -> Mon 20:00 = 10-17 = 7 h
    "start inside end outside": ("office", utc(2026, 3, 9, 10), utc(2026, 3, 9, 20), 7 * H),
    # start outside, end inside: Mon 07:00 -> Mon 11:00 = 9-11 = 2 h
    "start outside end inside": ("office", utc(2026, 3, 9, 7), utc(2026, 3, 9, 11), 2 * H),
    # both outside, same night: Mon 18:00 -> Tue 08:00 = 0
    "both outside one night": ("office", utc(2026, 3, 9, 18), utc(2026, 3, 10, 8), 0),
    # both outside, a whole day between: Mon 18:00 -> Wed 08:00 = Tue 8 h
    "both outside a day between": ("office", utc(2026, 3, 9, 18), utc(2026, 3, 11, 8), 8 * H),
    "start == end": ("office", utc(2026, 3, 9, 10), utc(2026, 3, 9, 10), 0),
    "end < start": ("office", utc(2026, 3, 9, 12), utc(2026, 3, 9, 10), 0),
    # Fri 16:59:59.5 -> Mon 09:00:00.25: 0.5 s on Friday + 0.25 s on Monday
    "fractions of a second": ("office", utc(2026, 3, 6, 16, 59, 59, 500000), utc(2026, 3, 9, 9, 0, 0, 250000), 0.75),
    # Kolkata is UTC+05:30: 09:00 IST is 03:30 UTC, so 03:00-04:00 UTC on a Monday holds 30 min
    "half-hour zone": ("office_kolkata", utc(2026, 3, 9, 3), utc(2026, 3, 9, 4), 30 * 60),
    # --- DST in Europe/Berlin: 29 March 2026 02:00 CET -> 03:00 CEST; 25 October 03:00 CEST -> 02:00 CET
    # the whole local Sunday is business time and lasts 23 h (spring) / 25 h (autumn)
    "berlin spring day is 23 h": ("berlin_day", berlin(2026, 3, 29), berlin(2026, 3, 30), 23 * H),
    "berlin autumn day is 25 h": ("berlin_day", berlin(2026, 10, 25), berlin(2026, 10, 26), 25 * H),
    # 01:00-04:00 contains the changed hour: 01-02 + 03-04 = 2 h in spring; 01-02, 02-03 twice, 03-04 = 4 h in autumn
    "berlin 01-04 in spring": ("berlin_early", berlin(2026, 3, 29), berlin(2026, 3, 30), 2 * H),
    "berlin 01-04 in autumn": ("berlin_early", berlin(2026, 10, 25), berlin(2026, 10, 26), 4 * H),
    "berlin 01-04 the day before": ("berlin_early", berlin(2026, 3, 28), berlin(2026, 3, 29), 3 * H),
    # office hours over the spring weekend: Fri 16-17 + Mon 9-10 = 2 h (the weekend lost an hour, not business)
    "berlin office over the spring weekend": (
        "office_berlin", berlin(2026, 3, 27, 16), berlin(2026, 3, 30, 10), 2 * H),
    # 24/7 equals calendar time: Sat 28 March 12:00 CET -> Mon 30 March 12:00 CEST = 48 h - 1 h = 47 h
    "24/7 is calendar time over DST": ("berlin_247", berlin(2026, 3, 28, 12), berlin(2026, 3, 30, 12), 47 * H),
    # --- DST in America/New_York: 8 March 2026 02:00 EST -> 03:00 EDT; 1 November 02:00 EDT -> 01:00 EST
    "new york spring day is 23 h": ("ny_day", ny(2026, 3, 8), ny(2026, 3, 9), 23 * H),
    "new york autumn day is 25 h": ("ny_day", ny(2026, 11, 1), ny(2026, 11, 2), 25 * H),
    # 01:00-04:00: spring 01-02 + 03-04 = 2 h; autumn 01-02 twice + 02-04 = 4 h
    "new york 01-04 in spring": ("ny_early", ny(2026, 3, 8), ny(2026, 3, 9), 2 * H),
    "new york 01-04 in autumn": ("ny_early", ny(2026, 11, 1), ny(2026, 11, 2), 4 * H),
    # daily 23:30-01:30 across the autumn change: Sat 31 Oct 23:30 EDT -> Sun 01:30 (both passes of 01:00-01:30)
    # = 30 min + 60 min + 30 min (01:00-01:30 EDT) + 30 min (01:00-01:30 EST) = 2.5 h; Sunday's own 23:30-24:00 excluded
    "new york overnight over autumn change": ("ny_late_overnight", ny(2026, 10, 31, 20), ny(2026, 11, 1, 20), 2.5 * H),
    # ending in the repeated hour: 00:00 EDT Sun 1 Nov (04:00 UTC) -> 01:15 EST (06:15 UTC), inside Saturday's
    # 23:30-01:30 shift: 00:00-01:30 EDT (1.5 h), 01:30-02:00 EDT off, then 01:00-01:15 EST (0.25 h) = 1.75 h
    "new york ends in the repeated hour": (
        "ny_late_overnight", utc(2026, 11, 1, 4), utc(2026, 11, 1, 6, 15), 1.75 * H),
}

# (schedule, start, business seconds, expected due time)
DUES = {
    # 4 h from Fri 16:00: 1 h on Friday (to 17:00), 3 h on Monday from 09:00 -> Mon 12:00
    "4 h from friday 16:00": ("office", utc(2026, 3, 6, 16), 4 * H, utc(2026, 3, 9, 12)),
    # with Monday a holiday: 1 h Friday + 3 h Tuesday -> Tue 12:00
    "4 h over a holiday": ("office_mon_off", utc(2026, 3, 6, 16), 4 * H, utc(2026, 3, 10, 12)),
    # 8 h from Mon 09:00 is reached exactly at 17:00 Monday (the earliest instant), not Tue 09:00
    "due at the end of the day": ("office", utc(2026, 3, 9, 9), 8 * H, utc(2026, 3, 9, 17)),
    # 1 h from Saturday noon: nothing on the weekend, Mon 09:00-10:00 -> Mon 10:00
    "from outside hours": ("office", utc(2026, 3, 7, 12), 1 * H, utc(2026, 3, 9, 10)),
    "zero seconds is the start": ("office", utc(2026, 3, 7, 12), 0, utc(2026, 3, 7, 12)),
    # lunch: 1 h from 12:00 = 12:00-12:30 + 13:30-14:00 -> 14:00
    "over lunch": ("lunch", utc(2026, 3, 9, 12), 1 * H, utc(2026, 3, 9, 14)),
    # night shift: 7 h from Mon 23:00 = Mon 23:00-Tue 06:00 -> Tue 06:00
    "night shift": ("night", utc(2026, 3, 2, 23), 7 * H, utc(2026, 3, 3, 6)),
    # Berlin office: 4 h from Fri 27 March 15:00 CET = 2 h Friday + 2 h Monday (CEST) -> Mon 11:00 CEST = 09:00 UTC
    "over the spring DST weekend": ("office_berlin", berlin(2026, 3, 27, 15), 4 * H, utc(2026, 3, 30, 9)),
    # 24 h of a 00:00-24:00 Berlin schedule from Sun 25 Oct 00:00 CEST (22:00 UTC on the 24th): 24 real hours
    # later is 22:00 UTC on the 25th, which is 23:00 CET the same Sunday (the day has 25 h)
    "autumn day has 25 h": ("berlin_day", berlin(2026, 10, 25), 24 * H, utc(2026, 10, 25, 22)),
    "fraction of a second": ("office", utc(2026, 3, 6, 16, 59, 59), 1.5, utc(2026, 3, 9, 9, 0, 0, 500000)),
}


@pytest.mark.parametrize("case", DURATIONS, ids=list(DURATIONS))
def test_business_seconds_scalar(case: str) -> None:
    name, start, end, expected = DURATIONS[case]
    assert SCHEDULES[name].business_seconds(start, end) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("inline", [False, True], ids=["names looked up", "names numbered in the SQL"])
def test_business_seconds_sql_agrees(inline: bool) -> None:
    con = duckdb.connect()
    rows = [(name, start, end) for name, start, end, _ in DURATIONS.values()]
    got = sql_business_seconds(con, SCHEDULES, rows, inline=inline)
    for case, value in zip(DURATIONS, got, strict=True):
        assert value == pytest.approx(DURATIONS[case][3], abs=1e-6), case


@pytest.mark.parametrize("case", DUES, ids=list(DUES))
def test_due_scalar(case: str) -> None:
    name, start, seconds, expected = DUES[case]
    assert SCHEDULES[name].add_business_seconds(start, seconds) == expected


@pytest.mark.parametrize("inline", [False, True], ids=["names looked up", "names numbered in the SQL"])
def test_due_sql_agrees(inline: bool) -> None:
    con = duckdb.connect()
    got = sql_due_times(con, SCHEDULES, [(name, start, seconds) for name, start, seconds, _ in DUES.values()],
                        inline=inline)
    for case, value in zip(DUES, got, strict=True):
        assert value == DUES[case][3], case


def test_due_is_returned_in_the_start_zone() -> None:
    due = SCHEDULES["office_berlin"].add_business_seconds(berlin(2026, 3, 27, 15), 4 * H)
    assert due.tzinfo is BERLIN and (due.hour, due.day) == (11, 30)  # Mon 30 March 11:00 CEST


def test_naive_datetimes_are_utc() -> None:
    office = SCHEDULES["office"]
    assert office.business_seconds(datetime(2026, 3, 6, 16), datetime(2026, 3, 9, 10)) == 2 * H
    assert office.add_business_seconds(datetime(2026, 3, 6, 16), 4 * H) == utc(2026, 3, 9, 12)


def test_negative_seconds_are_refused() -> None:
    from cxmetrics.errors import UserError

    with pytest.raises(UserError, match="seconds must be"):
        SCHEDULES["office"].add_business_seconds(utc(2026, 3, 6, 16), -1)
