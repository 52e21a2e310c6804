"""The CLI as a user runs it: a real subprocess for the headline path, CliRunner for the rest."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from cxmetrics.cli import main
from cxmetrics.store import _migrations
from conftest import write

BROKEN = "ticket_id,created_at,csat\nT1,2025-01-01T00:00:00Z,5\nT2,never,4\nT3,2025-01-01T00:00:00Z,7\n"


def run(tmp_path, *args):
    return CliRunner().invoke(main, ["--workspace", str(tmp_path / "ws"), *args], catch_exceptions=False)


def test_import_json_summary_has_exactly_the_contract_keys(tmp_path):
    path = write(tmp_path / "t.csv", BROKEN)
    out = subprocess.run(
        [sys.executable, "-m", "cxmetrics", "--workspace", str(tmp_path / "ws"), "import", "tickets", str(path), "--format", "json"],
        capture_output=True, text=True, check=True,
    )
    summary = json.loads(out.stdout)
    assert set(summary) == {"import_id", "read", "inserted", "updated", "unchanged", "quarantined"}
    assert (summary["read"], summary["inserted"], summary["quarantined"]) == (3, 1, 2)


def test_import_table_summary_and_quarantine_listing(tmp_path):
    path = write(tmp_path / "t.csv", BROKEN)
    res = run(tmp_path, "import", "tickets", str(path))
    assert res.exit_code == 0
    assert "read                    3" in res.output and "quarantined             2" in res.output
    res = run(tmp_path, "quarantine", "--format", "json")
    got = json.loads(res.output)
    assert [(r["line"], r["reason"]) for r in got] == [
        (3, "created_at 'never' is not an ISO 8601 timestamp such as 2025-03-14T09:30:00Z "
            "(for day-first dates set [timestamps] dayfirst = true in a mapping)"),
        (4, "csat 7 is outside its scale 1-5"),
    ]
    table = run(tmp_path, "quarantine").output
    assert "csat 7 is outside its scale 1-5" in table
    assert "T2" in run(tmp_path, "quarantine", "--format", "csv").output


def test_user_errors_print_type_and_message_and_exit_1(tmp_path):
    res = CliRunner().invoke(main, ["--workspace", str(tmp_path / "ws"), "import", "tickets", str(tmp_path / "missing.csv")])
    assert res.exit_code == 1
    assert res.output.startswith("ImportFileError: ") and "does not exist" in res.output
    res = CliRunner().invoke(main, ["--workspace", str(tmp_path / "ws"), "config", "timezon=UTC"])
    assert res.exit_code == 1 and "Did you mean 'timezone'?" in res.output
    res = CliRunner().invoke(main, ["--workspace", str(tmp_path / "ws"), "config", "timezone=Mars/Base"])
    assert res.exit_code == 1 and "SettingsError: timezone 'Mars/Base' is not an IANA time zone" in res.output


def test_unknown_kind_is_a_usage_error(tmp_path):
    res = CliRunner().invoke(main, ["--workspace", str(tmp_path / "ws"), "import", "tikets", "x.csv"])
    assert res.exit_code == 2 and "'tikets' is not one of" in res.output


def test_status_config_imports_formats(tmp_path):
    run(tmp_path, "import", "tickets", str(write(tmp_path / "t.csv", BROKEN)))
    status = json.loads(run(tmp_path, "status", "--format", "json").output)
    assert status["rows"]["tickets"] == 1 and status["rows"]["quarantine"] == 2 and status["schema_version"] == len(_migrations.available())
    assert "Europe/Paris" in run(tmp_path, "config", "timezone=Europe/Paris").output
    assert json.loads(run(tmp_path, "status", "--format", "json").output)["timezone"] == "Europe/Paris"
    imports = json.loads(run(tmp_path, "imports", "--format", "json").output)
    assert imports[0]["read"] == 3 and imports[0]["kind"] == "tickets"
    fmt = run(tmp_path, "formats", "tickets").output
    assert "first_reply_at" in fmt and "required" in fmt


def test_query_commands_need_an_existing_workspace_and_valid_dates(tmp_path):
    res = CliRunner().invoke(main, ["--workspace", str(tmp_path / "none"), "metrics", "csat"])
    assert res.exit_code == 1 and "StoreError: no workspace at" in res.output
    assert not (tmp_path / "none").exists()  # a typo in --workspace creates nothing
    run(tmp_path, "import", "tickets", str(write(tmp_path / "t.csv", BROKEN)))
    res = run(tmp_path, "metrics", "tickets", "--from", "yesterday")
    assert res.exit_code == 1 and "start (--from) 'yesterday' is not a date" in res.output
