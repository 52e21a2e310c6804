"""KPI targets are the user's (issue 10, item 9): a targets.toml in the workspace, per
metric and per dimension value, met by the metric's direction; the CLI writes it; no
target is hard-coded."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import cxmetrics
from cxmetrics.cli import main

# Three tickets (hand-checked): email T1 reply after 30 min, CSAT 5; email T2 after 1 h,
# CSAT 4; chat T3 after 2 h, CSAT 2.
TINY_CSV = """ticket_id,created_at,channel,priority,status,requester_id,assignee_id,team,topic,first_reply_at,solved_at,csat
T1,2026-03-02T09:00:00Z,email,normal,solved,C1,A1,Billing,billing,2026-03-02T09:30:00Z,2026-03-02T15:00:00Z,5
T2,2026-03-03T10:00:00Z,email,high,solved,C2,A1,Billing,billing,2026-03-03T11:00:00Z,2026-03-03T16:00:00Z,4
T3,2026-03-04T11:00:00Z,chat,normal,solved,C3,A2,Tier 1,login,2026-03-04T13:00:00Z,2026-03-04T17:00:00Z,2
"""
TARGETS = """[csat]
target = 85

[csat.by.channel]
email = 90

[frt]
target = "1h"
"""


@pytest.fixture
def tiny(tmp_path: Path) -> cxmetrics.Workspace:
    csv = tmp_path / "tiny.csv"
    csv.write_text(TINY_CSV, encoding="utf-8")
    ws = cxmetrics.open(tmp_path / "ws", create=True)
    ws.import_file("tickets", csv)
    ws.refresh()
    yield ws
    ws.close()


def _rows(ws: cxmetrics.Workspace, **kw: object) -> dict[tuple[str, str], dict]:
    out = ws.metrics(["csat", "frt"], by="channel", start="2026-03-01", end="2026-03-09", benchmark="all",
                     **kw).to_pylist()
    return {(r["metric"], r["channel"]): r for r in out}


def test_targets_per_metric_and_channel_are_met_by_the_metrics_direction(tiny: cxmetrics.Workspace) -> None:
    (tiny.path / "targets.toml").write_text(TARGETS, encoding="utf-8")
    rows = _rows(tiny)
    # email CSAT: 5 and 4 are both top box = 100%; its own target 90 applies, met
    assert rows[("csat", "email")]["value"] == pytest.approx(100.0)
    assert rows[("csat", "email")]["target"] == 90 and rows[("csat", "email")]["target_met"] is True
    # chat CSAT: a 2 = 0%; the metric's target 85 applies, missed
    assert rows[("csat", "chat")]["target"] == 85 and rows[("csat", "chat")]["target_met"] is False
    # first response is better lower: email median 45 min <= 1 h is met, chat 2 h is missed
    assert rows[("frt", "email")]["value"] == pytest.approx(2700.0)
    assert rows[("frt", "email")]["target"] == 3600 and rows[("frt", "email")]["target_met"] is True
    assert rows[("frt", "chat")]["target"] == 3600 and rows[("frt", "chat")]["target_met"] is False


def test_no_target_is_hard_coded(tiny: cxmetrics.Workspace) -> None:
    # without a targets.toml nothing has a target: not CSAT, not service level
    out = tiny.metrics(["csat", "service_level"], start="2026-03-01", end="2026-03-09", benchmark="all").to_pylist()
    assert [r["target"] for r in out] == [None, None]


def test_a_filter_on_one_value_picks_that_values_target(tiny: cxmetrics.Workspace) -> None:
    (tiny.path / "targets.toml").write_text(TARGETS, encoding="utf-8")
    row = tiny.metrics(["csat"], where={"channel": "email"}, start="2026-03-01", end="2026-03-09",
                       benchmark="all").to_pylist()[0]
    assert row["target"] == 90 and row["target_met"] is True


def test_every_mistake_names_its_line_and_metric_and_suggests_the_name() -> None:
    from cxmetrics.targets import TargetsError
    from cxmetrics.targets._file import loads

    text = '[csatt]\ntarget = 85\n\n[frt]\ntarget = "1 hour"\n\n[csat.by.chanel]\nemail = 90\n\n[tickets]\ntarget = 3\n'
    with pytest.raises(TargetsError) as info:
        loads(text)
    errors = info.value.errors
    assert len(errors) == 4
    assert "line 1" in errors[0] and "unknown metric 'csatt'" in errors[0] and "Did you mean 'csat'?" in errors[0]
    assert "line 5" in errors[1] and "'1 hour' is not a duration" in errors[1]
    assert "line 7" in errors[2] and "Did you mean 'channel'?" in errors[2]
    # volume is neither better higher nor lower: a target could not be met or missed
    assert "line 10" in errors[3] and "no better direction" in errors[3]


def test_out_of_range_and_non_numbers_are_refused() -> None:
    from cxmetrics.targets import TargetsError
    from cxmetrics.targets._file import loads

    with pytest.raises(TargetsError, match=r"line 2, \[csat\]: 120 is outside 0 to 100"):
        loads("[csat]\ntarget = 120\n")
    with pytest.raises(TargetsError, match="'high' is not a number in percent"):
        loads('[csat]\ntarget = "high"\n')
    assert loads('[csat]\ntarget = "85%"\n').find("csat").value == 85


def test_cli_sets_lists_and_removes(tmp_path: Path) -> None:
    run = CliRunner().invoke
    ws = str(tmp_path / "ws")
    missing = run(main, ["--workspace", ws, "targets", "set", "csat", "85"])
    assert missing.exit_code == 1 and "TargetsError: no workspace at" in missing.output
    (tmp_path / "ws").mkdir()
    assert run(main, ["--workspace", ws, "targets", "set", "csat", "85"]).exit_code == 0
    r = run(main, ["--workspace", ws, "targets", "set", "frt", "30m", "--by", "channel=chat"])
    assert r.exit_code == 0 and "met when at most" in r.output
    listed = run(main, ["--workspace", ws, "targets", "list"]).output
    assert "csat" in listed and "85.0%" in listed and "channel = chat" in listed and "30m" in listed
    from cxmetrics.targets import load_targets

    t = load_targets(tmp_path / "ws")
    assert t.find("frt", {"channel": "chat"}).value == 1800 and t.find("frt", {"channel": "email"}) is None
    bad = run(main, ["--workspace", ws, "targets", "set", "csatt", "85"])
    assert bad.exit_code == 1 and "TargetsError: unknown metric 'csatt'. Did you mean 'csat'?" in bad.output
    assert run(main, ["--workspace", ws, "targets", "remove", "frt"]).exit_code == 0
    gone = run(main, ["--workspace", ws, "targets", "remove", "frt"])
    assert gone.exit_code == 1 and "frt has no target" in gone.output
    assert [x.metric for x in load_targets(tmp_path / "ws")] == ["csat"]


def test_the_file_the_cli_writes_reads_back_with_quoted_values(tmp_path: Path) -> None:
    from cxmetrics.targets import load_targets, set_target

    set_target(tmp_path, "frt", "2h", by=("team", 'Tier "1" EU'))
    set_target(tmp_path, "csat", 80.5)
    t = load_targets(tmp_path)
    assert t.find("frt", {"team": 'Tier "1" EU'}).value == 7200
    assert t.find("csat", {}).value == 80.5
