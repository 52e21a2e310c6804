"""`cxmetrics schedule ...`, invoked through click's CliRunner on the group itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cxmetrics.calendar._cli import schedule_group

TOML = """
default = "support_de"

[schedules.support_de]
timezone = "Europe/Berlin"
hours = { mon-fri = ["09:00-12:30", "13:30-17:00"] }
holidays = ["2026-12-24", "2026-12-28..2026-12-30"]
holiday_calendars = [{ country = "DE", subdiv = "BE" }]

[schedules.us]
timezone = "America/New_York"
hours = { mon-fri = ["09:00-17:00"] }

[[schedule_rules]]
schedule = "us"
when = { team = ["Tier 2 US"], channel = ["phone"] }
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "schedules.toml").write_text(TOML, encoding="utf-8")
    return tmp_path


def run(workspace: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(schedule_group, list(args), obj={"workspace": workspace})
    return result.exit_code, result.stdout, result.stderr


def test_list(workspace: Path) -> None:
    code, out, _ = run(workspace, "list")
    assert code == 0
    assert "support_de (default)" in out and "Europe/Berlin" in out
    assert "mon-fri 09:00-12:30, 13:30-17:00" in out and "DE-BE" in out
    assert "1. team in (Tier 2 US) and channel in (phone) -> us" in out
    code, out, _ = run(workspace, "list", "--format", "json")
    data = json.loads(out)
    assert data["default"] == "support_de" and [s["name"] for s in data["schedules"]] == ["support_de", "us"]
    assert data["schedules"][0]["hours"]["sat"] == [] and data["schedules"][0]["holidays"][1] == "2026-12-28..2026-12-30"
    assert data["rules"] == [{"schedule": "us", "when": {"team": ["Tier 2 US"], "channel": ["phone"]}}]


def test_check(workspace: Path) -> None:
    code, out, _ = run(workspace, "check")
    assert code == 0 and "2 schedule(s), default 'support_de', 1 rule(s)" in out
    code, out, _ = run(workspace, "check", "us")
    assert code == 0 and out.startswith("ok  us: America/New_York")
    code, _, err = run(workspace, "check", "usa")
    assert code == 1 and err.strip() == ("UnknownNameError: Unknown schedule 'usa'. Did you mean 'us'? "
                                         "Valid: support_de, us.")


def test_check_reports_a_bad_file(workspace: Path) -> None:
    (workspace / "schedules.toml").write_text(TOML.replace('"13:30-17:00"', '"13:30-25:00"'), encoding="utf-8")
    code, out, err = run(workspace, "check")
    assert code == 1 and out == ""
    assert "SettingsError:" in err and "schedule 'support_de': hours.mon-fri '13:30-25:00' is not HH:MM-HH:MM" in err


def test_without_a_file(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, "check")
    assert code == 0 and "every ticket uses the default 24/7 UTC schedule" in out
    code, out, _ = run(tmp_path, "list")
    assert code == 0 and "default (default)" in out and "24/7" in out


def test_between(workspace: Path) -> None:
    # Fri 6 March 2026 16:00 -> Mon 9 March 10:00 Berlin time (naive: read in the schedule's zone):
    # Fri 16:00-17:00 + Mon 09:00-10:00 = 2 h; calendar 66 h
    code, out, _ = run(workspace, "between", "2026-03-06T16:00", "2026-03-09T10:00")
    assert code == 0
    assert "business   2h 00m 00s (7200 s)" in out and "calendar   66h 00m 00s (237600 s)" in out
    assert "start      2026-03-06T16:00:00+01:00" in out
    # the same instants on New York's schedule: 16:00+01:00 = 15:00 UTC = 10:00 EST Friday, and
    # 10:00+01:00 Monday = 09:00 UTC = 05:00 EDT (DST began Sun 8 March): Fri 10:00-17:00 = 7 h
    code, out, _ = run(workspace, "between", "2026-03-06T16:00:00+01:00", "2026-03-09T10:00:00+01:00",
                       "--schedule", "us", "--format", "json")
    data = json.loads(out)
    assert data["business_seconds"] == 7 * 3600 and data["schedule"] == "us" and data["business"] == "7h 00m 00s"


def test_due(workspace: Path) -> None:
    # 4 h from Fri 16:00: 1 h Friday + 3 h Monday (09:00-12:30 holds 3.5 h) -> Mon 12:00
    code, out, _ = run(workspace, "due", "2026-03-06T16:00", "4h")
    assert code == 0 and "due        Mon 2026-03-09T12:00:00+01:00 (2026-03-09T11:00:00+00:00)" in out
    # 1h30m from Mon 12:00: 12:00-12:30 + 13:30-14:30 -> 14:30
    code, out, _ = run(workspace, "due", "2026-03-09T12:00", "1h30m", "--format", "json")
    assert json.loads(out)["due"] == "2026-03-09T14:30:00+01:00"


@pytest.mark.parametrize("duration", ["4 hours", "2d", "", "h"])
def test_bad_durations_and_timestamps(workspace: Path, duration: str) -> None:
    code, _, err = run(workspace, "due", "2026-03-06T16:00", duration)
    assert code == 1 and "UserError: duration" in err and "4h, 90m, 1h30m" in err


def test_bad_timestamp(workspace: Path) -> None:
    code, _, err = run(workspace, "between", "06/03/2026", "2026-03-09")
    assert code == 1 and "UserError: START '06/03/2026' is not an ISO 8601 timestamp" in err


def test_holidays(workspace: Path) -> None:
    code, out, _ = run(workspace, "holidays", "support_de", "--year", "2026")
    assert code == 0
    # Berlin 2026: 10 public holidays + 24 Dec + 28-30 Dec = 14
    assert out.startswith("support_de: 14 holiday(s) in 2026")
    assert "2026-03-08  sun      Women's Day" in out and "2026-12-29  tue      holiday" in out
    code, out, _ = run(workspace, "holidays", "us", "--year", "2026", "--format", "json")
    assert json.loads(out) == []


def test_set_and_remove_recompute_and_say_how_many_tickets_changed(tmp_path: Path) -> None:
    import cxmetrics

    # one ticket created Friday 2026-03-06 16:00 UTC and answered Monday 10:00 UTC: frt 66 h
    with cxmetrics.open(tmp_path, create=True) as ws:
        (tmp_path / "t.csv").write_text("ticket_id,created_at,first_reply_at\n"
                                        "T1,2026-03-06T16:00:00Z,2026-03-09T10:00:00Z\n", encoding="utf-8")
        ws.import_file("tickets", tmp_path / "t.csv")
        assert ws.metrics("frt_bh").to_pylist()[0]["value"] == 66 * 3600  # no schedules: 24/7
    code, out, err = run(tmp_path, "set", "office", "--hours", "mon-fri=09:00-17:00")
    assert code == 0, err
    # Friday 16-17 + Monday 09-10 = 2 h: the ticket's business time changed
    assert "business time recomputed for 1 tickets; changed for 1" in out
    with cxmetrics.open(tmp_path, create=True) as ws:
        assert ws.metrics("frt_bh").to_pylist()[0]["value"] == 2 * 3600
    # a second schedule nobody uses: everything is recomputed, nothing changes
    code, out, _ = run(tmp_path, "set", "weekend", "--hours", "sat-sun=10:00-16:00")
    assert code == 0 and "changed for 0" in out
    assert run(tmp_path, "remove", "weekend")[0] == 0
    code, _, err = run(tmp_path, "remove", "office")
    assert code == 1 and "is the default schedule" in err
    code, _, err = run(tmp_path, "set", "night", "--hours", "mon=25:00-26:00")
    assert code == 1 and "is not HH:MM-HH:MM" in err
    code, _, err = run(tmp_path, "set", "new_one")
    assert code == 1 and "give its hours" in err
