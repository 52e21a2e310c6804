"""Quiet hours, hand-worked: spans through midnight, days, chains, time zones and DST."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmetrics.alerts import QuietHours
from cxmetrics.alerts._quiet import quiet_until

BERLIN = ZoneInfo("Europe/Berlin")


def spans(*items):
    return QuietHours.model_validate({"spans": list(items)}).spans


def at(*args, tz=UTC):
    return datetime(*args, tzinfo=tz)


def test_a_span_through_midnight():
    s = spans("22:00-07:00")
    assert quiet_until(s, "UTC", at(2025, 3, 4, 23, 30)) == at(2025, 3, 5, 7, 0)
    assert quiet_until(s, "UTC", at(2025, 3, 5, 3, 0)) == at(2025, 3, 5, 7, 0)
    assert quiet_until(s, "UTC", at(2025, 3, 5, 7, 0)) is None  # the end is not quiet
    assert quiet_until(s, "UTC", at(2025, 3, 5, 22, 0)) == at(2025, 3, 6, 7, 0)  # the start is
    assert quiet_until(s, "UTC", at(2025, 3, 5, 12, 0)) is None


def test_days_name_the_day_a_span_starts():
    s = spans({"hours": "22:00-07:00", "days": ["fri"]})
    assert quiet_until(s, "UTC", at(2025, 3, 8, 6, 0)) == at(2025, 3, 8, 7, 0)  # Saturday morning: Friday's span
    assert quiet_until(s, "UTC", at(2025, 3, 7, 6, 0)) is None  # Friday morning: Thursday has none
    assert quiet_until(s, "UTC", at(2025, 3, 8, 23, 0)) is None  # Saturday night


def test_touching_spans_make_one_quiet_time():
    # every night plus whole weekends: quiet from Friday 22:00 to Monday 07:00
    s = spans("22:00-07:00", {"hours": "00:00-24:00", "days": "sat,sun"})
    assert quiet_until(s, "UTC", at(2025, 3, 7, 22, 30)) == at(2025, 3, 10, 7, 0)
    assert quiet_until(s, "UTC", at(2025, 3, 9, 12, 0)) == at(2025, 3, 10, 7, 0)
    # nights beginning Monday to Friday: the Sunday night is not one of them, so the
    # weekend ends at Monday 00:00
    s2 = spans({"hours": "22:00-07:00", "days": ["mon-fri"]}, {"hours": "00:00-24:00", "days": "sat,sun"})
    assert quiet_until(s2, "UTC", at(2025, 3, 7, 22, 30)) == at(2025, 3, 10, 0, 0)
    assert quiet_until(s2, "UTC", at(2025, 3, 10, 3, 0)) is None


def test_local_time_of_the_zone_and_dst():
    s = spans("22:00-07:00")
    # Berlin, winter (UTC+1): 07:00 local is 06:00 UTC
    assert quiet_until(s, "Europe/Berlin", at(2025, 3, 4, 22, 0)) == at(2025, 3, 5, 6, 0)
    # the night of 29-30 March 2025 the clocks jump 02:00 -> 03:00: 07:00 CEST is 05:00 UTC
    assert quiet_until(s, "Europe/Berlin", at(2025, 3, 29, 23, 0)) == at(2025, 3, 30, 5, 0)
    # and that night is an hour shorter: 22:00 CET (21:00 UTC) to 07:00 CEST (05:00 UTC)
    assert quiet_until(s, "Europe/Berlin", at(2025, 3, 29, 21, 0)) == at(2025, 3, 30, 5, 0)
    assert quiet_until(s, "Europe/Berlin", at(2025, 3, 29, 20, 59)) is None
    # New York: 22:00-07:00 EST is 03:00-12:00 UTC
    assert quiet_until(s, "America/New_York", at(2025, 1, 15, 11, 59)) == at(2025, 1, 15, 12, 0)


def test_quiet_all_week_is_cut_off_far_ahead_instead_of_never_ending():
    s = spans("00:00-24:00")
    end = quiet_until(s, "UTC", at(2025, 1, 1, 0, 0))
    assert end is not None and end > at(2025, 12, 1, 0, 0)


@settings(max_examples=200, deadline=None)
@given(start=st.integers(0, 1439), length=st.integers(1, 1440), days=st.sets(st.integers(0, 6), min_size=1),
       minute=st.integers(0, 14 * 1440 - 1))
def test_quiet_until_agrees_with_a_minute_by_minute_walk(start, length, days, minute):
    """Reference: step minute by minute (UTC zone) from `now` while the minute is quiet
    by the plain rule 'it lies in a span that began on a listed day'."""
    end_min = (start + length) % 1440 or (1440 if start + length == 1440 else 0)
    if end_min == start:
        return
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    s = spans({"hours": f"{start // 60:02d}:{start % 60:02d}-{end_min // 60:02d}:{end_min % 60:02d}",
               "days": [names[d] for d in sorted(days)]})
    origin = at(2025, 3, 3, 0, 0)  # a Monday

    def quiet(m: int) -> bool:
        for begin_day in (m // 1440 - 1, m // 1440):
            if begin_day % 7 in days:
                b = begin_day * 1440 + start
                if b <= m < b + length:
                    return True
        return False

    got = quiet_until(s, "UTC", origin.fromtimestamp(origin.timestamp() + minute * 60, UTC))
    if not quiet(minute):
        assert got is None
        return
    m = minute
    while quiet(m) and m < minute + 8 * 1440:
        m += 1
    if m < minute + 8 * 1440:
        assert got == datetime.fromtimestamp(origin.timestamp() + m * 60, UTC)


@pytest.mark.parametrize("bad, message", [
    ("22:00-22:00", "is empty"),
    ("25:00-07:00", "not a time of day"),
    ("22:00", "not HH:MM-HH:MM"),
    ({"hours": "22:00-07:00", "days": ["funday"]}, "'funday' is not a day"),
    ({"hours": "22:00-07:00", "weekdays": ["mon"]}, "unknown key(s) weekdays"),
])
def test_bad_spans_are_refused_with_the_fix(bad, message):
    from cxmetrics.alerts import AlertsConfig, AlertsConfigError

    with pytest.raises(AlertsConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        AlertsConfig.from_dict({"quiet_hours": {"spans": [bad]}})
