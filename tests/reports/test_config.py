"""reports.toml: validated with errors naming the key and the fix, every key documented, and
the schedule's send times worked out by hand (issue 11, item 8)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

import cxmetrics
from cxmetrics.cli import main
from cxmetrics.reports import ReportsConfig, ReportsConfigError, Week
from cxmetrics.reports._config import _EMAIL_KEYS, _REPORT_KEYS, _TOP
from cxmetrics.reports._period import due_week, send_at
from cxmetrics.reports._config import parse_send
from reports._reports_helpers import MailServer

DOCS = Path(__file__).resolve().parents[2] / "docs" / "reports.md"


def _one(**report: object) -> dict[str, object]:
    return {"report": [{"name": "weekly", "to": ["lead@acme.example"], **report}]}


@pytest.mark.parametrize(("data", "message"), [
    (_one(send="mondy 08:00"), "report[0].send: 'mondy' is not a weekday; use monday to sunday (or mon to sun). "
                               "Did you mean 'monday'?"),
    (_one(send="monday 25:00"), "report[0].send: '25:00' is not a time of day; use 00:00 to 23:59."),
    (_one(to=["lead"]), "report[0].to: 'lead' is not an e-mail address (write name@domain.example)."),
    (_one(to=[]), "report[0].to: to must list at least one e-mail address"),
    (_one(format="docx"), "report[0].format: must be 'pdf' or 'html'."),
    (_one(kind="daily"), "report[0].kind: must be 'weekly'."),
    (_one(timezone="Mars/Base"), "report[0].timezone: 'Mars/Base' is not an IANA time zone; use a name such as "
                                 "\"Europe/Berlin\"."),
    (_one(name="Weekly Report"), "report[0].name: 'Weekly Report' is not a report name: use lower-case letters"),
    (_one(sned="monday 08:00"), "report[0] (weekly): unknown key 'sned'. Did you mean 'send'?"),
    ({"report": [{"name": "weekly"}]}, "report[0].to is missing; add it (the addresses to mail"),
    ({"intervall": "1m"}, "unknown key 'intervall'. Did you mean 'interval'?"),
    ({"interval": "0s"}, "interval: '0s' is too short"),
    ({"email": {"destinaton": "x"}}, "[email]: unknown key 'destinaton'. Did you mean 'destination'?"),
    ({"report": {"name": "weekly"}}, "report must be a list of tables: write [[report]] blocks."),
    ({"report": [{"name": "w", "to": "a@b.co"}, {"name": "w", "to": "a@b.co"}]},
     "report name 'w' is used twice; give each [[report]] its own name."),
])
def test_a_bad_file_names_the_key_and_the_fix(data: dict[str, object], message: str) -> None:
    with pytest.raises(ReportsConfigError) as err:
        ReportsConfig.from_dict(data)
    assert message in str(err.value)
    assert str(err.value).startswith("reports.toml: ")


def test_the_cli_prints_a_bad_file_as_one_line(tmp_path: Path) -> None:
    with cxmetrics.open(tmp_path / "ws", create=True):
        pass
    (tmp_path / "ws" / "reports.toml").write_text('[[report]]\nname = "weekly"\nto = ["x@y.example"]\n'
                                                  'send = "someday"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["-w", str(tmp_path / "ws"), "report", "run-due"])
    assert result.exit_code == 1
    assert result.output.startswith("ReportsConfigError: ") and "report[0].send: 'someday'" in result.output


def test_mail_needs_an_email_destination_of_alerts_toml(tmp_path: Path, smtp: MailServer) -> None:
    ws_path = tmp_path / "ws"
    with cxmetrics.open(ws_path, create=True):
        pass
    runner = CliRunner()
    result = runner.invoke(main, ["-w", str(ws_path), "report", "weekly", "--to", "lead@acme.example"])
    assert result.exit_code == 1 and "alerts.toml does not exist: create it with one" in result.output
    (ws_path / "alerts.toml").write_text(smtp.alerts_toml(), encoding="utf-8")
    (ws_path / "reports.toml").write_text('[email]\ndestination = "ops"\n', encoding="utf-8")
    result = runner.invoke(main, ["-w", str(ws_path), "report", "weekly", "--to", "lead@acme.example"])
    assert result.exit_code == 1
    assert "[email] destination 'ops' is not an e-mail destination of alerts.toml (those are: leads-mail)" \
        in result.output
    result = runner.invoke(main, ["-w", str(ws_path), "report", "weekly", "--to", "not-an-address"])
    assert result.exit_code == 1 and "--to: 'not-an-address' is not an e-mail address" in result.output
    result = runner.invoke(main, ["-w", str(ws_path), "report", "weekly", "--week", "2026-W10", "--end", "2026-03-09"])
    assert result.exit_code == 1 and "give --week or --end, not both" in result.output


def test_every_key_is_documented() -> None:
    page = DOCS.read_text(encoding="utf-8")
    for key in sorted(_TOP | _REPORT_KEYS | _EMAIL_KEYS):
        assert re.search(rf"`{key}`", page), f"docs/reports.md does not document `{key}`"
    for command in ("report weekly", "report run-due", "report status"):
        assert command in page


def test_send_times_worked_out_by_hand() -> None:
    monday_8 = parse_send("monday 08:00")
    w09 = Week.parse("2026-W09")  # Mon 23 Feb - Sun 1 Mar 2026
    # Berlin is UTC+1 in winter: Monday 2 March 08:00 local = 07:00 UTC
    assert send_at(w09, monday_8, "Europe/Berlin") == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    # Friday 17:30 after the week: Friday 6 March 2026
    assert send_at(w09, parse_send("fri 17:30"), "UTC") == datetime(2026, 3, 6, 17, 30, tzinfo=UTC)
    # across the spring change (29 March 2026): W13 ends Monday 30 March, Berlin is UTC+2
    assert send_at(Week.parse("2026-W13"), monday_8, "Europe/Berlin") == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
    # due: the latest week whose time has come
    assert due_week(datetime(2026, 3, 2, 6, 59, tzinfo=UTC), monday_8, "Europe/Berlin")[0].label == "2026-W08"
    assert due_week(datetime(2026, 3, 2, 7, 0, tzinfo=UTC), monday_8, "Europe/Berlin")[0].label == "2026-W09"
    assert due_week(datetime(2026, 3, 8, 23, 0, tzinfo=UTC), monday_8, "Europe/Berlin")[0].label == "2026-W09"
    # ISO weeks across a year's end: 2026-W53 exists, and 2027-W01 starts on Monday 4 January 2027
    assert Week.parse("2026-W53").start == date(2026, 12, 28) and Week.parse("2027-W01").start == date(2027, 1, 4)
    assert Week.ending_before(date(2027, 1, 4)).label == "2026-W53"
