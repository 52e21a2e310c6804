"""The Anonymous Bank's shift patterns (T. W. Miller, *Modeling Techniques in Predictive Analytics*,
2015, ch. 6; docs/data.md): the 8 six-hour patterns read from their old-Mac (CR) file, covering
Miller's Erlang C requirement with the fewest agents (optimality proved by a dual certificate
worked by hand), expanded over February 1999 and imported as shifts, and the occupancy of those
shifts against the bank's calls equal to handled seconds / staffed seconds read plainly from the
files."""

from __future__ import annotations

from datetime import datetime, timezone

import duckdb
import pytest
from realdata._data import data_file, needs
from realdata.test_anonymous_bank import DATA as CALLS
from realdata.test_anonymous_bank import flat_tickets

from cxmetrics.workforce._patterns import cover, expand, read_patterns
from cxmetrics.workforce._shifts import staffed

SHIFTS = data_file("anonymous_bank_callcenter_feb1999", "data_anonymous_bank_shifts.csv")
pytestmark = [needs(SHIFTS), needs(CALLS)]

# Miller's Erlang C servers per hour for P(wait) <= 0.5 at 15 calls per agent-hour (Wednesdays)
REQUIRED = [1, 1, 1, 0, 1, 1, 1, 4, 8, 9, 10, 9, 8, 16, 10, 10, 6, 7, 8, 8, 6, 6, 5, 4]


def test_the_file_has_old_mac_line_endings_and_eight_six_hour_patterns():
    raw = SHIFTS.read_bytes()
    assert b"\r" in raw and b"\n" not in raw
    p = read_patterns(SHIFTS)
    assert p.names == tuple(f"Shift{i}" for i in range(1, 9)) and p.slot_s == 3600
    assert [p.blocks(n) for n in p.names] == [((s, 6),) for s in (0, 6, 8, 10, 12, 14, 16, 18)]


def test_cover_meets_every_hour_with_the_fewest_agents():
    p = read_patterns(SHIFTS)
    counts = cover(REQUIRED, p)
    have = p.coverage(counts)
    assert all(h >= r for h, r in zip(have, REQUIRED))
    # A lower bound by weak LP duality, worked by hand: give weight 1 to hours 0, 7, 13 and 19. Each
    # pattern works at most one of them (Shift1: 0; Shift2: 7; Shift3-5: 13; Shift6-8: 19), so any
    # cover's agents add up to at least the sum of those hours' needs: 1 + 4 + 16 + 8 = 29.
    weights = {0: 1, 7: 1, 13: 1, 19: 1}
    for name in p.names:
        assert sum(w for h, w in weights.items() if p.column(name)[h]) <= 1
    assert sum(counts.values()) == sum(REQUIRED[h] * w for h, w in weights.items()) == 29


def test_occupancy_of_the_expanded_shifts_against_the_calls(ws, tmp_path):
    p = read_patterns(SHIFTS)
    counts = cover(REQUIRED, p)
    rows = expand(p, counts, "1999-02-01", "1999-02-28", ws.settings.timezone)
    assert rows.num_rows == 28 * 29
    s = ws.import_table("shifts", rows, label="bank shifts")
    assert (s.read, s.inserted, s.quarantined) == (28 * 29, 28 * 29, 0)
    ws.import_file("tickets", flat_tickets(tmp_path / "bank.csv"))
    # a plain reading: 29 agents x 6 h x 28 days staffed; handled = the service seconds of the calls
    # an agent served (PHANTOM and negative-VRU calls out), each from ser_start (the next day when
    # before the call's entry), the part within February (the shifts' span)
    staffed_s = 29 * 6 * 3600 * 28
    lo, hi = datetime(1999, 2, 1, tzinfo=timezone.utc), datetime(1999, 3, 1, tzinfo=timezone.utc)
    handled_s = duckdb.connect().execute(f"""
        SELECT sum(greatest(0, least(epoch(e), epoch(TIMESTAMP '{hi:%Y-%m-%d}')) - greatest(epoch(b), epoch(TIMESTAMP '{lo:%Y-%m-%d}'))))
        FROM (
            SELECT b, b + to_seconds(CAST(ser_time AS BIGINT)) AS e
            FROM (SELECT *, strptime(date || ' ' || ser_start, '%y%m%d %H:%M:%S')
                            + CASE WHEN CAST(ser_start AS TIME) < CAST(vru_entry AS TIME) THEN INTERVAL 1 DAY
                                   ELSE INTERVAL 0 DAY END AS b
                  FROM read_csv('{CALLS}', delim = '\t', header = true, all_varchar = true))
            WHERE outcome = 'AGENT' AND CAST(vru_time AS INTEGER) >= 0 AND CAST(ser_time AS BIGINT) > 0
        )
    """).fetchall()[0][0]
    got = staffed(ws, interval="1h")
    assert sum(got["staffed"].to_pylist()) * 3600 == pytest.approx(staffed_s, rel=1e-12)
    assert sum(got["handle_s"].to_pylist()) == pytest.approx(handled_s, rel=1e-9)
    occupancy = handled_s / staffed_s
    # about 27%: the cover staffs every day like a busy Wednesday (Friday and Saturday are nearly
    # closed), and talk time is only part of the 4 minutes a call Miller's 15 calls an hour allow
    assert 0.2 < occupancy < 0.35
    assert ws.metrics(["occupancy"]).to_pylist()[0]["value"] == pytest.approx(100 * occupancy, rel=1e-9)
    # Wednesdays at 13:00, Miller's peak, have the 16 agents the cover gives that hour
    wed13 = [r for r in got.to_pylist() if r["interval_start"].isoweekday() == 3 and r["interval_start"].hour == 13]
    assert len(wed13) == 4 and all(r["staffed"] == 16 for r in wed13)
