"""Shifts (issue 14, item 3): the `shifts` import kind and its checks, staffed agents and
occupancy per interval (hand-computed across interval boundaries and midnight), the `occupancy`
metric, shift patterns (reading, covering by integer programme, expanding) and the CLI."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

import cxmetrics
from cxmetrics.cli import main
from cxmetrics.errors import UserError
from cxmetrics.workforce._patterns import Patterns, cover, expand, read_patterns
from cxmetrics.workforce._shifts import staffed

UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def quarantine(ws: cxmetrics.Workspace, import_id: str) -> dict[int, str]:
    return {r["line"]: r["reason"] for r in ws.quarantine(import_id).to_pylist()}


# -- the import kind ---------------------------------------------------------------------------


def test_start_and_end_headers_default_and_lower_cased_activity(ws, tmp_path):
    f = write(tmp_path / "s.csv", "agent_id,Start,End,activity,team,channel\n"
                                  "a1,2025-03-03 09:00,2025-03-03 17:00,,T1,Phone\n"
                                  "a1,2025-03-03 12:00,2025-03-03 12:30,Lunch,T1,\n")
    s = ws.import_file("shifts", f)
    assert (s.read, s.inserted, s.quarantined) == (2, 2, 0)
    rows = ws.sql("SELECT agent_id, start_at, end_at, activity, team, channel FROM shifts ORDER BY start_at").to_pylist()
    assert rows == [
        {"agent_id": "a1", "start_at": at("2025-03-03T09:00"), "end_at": at("2025-03-03T17:00"),
         "activity": "available", "team": "T1", "channel": "phone"},
        {"agent_id": "a1", "start_at": at("2025-03-03T12:00"), "end_at": at("2025-03-03T12:30"),
         "activity": "lunch", "team": "T1", "channel": None},
    ]
    again = ws.import_file("shifts", f)  # idempotent: its own spans are not overlaps
    assert (again.read, again.unchanged, again.quarantined) == (2, 2, 0)


def test_bad_spans_are_quarantined_with_their_lines_and_times(ws, tmp_path):
    f = write(tmp_path / "s.csv", "agent_id,start_at,end_at,activity\n"
                                  "a2,2025-03-03 09:00,2025-03-03 08:00,\n"        # line 2: ends first
                                  "a1,2025-03-03 09:00,2025-03-03 17:00,\n"        # line 3: overlaps line 5
                                  "a3,2025-03-03 09:00,2025-03-04 09:00:01,\n"     # line 4: over 24 h
                                  "a1,2025-03-03 16:00,2025-03-03 18:00,available\n"  # line 5
                                  "a1,2025-03-03 12:00,2025-03-03 12:30,break\n"   # line 6: a break inside: fine
                                  "a2,2025-03-03 18:00,2025-03-03 22:00,\n"        # line 7: fine
                                  "a3,2025-03-04 22:00,2025-03-05 06:00,\n")       # line 8: over midnight: fine
    s = ws.import_file("shifts", f)
    assert s.read == s.inserted + s.updated + s.unchanged + s.quarantined
    assert (s.read, s.inserted, s.quarantined) == (7, 3, 4)
    found = quarantine(ws, s.import_id)
    assert sorted(found) == [2, 3, 4, 5]
    assert found[2] == "end_at (2025-03-03 08:00:00) is not after start_at (2025-03-03 09:00:00)"
    assert "2025-03-03 09:00:00 to 2025-03-04 09:00:01 is longer than 24 hours" in found[4]
    # both rows of the overlapping pair, each naming the other's times
    assert found[3] == "overlaps the same agent's available span 2025-03-03 16:00:00 to 2025-03-03 18:00:00 in this file"
    assert found[5] == "overlaps the same agent's available span 2025-03-03 09:00:00 to 2025-03-03 17:00:00 in this file"


def test_a_span_overlapping_a_stored_one_is_quarantined_unless_the_file_moves_it(ws, tmp_path):
    first = ws.import_file("shifts", write(tmp_path / "a.csv", "agent_id,start,end\na1,2025-03-03 09:00,2025-03-03 17:00\n"))
    s = ws.import_file("shifts", write(tmp_path / "b.csv", "agent_id,start,end\na1,2025-03-03 16:00,2025-03-03 20:00\n"))
    assert (s.read, s.quarantined) == (1, 1)
    assert quarantine(ws, s.import_id)[2] == (
        f"overlaps the same agent's stored available span 2025-03-03 09:00:00 to 2025-03-03 17:00:00 (import "
        f"{first.import_id}): correct this row, or give that span's new end in this file (same agent and start)")
    # the stored span shortened in the same file: judged by its new version, so both go in
    s = ws.import_file("shifts", write(tmp_path / "c.csv", "agent_id,start,end\n"
                                                           "a1,2025-03-03 09:00,2025-03-03 16:00\n"
                                                           "a1,2025-03-03 16:00,2025-03-03 20:00\n"))
    assert (s.read, s.updated, s.inserted, s.quarantined) == (2, 1, 1, 0)
    assert ws.sql("SELECT sum(epoch(end_at) - epoch(start_at)) AS s FROM shifts").to_pylist()[0]["s"] == 11 * 3600


def test_required_columns_are_named(ws, tmp_path):
    with pytest.raises(cxmetrics.ImportFileError, match="has no column end_at"):
        ws.import_file("shifts", write(tmp_path / "s.csv", "agent_id,start\na1,2025-03-03 09:00\n"))


# -- staffed and occupancy, by hand ------------------------------------------------------------

SHIFTS = ("agent_id,start,end,activity,channel\n"
          "a1,2025-03-03 09:10,2025-03-03 10:50,available,\n"   # 09:10-10:50, less a break 09:40-09:50
          "a1,2025-03-03 09:40,2025-03-03 09:50,break,\n"
          "a1,2025-03-03 09:45,2025-03-03 09:55,coaching,\n"    # overlaps the break: 09:40-09:55 off, once
          "b1,2025-03-03 23:30,2025-03-04 00:45,available,\n"   # over midnight
          "p1,2025-03-03 10:00,2025-03-03 11:00,available,phone\n")
# flat tickets: a contact is busy from its first reply for its handle seconds
TICKETS = ("ticket_id,created_at,channel,assignee_id,first_reply_at,handle_seconds\n"
           "t1,2025-03-03 09:00,email,a1,2025-03-03 09:25,600\n"     # 09:25-09:35
           "t2,2025-03-03 09:00,email,a1,2025-03-03 10:20,900\n"     # 10:20-10:35: across 10:30
           "t3,2025-03-03 23:00,email,b1,2025-03-03 23:50,1200\n"    # 23:50-00:10: across midnight
           "t4,2025-03-03 10:00,phone,p1,2025-03-03 10:05,300\n"     # 10:05-10:10, the phone agent
           "t5,2025-03-03 10:00,email,zz,2025-03-03 10:40,120\n")    # an agent no shift names: the pool's


@pytest.fixture
def staffed_ws(ws, tmp_path):
    ws.import_file("shifts", write(tmp_path / "s.csv", SHIFTS))
    ws.import_file("tickets", write(tmp_path / "t.csv", TICKETS))
    return ws


def rows(table) -> dict[tuple[str | None, str], tuple[float, float, float | None]]:
    return {(r["channel"], r["interval_start"].astimezone(UTC).strftime("%d %H:%M")):
            (r["staffed"], r["handle_s"], r["occupancy"]) for r in table.to_pylist()}


def close(got: tuple[float, float, float | None], want: tuple[float, float, float | None]) -> bool:
    return all((g is None and w is None) or (g is not None and w is not None and g == pytest.approx(w, abs=1e-9))
               for g, w in zip(got, want))


def test_staffed_seconds_split_at_interval_boundaries_and_midnight(staffed_ws):
    got = rows(staffed(staffed_ws, interval="30m"))
    # the window is the shifts' span, 09:00 (the first start's interval) to 00:45; every interval of
    # both channel groups is listed, zeros included
    assert len(got) == 2 * 32
    # a1: 09:10-09:30 = 1200 s; 09:30-10:00 less 09:40-09:55 = 900 s; 10:00-10:30 = 1800 s; 10:30-10:50 = 1200 s
    # busy: t1 09:25-09:30 300 s and 09:30-09:35 300 s; t2 10:20-10:30 600 s and 10:30-10:35 300 s;
    # t5 (agent zz, no shift) 10:40-10:42 120 s, the pool's (no channel)
    assert close(got[(None, "03 09:00")], (1200 / 1800, 300, 300 / 1200))
    assert close(got[(None, "03 09:30")], (900 / 1800, 300, 300 / 900))
    assert close(got[(None, "03 10:00")], (1.0, 600, 600 / 1800))
    assert close(got[(None, "03 10:30")], (1200 / 1800, 420, 420 / 1200))
    assert close(got[(None, "03 11:00")], (0.0, 0, None))
    # b1 over midnight: 23:30-00:00 1800 s, 00:00-00:30 1800 s, 00:30-00:45 900 s; t3 23:50-00:10
    assert close(got[(None, "03 23:30")], (1.0, 600, 600 / 1800))
    assert close(got[(None, "04 00:00")], (1.0, 600, 600 / 1800))
    assert close(got[(None, "04 00:30")], (0.5, 0, 0.0))
    # the phone agent's own group
    assert close(got[("phone", "03 10:00")], (1.0, 300, 300 / 1800))
    assert close(got[("phone", "03 10:30")], (1.0, 0, 0.0))
    assert close(got[("phone", "03 09:00")], (0.0, 0, None))


def test_staffed_per_hour_window_and_channel(staffed_ws):
    got = rows(staffed(staffed_ws, interval="1h", start="2025-03-03T09:00", end="2025-03-03T11:00"))
    # 09:00-10:00: 1200 + 900 = 2100 s staffed, 600 s busy; 10:00-11:00: 3000 s, 1020 s
    want = {(None, "03 09:00"): (2100 / 3600, 600, 600 / 2100), (None, "03 10:00"): (3000 / 3600, 1020, 1020 / 3000),
            ("phone", "03 09:00"): (0.0, 0, None), ("phone", "03 10:00"): (1.0, 300, 300 / 3600)}
    assert got.keys() == want.keys() and all(close(got[k], want[k]) for k in want)
    # phone: the phone agent and the every-channel agents, and only phone contacts
    phone = rows(staffed(staffed_ws, interval="1h", start="2025-03-03T10:00", end="2025-03-03T11:00", channel="Phone"))
    want = {(None, "03 10:00"): (3000 / 3600, 0, 0.0), ("phone", "03 10:00"): (1.0, 300, 300 / 3600)}
    assert phone.keys() == want.keys() and all(close(phone[k], want[k]) for k in want)


def test_intervals_follow_the_workspace_clock(tmp_path):
    # India is UTC+05:30: hourly intervals start on the local hour, i.e. at :30 UTC
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        ws.configure(timezone="Asia/Kolkata")
        ws.import_file("shifts", write(tmp_path / "s.csv", "agent_id,start,end\na1,2025-03-03 09:00,2025-03-03 10:30\n"))
        got = staffed(ws, interval="1h").to_pylist()
        assert [(r["interval_start"].strftime("%H:%M%z"), r["staffed"]) for r in got] == [
            ("09:00+0530", 1.0), ("10:00+0530", 0.5)]


def test_occupancy_metric_by_agent_and_total(staffed_ws):
    total = staffed_ws.metrics(["occupancy"]).to_pylist()[0]
    # staffed: a1 1200 + 900 + 1800 + 1200 = 5100 s, b1 4500 s, p1 3600 s; handle 600 + 900 + 1200 + 300 + 120
    assert total["value"] == pytest.approx(100 * 3120 / 13200)
    by = {r["assignee"]: r["value"] for r in staffed_ws.metrics(["occupancy"], by=["assignee"]).to_pylist()}
    assert by["a1"] == pytest.approx(100 * 1500 / 5100)
    assert by["b1"] == pytest.approx(100 * 1200 / 4500)
    assert by["p1"] == pytest.approx(100 * 300 / 3600)
    assert by.get("zz") is None  # worked, never staffed: no occupancy of its own
    hours = {r["hour_of_day"]: r["value"] for r in staffed_ws.metrics(["occupancy"], by=["hour_of_day"]).to_pylist()}
    assert hours["23"] == pytest.approx(100 * 600 / 1800)


def test_a_ticket_dimension_occupancy_has_not_is_refused_with_the_ones_it_has(staffed_ws):
    # a shift has no topic or priority: asking for one was an engine error (a 503 on the
    # dashboard under any ticket filter), not an answer naming what occupancy can be cut by
    for dim in ("topic", "priority", "tier"):
        with pytest.raises(cxmetrics.UserError, match=f"'{dim}' is not a dimension of staffed time.*assignee, "
                                                      "channel, source, team"):
            staffed_ws.metrics(["occupancy"], where={dim: "billing"})
        with pytest.raises(cxmetrics.UserError, match="not a dimension of staffed time"):
            staffed_ws.metrics(["occupancy"], by=[dim])
    assert staffed_ws.metrics(["occupancy"], where={"team": "nobody"}).to_pylist()[0]["n"] == 0


def test_no_shifts_no_rows(ws):
    assert staffed(ws).num_rows == 0
    assert ws.metrics(["occupancy"]).to_pylist()[0]["value"] is None


# -- shift patterns ----------------------------------------------------------------------------


def test_patterns_read_any_line_ending_and_wrap_past_midnight(tmp_path):
    hours = [f"{h},{int(h < 6 or h >= 22)},{int(8 <= h < 16)}" for h in range(24)]
    f = write(tmp_path / "p.csv", "\r".join(["Hour,Night,Day", *hours]) + "\r")
    p = read_patterns(f)
    assert p.names == ("Night", "Day") and p.slot_s == 3600 and len(p.matrix) == 24
    assert p.blocks("Night") == ((22, 8),)  # 22:00 to 06:00 next morning: one shift
    rows = expand(p, {"Night": 2, "Day": 1}, "2025-03-03", "2025-03-04", "UTC").to_pylist()
    assert [(r["agent_id"], r["start_at"].isoformat(), r["end_at"].isoformat()) for r in rows] == [
        ("Night-01", "2025-03-03T22:00:00+00:00", "2025-03-04T06:00:00+00:00"),
        ("Night-02", "2025-03-03T22:00:00+00:00", "2025-03-04T06:00:00+00:00"),
        ("Day-01", "2025-03-03T08:00:00+00:00", "2025-03-03T16:00:00+00:00"),
        ("Night-01", "2025-03-04T22:00:00+00:00", "2025-03-05T06:00:00+00:00"),
        ("Night-02", "2025-03-04T22:00:00+00:00", "2025-03-05T06:00:00+00:00"),
        ("Day-01", "2025-03-04T08:00:00+00:00", "2025-03-04T16:00:00+00:00"),
    ]


def test_cover_is_the_smallest_by_brute_force():
    # four 4-hour patterns over an 8-slot day (two wrap), requirements chosen so greedy is not enough
    on = [[int(k <= s < k + 4) or int(k + 4 > 8 and s < k - 4) for k in (0, 2, 4, 6)] for s in range(8)]
    p = Patterns(("A", "B", "C", "D"), tuple(tuple(r) for r in on), 10_800)
    need = [3, 1, 4, 1, 5, 2, 6, 2]
    got = cover(need, p)
    assert all(h >= r for h, r in zip(p.coverage(got), need))
    best = min(sum(x) for x in itertools.product(range(7), repeat=4)
               if all(h >= r for h, r in zip(p.coverage(dict(zip(p.names, x))), need)))
    assert sum(got.values()) == best


def test_pattern_errors_name_the_fix(tmp_path):
    f = write(tmp_path / "p.csv", "Hour,A\n" + "\n".join(f"{h},{int(h >= 8)}" for h in range(24)) + "\n")
    with pytest.raises(UserError, match="3 required values for 24 slots of the patterns: give one per slot"):
        cover([1, 2, 3], read_patterns(f))
    with pytest.raises(UserError, match="slot 03:00 needs 1 agents but no pattern works it"):
        cover([0, 0, 0, 1] + [0] * 20, read_patterns(f))
    with pytest.raises(UserError, match="has 5 rows"):
        read_patterns(write(tmp_path / "q.csv", "Hour,A\n1,1\n2,1\n3,0\n4,0\n5,1\n"))
    with pytest.raises(UserError, match="no pattern column"):
        read_patterns(write(tmp_path / "r.csv", "Hour,Label\n" + "\n".join(f"{h},x" for h in range(24))))


# -- the CLI -----------------------------------------------------------------------------------


def test_cli_cover_expand_import_and_staffed(tmp_path):
    p = write(tmp_path / "p.csv", "Hour,Early,Late\n" + "\n".join(f"{h},{int(6 <= h < 14)},{int(12 <= h < 20)}"
                                                                 for h in range(24)) + "\n")
    need = ",".join(str(n) for n in [0] * 6 + [2] * 6 + [3] * 2 + [1] * 6 + [0] * 4)
    runner = CliRunner()
    out = runner.invoke(main, ["shifts", "cover", str(p), "--required", need, "--format", "json"])
    assert out.exit_code == 0, out.output
    got = json.loads(out.output)
    # 06-12 need 2 (Early only), 12-14 need 3 (both), 14-20 need 1 (Late only): 2 Early + 1 Late
    assert got["agents"] == {"Early": 2, "Late": 1} and got["total"] == 3
    assert got["slots"][12] == {"slot": "12:00", "required": 3.0, "staffed": 3}
    w = str(tmp_path / "ws")
    out = runner.invoke(main, ["-w", w, "shifts", "expand", str(p), "--agents", "2,1", "--from", "2025-03-03",
                               "--to", "2025-03-03", "--import"])
    assert out.exit_code == 0, out.output
    assert "inserted                3" in out.output
    out = runner.invoke(main, ["-w", w, "shifts", "staffed", "--interval", "1h", "--from", "2025-03-03T11:00",
                               "--to", "2025-03-03T13:00", "--format", "json"])
    assert out.exit_code == 0, out.output
    assert [(r["interval_start"], r["staffed"]) for r in json.loads(out.output)] == [
        ("2025-03-03T11:00:00+00:00", 2.0), ("2025-03-03T12:00:00+00:00", 3.0)]
    out = runner.invoke(main, ["shifts", "cover", str(p), "--required", "1,2,x"])
    assert out.exit_code == 1 and out.output.startswith("UserError: --required '1,2,x' is not a list of numbers")


def test_cli_expand_writes_a_csv_the_import_reads(tmp_path):
    p = write(tmp_path / "p.csv", "Hour,A\n" + "\n".join(f"{h},{int(9 <= h < 17)}" for h in range(24)) + "\n")
    out_csv = tmp_path / "shifts.csv"
    runner = CliRunner()
    out = runner.invoke(main, ["-w", str(tmp_path / "none"), "shifts", "expand", str(p), "--agents", "2",
                               "--from", "2025-03-03", "--to", "2025-03-04", "--timezone", "Europe/Berlin",
                               "--output", str(out_csv)])
    assert out.exit_code == 0, out.output
    lines = out_csv.read_text().splitlines()
    assert lines[0] == "agent_id,start_at,end_at,activity"
    assert lines[1] == "A-01,2025-03-03T09:00:00+01:00,2025-03-03T17:00:00+01:00,available"
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        s = ws.import_file("shifts", out_csv)
        assert (s.read, s.inserted) == (4, 4)
        assert ws.sql("SELECT sum(epoch(end_at) - epoch(start_at)) / 3600 AS h FROM shifts").to_pylist()[0]["h"] == 32


# -- the demo ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_demo_has_a_phone_roster_that_covers_its_plan(tmp_path):
    import datetime as dt

    from cxmetrics._demo_run import run_demo
    from cxmetrics.demo import DemoConfig
    from cxmetrics.workforce import plan

    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        run_demo(ws, DemoConfig(tickets=3_000, seed=5, end=dt.datetime(2026, 6, 1, tzinfo=UTC)), echo=lambda _: None)
        assert ws.counts()["shifts"] > 100
        assert ws.quarantine().num_rows == 0
        kinds = ws.sql("SELECT s.activity, count(*) AS n, bool_and(s.channel = 'phone' AND a.type = 'human') AS ok "
                       "FROM shifts s JOIN agents a USING (source, agent_id) GROUP BY ALL").to_pylist()
        assert {r["activity"] for r in kinds} == {"available", "lunch", "break"} and all(r["ok"] for r in kinds)
        # the pool's occupancy, read plainly: the calls' handle seconds in the roster's span /
        # available seconds (shifts less their lunches and breaks, which lie inside them)
        total = ws.metrics(["occupancy"]).to_pylist()[0]["value"]
        plain = ws.sql("""
            WITH span AS (SELECT min(start_at) AS a, max(end_at) AS b FROM shifts)
            SELECT (SELECT sum(c.handle_s) FROM contacts c, span WHERE c.kind = 'call' AND c.handle_s > 0
                    AND c.answered_at >= span.a AND c.answered_at + to_seconds(c.handle_s) <= span.b)
                   / (SELECT sum(CASE WHEN activity = 'available' THEN 1 ELSE -1 END
                                 * (epoch(end_at) - epoch(start_at))) FROM shifts) AS occ""").to_pylist()[0]["occ"]
        assert total == pytest.approx(100 * plain, rel=0.01)
        assert 0 < total < 60  # a line of about one call a day: mostly waiting (the 100k demo: ~17%)
        # what the Staffing page shows: in a past week, the roster staffs what the plan requires in
        # most half hours (a plan from the weeks before it; shifts lost to absence and breaks fall short)
        rows = [r for r in plan(ws, start="2026-05-18", end="2026-05-25", channel="phone").to_pylist() if r["agents"]]
        covered = sum(r["staffed"] is not None and r["staffed"] >= r["agents"] - 0.5 for r in rows)
        assert rows and covered >= 0.8 * len(rows)
