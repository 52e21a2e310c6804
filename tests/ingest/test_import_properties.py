"""Property tests over generated files: counts reconcile, and neither import order nor
duplication changes what is stored (issue 2)."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cxmetrics

COLUMNS = ["ticket_id", "created_at", "channel", "first_reply_at", "solved_at", "csat", "subject"]
STORED = ("tickets", "events", "surveys")

texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)


@st.composite
def ticket(draw, tid: str) -> dict[str, str]:
    """A good flat ticket: replies and solves come after creation, scores on 1-5."""
    created = draw(st.integers(0, 10_000_000))
    reply = draw(st.none() | st.integers(0, 100_000))
    solve = draw(st.none() | st.integers(0, 1_000_000))
    ts = lambda s: "2025-01-01T00:00:00Z" if s == 0 else _iso(s)  # noqa: E731
    return {
        "ticket_id": tid,
        "created_at": ts(created),
        "channel": draw(st.sampled_from(["email", "chat", "Phone", ""])),
        "first_reply_at": "" if reply is None else ts(created + reply),
        "solved_at": "" if solve is None else ts(created + solve),
        "csat": draw(st.sampled_from(["", "1", "2", "3", "4", "5"])),
        "subject": draw(texts),
    }


def _iso(seconds: int) -> str:
    from datetime import datetime, timedelta, timezone

    return (datetime(2025, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


BREAKERS = {
    "created_at": "not a time",
    "csat": "9",
    "ticket_id": "",
    "solved_at": "2000-01-01T00:00:00Z",
}


@st.composite
def broken(draw, tid: str) -> dict[str, str]:
    row = draw(ticket(tid))
    column = draw(st.sampled_from(sorted(BREAKERS)))
    row[column] = BREAKERS[column]
    return row


def to_csv(rows: list[dict[str, str]], crlf: bool) -> bytes:
    # valid CSV both ways: with CRLF Python quotes any field holding CR or LF; with LF
    # alone it would leave a bare CR unquoted (a line break to every reader), so quote all
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\r\n" if crlf else "\n",
                            quoting=csv.QUOTE_MINIMAL if crlf else csv.QUOTE_ALL)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def stored(ws: cxmetrics.Workspace) -> dict[str, list]:
    return {t: ws.sql(f"SELECT * EXCLUDE (_import_id) FROM {t} ORDER BY ALL").to_pylist() for t in STORED}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), n_good=st.integers(0, 12), n_bad=st.integers(0, 5), crlf=st.booleans())
def test_counts_reconcile(data, n_good, n_bad, crlf):
    good = [data.draw(ticket(f"G{i}")) for i in range(n_good)]
    bad = [data.draw(broken(f"B{i}")) for i in range(n_bad)]
    rows = data.draw(st.permutations(good + bad))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        path.write_bytes(to_csv(rows, crlf))
        with cxmetrics.open(Path(tmp) / "ws", create=True) as ws:
            s = ws.import_file("tickets", path)
            assert s.read == len(rows)
            assert s.read == s.inserted + s.updated + s.unchanged + s.quarantined
            assert (s.inserted, s.quarantined) == (n_good, n_bad)
            lines = sorted(r["line"] for r in ws.quarantine().to_pylist())
            # each broken row's line holds its id (or no id at all)
            # a line ends at CRLF, LF or a lone CR
            text = re.split(r"\r\n|\r|\n", path.read_bytes().decode())
            for line in lines:
                assert text[line - 1].lstrip('"').startswith(("B", ","))
            again = ws.import_file("tickets", path)
            assert (again.inserted, again.updated, again.unchanged) == (0, 0, n_good)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), n=st.integers(1, 12))
def test_order_and_duplication_do_not_change_the_store(data, n):
    rows = [data.draw(ticket(f"T{i}")) for i in range(n)]
    # overlapping files, each a random subset (with repeats) of the same consistent rows
    files = [data.draw(st.lists(st.sampled_from(rows), max_size=2 * n)) for _ in range(3)]
    files.append(rows)  # together they cover every row
    order_a = data.draw(st.permutations(range(len(files))))
    order_b = data.draw(st.permutations(range(len(files))))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, order in enumerate((order_a, order_b)):
            with cxmetrics.open(Path(tmp) / f"ws{k}", create=True) as ws:
                for i in order:
                    path = Path(tmp) / f"f{k}_{i}.csv"
                    path.write_bytes(to_csv(files[i], crlf=bool(i % 2)))
                    s = ws.import_file("tickets", path)
                    assert s.read == s.inserted + s.updated + s.unchanged + s.quarantined
                    assert s.updated == 0  # consistent rows never update each other
                results.append(stored(ws))
        with cxmetrics.open(Path(tmp) / "once", create=True) as ws:
            path = Path(tmp) / "once.csv"
            path.write_bytes(to_csv(rows, crlf=False))
            ws.import_file("tickets", path)
            results.append(stored(ws))
    assert results[0] == results[1] == results[2]
