"""A row too long to read is quarantined with its line and the reason, and `read` counts
it (issue 9, item 2: a 3-row CSV with a 70 MB field imported as read=2, nothing
quarantined, from the CLI and the API, plain and .gz). The line cap is the
`max_line_size` setting: most tests set a small one, one runs at the real default."""

from __future__ import annotations

import gzip
import io
import json
import random
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import cxmetrics
from cxmetrics.cli import main
from cxmetrics.errors import ImportFileError
from tests.security._limits_helpers import HEADER, multipart, request, server

KB, MB = 1 << 10, 1 << 20


def three_rows(field_bytes: int) -> bytes:
    """Three events; the second one's kind is `field_bytes` long."""
    return (HEADER + "E1,T1,2025-01-01T00:00:00Z,created\n" + "E2,T1,2025-01-01T00:01:00Z," + "x" * field_bytes
            + "\nE3,T1,2025-01-01T00:02:00Z,message\n").encode()


def write(path: Path, data: bytes) -> Path:
    if path.suffix == ".gz":
        data = gzip.compress(data, compresslevel=1)
    path.write_bytes(data)
    return path


def check(summary: dict, quarantine: list[dict], limit: str, length: str) -> None:
    assert {k: summary[k] for k in ("read", "inserted", "quarantined")} == {"read": 3, "inserted": 2, "quarantined": 1}
    assert [q["line"] for q in quarantine] == [3]  # header, E1, then the long row
    assert f"over the {limit} limit" in quarantine[0]["reason"] and length in quarantine[0]["reason"]
    assert "max_line_size" in quarantine[0]["reason"]
    assert quarantine[0]["raw"].startswith("E2,T1,") and len(quarantine[0]["raw"]) < 1000


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_library_quarantines_a_row_over_the_line_cap(tmp_path: Path, suffix: str) -> None:
    f = write(tmp_path / f"events{suffix}", three_rows(300 * KB))
    with cxmetrics.Workspace(tmp_path / "ws") as ws:
        ws.configure(max_line_size="256KB")
        s = ws.import_file("events", f)
        check(s.to_dict(), ws.quarantine(s.import_id).to_pylist(), "256 KB", "300 KB")
        assert sorted(r[0] for r in ws.con.execute("SELECT event_id FROM events").fetchall()) == ["E1", "E3"]


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_cli_quarantines_a_row_over_the_line_cap(tmp_path: Path, suffix: str) -> None:
    f = write(tmp_path / f"events{suffix}", three_rows(300 * KB))
    with cxmetrics.Workspace(tmp_path / "ws") as ws:
        ws.configure(max_line_size="256KB")
    out = CliRunner().invoke(main, ["--workspace", str(tmp_path / "ws"), "import", "events", str(f),
                                    "--format", "json"])
    assert out.exit_code == 0, out.output
    summary = json.loads(out.output[out.output.index("{"):])
    with cxmetrics.Workspace(tmp_path / "ws") as ws:
        check(summary, ws.quarantine(summary["import_id"]).to_pylist(), "256 KB", "300 KB")


def test_jsonl_line_over_the_cap_is_quarantined_with_its_line(tmp_path: Path) -> None:
    rows = [{"event_id": "J1", "ticket_id": "T", "ts": "2025-01-01T00:00:00Z", "kind": "created"},
            {"event_id": "J2", "ticket_id": "T", "ts": "2025-01-01T00:00:00Z", "kind": "x" * (80 * KB)}]
    text = "\n".join(json.dumps(r) for r in rows) + "\n\n" + json.dumps({**rows[0], "event_id": "J4"}) + "\n"
    f = tmp_path / "e.jsonl"
    f.write_text(text)
    with cxmetrics.Workspace(tmp_path / "ws") as ws:
        ws.configure(max_line_size="64KB")
        s = ws.import_file("events", f)
        assert (s.read, s.inserted, s.quarantined) == (3, 2, 1)
        assert [q["line"] for q in ws.quarantine(s.import_id).to_pylist()] == [2]


def test_a_header_over_the_cap_refuses_the_file(tmp_path: Path) -> None:
    f = tmp_path / "wide.csv"
    f.write_text("event_id," + "c" * (100 * KB) + "\nE1,x\n")
    with cxmetrics.Workspace(tmp_path / "ws") as ws:
        ws.configure(max_line_size="64KB")
        with pytest.raises(ImportFileError, match=r"header line of .*wide\.csv is over the 64 KB limit"):
            ws.import_file("events", f)
        assert ws.counts()["events"] == 0


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_api_quarantines_a_row_over_the_line_cap(tmp_path: Path, suffix: str) -> None:
    data = three_rows(300 * KB)
    if suffix == ".csv.gz":
        data = gzip.compress(data, compresslevel=1)
    headers, form = multipart(f"long{suffix}", data)
    with server(tmp_path / "ws", max_line_size="256KB") as srv:
        auth = {"Authorization": f"Bearer {srv.admin}"}
        status, _, body = request(srv.host, srv.port, "POST", "/api/v1/imports/events", headers={**headers, **auth},
                                  length=len(form), body=[form])
        assert status == 200, body
        answer = json.loads(body)
        check(answer, answer["quarantine"], "256 KB", "300 KB")


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_a_70mb_row_at_the_default_cap(tmp_path: Path, suffix: str) -> None:
    # the case of the report, at the default max_line_size (32 MB)
    f = write(tmp_path / f"events{suffix}", three_rows(70 * MB))
    with cxmetrics.Workspace(tmp_path / "ws") as ws:
        s = ws.import_file("events", f)
        check(s.to_dict(), ws.quarantine(s.import_id).to_pylist(), "32 MB", "70 MB")


# -- the scan that finds long lines, against a plain reference ---------------------------

def _reference(data: bytes, cap: int) -> tuple[bytes, list[tuple[int, int]]]:
    """Lines end at CR, LF or CRLF; a line over `cap` is listed and its text left out."""
    out, found, line = bytearray(), [], 1
    for m in re.finditer(rb"([^\r\n]*)(\r\n|\r|\n|$)", data):
        text, end = m.group(1), m.group(2)
        if not text and not end:
            break
        if len(text) > cap:
            found.append((line, len(text)))
        else:
            out += text
        out += end
        line += 1
    return bytes(out), found


@settings(max_examples=400, deadline=None)
@given(data=st.binary(max_size=120).map(lambda b: bytes(b"ab\r\nxxxx"[c % 8] for c in b)),
       cap=st.integers(1, 15), seed=st.integers(0, 10**6))
def test_scan_finds_exactly_the_long_lines_however_the_blocks_fall(data: bytes, cap: int, seed: int) -> None:
    from cxmetrics.ingest._prepare import _scan

    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(len(data) + 1), min(len(data) + 1, rng.randint(0, 8))))
    blocks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True) if data[a:b]]
    out = io.BytesIO()
    found = _scan(iter(blocks), cap, out)
    expected_out, expected = _reference(data, cap)
    assert [(x.line, x.length) for x in found] == expected
    assert out.getvalue() == expected_out
