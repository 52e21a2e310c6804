"""Exports (issue 11, item 9): the writers (CSV, Parquet, xlsx), `cxmetrics export metrics`
and `cxmetrics export tickets`, and the API's /tickets.xlsx.

xlsx files are read back from their XML (an .xlsx is a zip of XML parts), so the tests see
what Excel sees: a cell's type, its number, its style's number format, and whether it holds
a formula."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import cxmetrics
from cxmetrics.cli import main
from cxmetrics.errors import AnswerTooLargeError
from cxmetrics.exports import EXCEL_MAX_ROWS, export_tickets, write, write_xlsx
from cxmetrics.exports import _writers

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
EXCEL_EPOCH = dt.datetime(1899, 12, 30)


# -- reading an .xlsx back ------------------------------------------------------------


def _col(ref: str) -> int:
    letters = "".join(c for c in ref if c.isalpha())
    n = 0
    for c in letters:
        n = n * 26 + ord(c) - 64
    return n - 1


def read_sheet(data: bytes, sheet: int = 1) -> dict[str, Any]:
    """{'rows': [[cell...]], 'xml': str, 'formats': {style index: number format code}} where a
    cell is (type, value, style index, has_formula) or None."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = z.read(f"xl/worksheets/sheet{sheet}.xml").decode()
        styles = ET.fromstring(z.read("xl/styles.xml"))
        shared = []
        if "xl/sharedStrings.xml" in z.namelist():
            shared = ["".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t"))
                      for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", NS)]
    builtin = {14: "m/d/yyyy", 22: "m/d/yyyy h:mm"}
    custom = {int(f.get("numFmtId")): f.get("formatCode") for f in styles.iter(f"{{{NS['m']}}}numFmt")}
    xfs = styles.find("m:cellXfs", NS)
    formats = {i: custom.get(int(x.get("numFmtId", 0)), builtin.get(int(x.get("numFmtId", 0)), "General"))
               for i, x in enumerate(xfs)}
    rows: list[list[Any]] = []
    for row in ET.fromstring(xml).iter(f"{{{NS['m']}}}row"):
        cells: list[Any] = []
        for c in row.findall("m:c", NS):
            i = _col(c.get("r"))
            cells += [None] * (i - len(cells))
            kind = c.get("t", "n")
            if kind == "inlineStr":
                value: Any = "".join(t.text or "" for t in c.iter(f"{{{NS['m']}}}t"))
            elif kind == "s":
                value = shared[int(c.find("m:v", NS).text)]
            elif kind == "b":
                value = c.find("m:v", NS).text == "1"
            else:
                v = c.find("m:v", NS)
                value = None if v is None else float(v.text)
            cells.append((kind, value, int(c.get("s", 0)), c.find("m:f", NS) is not None))
        rows.append(cells)
    return {"rows": rows, "xml": xml, "formats": formats}


def serial(local: dt.datetime) -> float:
    """Excel's number for a (naive, local) date and time."""
    return (local - EXCEL_EPOCH).total_seconds() / 86400


# -- the writers ------------------------------------------------------------------------

UTC = dt.timezone.utc
ROWS = pa.table({
    "ticket_id": ["T1", "T2", "T3"],
    # 29 March 2026: Berlin moves from +01:00 to +02:00 at 01:00 UTC
    "created_at": pa.array([dt.datetime(2026, 3, 29, 0, 30, tzinfo=UTC), dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
                            None], pa.timestamp("us", tz="UTC")),
    "day": pa.array([dt.date(2026, 3, 29), dt.date(2026, 1, 2), None], pa.date32()),
    "frt_s": [1800.0, float("nan"), -12.5],
    "reopens": pa.array([0, 3, None], pa.int64()),
    "wait": pa.array([dt.timedelta(minutes=90), None, dt.timedelta(seconds=1.5)], pa.duration("us")),
    "solved": [True, False, None],
    "tags": [["vip", "refund"], [], None],
    "subject": ["=HYPERLINK(\"http://evil.example\",\"click\")", "+49 30 1234", "@SUM(A1:A9)"],
})


def test_xlsx_keeps_numbers_dates_in_the_workspace_zone_and_formula_text_as_text() -> None:
    out = io.BytesIO()
    assert write(ROWS, out, "xlsx", timezone="Europe/Berlin", units={"frt_s": "seconds"}) == 3
    sheet = read_sheet(out.getvalue())
    header, t1, t2, t3 = sheet["rows"]
    # Excel has no time zones: the header says which zone the clock times are in
    assert [h[1] for h in header] == ["ticket_id", "created_at (Europe/Berlin)", "day", "frt_s (seconds)", "reopens",
                                      "wait (seconds)", "solved", "tags", "subject"]
    # 00:30 UTC is 01:30 in Berlin (CET); 01:30 UTC, after the change, is 03:30 (CEST)
    assert t1[1][0] == "n" and t1[1][1] == pytest.approx(serial(dt.datetime(2026, 3, 29, 1, 30)), abs=1e-9)
    assert t2[1][1] == pytest.approx(serial(dt.datetime(2026, 3, 29, 3, 30)), abs=1e-9)
    assert sheet["formats"][t1[1][2]] == "yyyy-mm-dd hh:mm:ss"
    assert t1[2][1] == serial(dt.datetime(2026, 3, 29)) and sheet["formats"][t1[2][2]] == "yyyy-mm-dd"
    # numbers are numbers; NaN (no Excel value) and nulls are empty cells
    assert (t1[3][0], t1[3][1], t3[3][1]) == ("n", 1800.0, -12.5)
    assert len(t2) < 4 or t2[3] is None
    assert (t2[4][0], t2[4][1]) == ("n", 3.0)
    assert (t1[5][1], t3[5][1]) == (5400.0, 1.5)  # durations in seconds
    assert (t1[6][0], t1[6][1], t2[6][1]) == ("b", True, False)
    assert t1[7][1] == "vip; refund"
    # text that looks like a formula is a string cell, never a formula, and is not altered
    assert [(r[8][0], r[8][1], r[8][3]) for r in (t1, t2, t3)] == [
        ("inlineStr", '=HYPERLINK("http://evil.example","click")', False), ("inlineStr", "+49 30 1234", False),
        ("inlineStr", "@SUM(A1:A9)", False)]
    assert "<f>" not in sheet["xml"]


def test_xlsx_freezes_the_header_sizes_columns_and_notes_the_zone() -> None:
    out = io.BytesIO()
    write(ROWS, out, "xlsx", timezone="Europe/Berlin", notes={"query": "rows behind frt"})
    xml = read_sheet(out.getvalue())["xml"]
    assert 'ySplit="1"' in xml and 'state="frozen"' in xml
    assert "<autoFilter" in xml
    widths = {int(c.get("min")): float(c.get("width")) for c in ET.fromstring(xml).iter(f"{{{NS['m']}}}col")}
    # the subject column is sized to its longest text (41 characters), ticket_id to its header
    assert widths[9] > 40 and 8 <= widths[1] < 14
    about = read_sheet(out.getvalue(), sheet=2)["rows"]
    assert about[0][0][1] == "time zone" and about[0][1][1].startswith("Europe/Berlin (Excel has no time zones")
    assert about[1][1][1] == "rows behind frt"


def test_xlsx_refuses_more_rows_than_excel_holds_before_writing() -> None:
    out = io.BytesIO()
    with pytest.raises(AnswerTooLargeError, match="1,048,575 below its header") as err:
        write_xlsx(ROWS, out, expected_rows=EXCEL_MAX_ROWS)
    assert err.value.limit == EXCEL_MAX_ROWS - 1 and out.getvalue() == b""
    out = io.BytesIO()  # exactly as many as a sheet holds is fine (checked, not written: 1M rows are slow)
    _writers.check_excel_rows(EXCEL_MAX_ROWS - 1)


def test_xlsx_refuses_a_stream_that_grows_past_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_writers, "EXCEL_MAX_ROWS", 5)  # a sheet of 4 rows below its header
    batches = [pa.record_batch({"x": [1, 2, 3]}), pa.record_batch({"x": [4, 5, 6]})]
    with pytest.raises(AnswerTooLargeError, match="6 rows or more"):
        write_xlsx(batches, io.BytesIO())


def test_csv_quotes_formula_text_and_keeps_numbers() -> None:
    out = io.BytesIO()
    write(ROWS, out, "csv", timezone="Europe/Berlin")
    rows = list(csv.DictReader(io.StringIO(out.getvalue().decode())))
    assert [r["subject"] for r in rows] == ["'=HYPERLINK(\"http://evil.example\",\"click\")", "'+49 30 1234",
                                            "'@SUM(A1:A9)"]
    assert rows[2]["frt_s"] == "-12.5"  # a negative number stays a number
    # ISO 8601 with the offset of the workspace's zone at that instant
    assert [r["created_at"] for r in rows] == ["2026-03-29T01:30:00+0100", "2026-03-29T03:30:00+0200", ""]
    assert (rows[0]["tags"], rows[0]["wait"], rows[2]["wait"]) == ("vip;refund", "5400", "1.5")


def test_csv_of_no_rows_still_has_its_header() -> None:
    out = io.BytesIO()
    assert write(ROWS.slice(0, 0), out, "csv") == 0
    assert out.getvalue().decode().splitlines() == ['"ticket_id","created_at","day","frt_s","reopens","wait",'
                                                    '"solved","tags","subject"']


def test_parquet_round_trips_the_arrow_types() -> None:
    out = io.BytesIO()
    write(ROWS, out, "parquet")
    back = pq.read_table(io.BytesIO(out.getvalue()))
    assert back.schema.field("created_at").type == pa.timestamp("us", tz="UTC")
    assert back.drop_columns(["frt_s"]).equals(ROWS.drop_columns(["frt_s"]))
    frt = back.column("frt_s").to_pylist()  # NaN is kept (and is not equal to itself)
    assert frt[0] == 1800.0 and frt[1] != frt[1] and frt[2] == -12.5


def test_an_unknown_format_names_the_choices() -> None:
    with pytest.raises(cxmetrics.UserError, match="Unknown export format 'xls'. Did you mean 'xlsx'"):
        write(ROWS, io.BytesIO(), "xls")


# -- the CLI ----------------------------------------------------------------------------

# 3 tickets, FRT by hand: T1 30 min, T2 60 min (email), T3 120 min (chat); CSAT 5, 4, 2
TICKETS = """ticket_id,created_at,channel,priority,status,requester_id,assignee_id,team,topic,first_reply_at,solved_at,csat,subject
T1,2026-03-02T09:00:00Z,email,normal,solved,C1,A1,Billing,billing,2026-03-02T09:30:00Z,2026-03-02T15:00:00Z,5,=cmd|' /C calc'!A0
T2,2026-03-03T10:00:00Z,email,high,solved,C2,A1,Billing,billing,2026-03-03T11:00:00Z,2026-03-03T16:00:00Z,4,Refund please
T3,2026-03-04T11:00:00Z,chat,normal,solved,C3,A2,Tier 1,login,2026-03-04T13:00:00Z,2026-03-04T17:00:00Z,2,Login fails
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    (tmp_path / "t.csv").write_text(TICKETS, encoding="utf-8")
    with cxmetrics.open(path, create=True) as ws:
        ws.configure(timezone="Europe/Berlin")
        ws.import_file("tickets", tmp_path / "t.csv")
        ws.refresh()
    return path


def cli(workspace: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["--workspace", str(workspace), "export", *args], catch_exceptions=False)


QUERY = ["frt", "csat", "tickets", "--by", "channel", "--from", "2026-03-01", "--to", "2026-04-01"]


def test_export_metrics_csv_equals_the_library_and_the_hand_count(workspace: Path) -> None:
    res = cli(workspace, "metrics", *QUERY, "--output", "-")
    assert res.exit_code == 0, res.output
    got = {(r["metric"], r["channel"]): r for r in csv.DictReader(io.StringIO(res.stdout))}
    with cxmetrics.open(workspace, read_only=True) as ws:
        ref = ws.metrics(["frt", "csat", "tickets"], by=["channel"], start="2026-03-01", end="2026-04-01").to_pylist()
    assert len(got) == len(ref) == 6
    for r in ref:
        row = got[(r["metric"], r["channel"])]
        assert float(row["value"]) == pytest.approx(r["value"]) and int(row["n"]) == r["n"]
    # by hand: email FRT the median of 30 and 60 minutes; CSAT 2 of 2 satisfied; chat: 1 ticket
    assert float(got[("frt", "email")]["value"]) == 2700 and got[("frt", "email")]["unit"] == "seconds"
    assert float(got[("csat", "email")]["value"]) == 100 and float(got[("csat", "chat")]["value"]) == 0
    assert float(got[("tickets", "chat")]["value"]) == 1


def test_export_metrics_by_week_to_xlsx_and_parquet(workspace: Path, tmp_path: Path) -> None:
    args = ["frt", "--grain", "week", "--where", "channel=email", "--from", "2026-03-01", "--to", "2026-04-01"]
    assert cli(workspace, "metrics", *args, "--output", str(tmp_path / "m.xlsx")).exit_code == 0
    header, *rows = read_sheet((tmp_path / "m.xlsx").read_bytes())["rows"]
    names = [h[1] for h in header]
    assert names[:3] == ["metric", "period", "value"]
    # the week of Monday 2 March: one row, a real date and a real number
    assert len(rows) == 1 and rows[0][1][1] == serial(dt.datetime(2026, 3, 2)) and rows[0][2][1] == 2700.0
    assert cli(workspace, "metrics", *args, "-o", str(tmp_path / "m.parquet")).exit_code == 0
    table = pq.read_table(tmp_path / "m.parquet")
    assert table.column("period").to_pylist() == [dt.date(2026, 3, 2)] and table.column("value").to_pylist() == [2700]


def test_export_tickets_lists_the_rows_behind_the_number(workspace: Path, tmp_path: Path) -> None:
    res = cli(workspace, "tickets", "--metric", "frt", "--where", "channel=email", "--sort", "created_at", "-o", "-")
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [(r["ticket_id"], float(r["metric_value"])) for r in rows] == [("T1", 1800), ("T2", 3600)]
    assert rows[0]["subject"] == "'=cmd|' /C calc'!A0"  # the formula is quoted in CSV
    assert rows[0]["created_at"] == "2026-03-02T10:00:00+0100"  # 09:00 UTC in Berlin
    out = tmp_path / "t.xlsx"
    assert cli(workspace, "tickets", "--metric", "frt", "--sort", "created_at", "-o", str(out)).exit_code == 0
    header, *cells = read_sheet(out.read_bytes())["rows"]
    names = [h[1] for h in header]
    assert "created_at (Europe/Berlin)" in names and "metric_value (seconds)" in names
    at = names.index("metric_value (seconds)")
    assert [c[at][1] for c in cells] == [1800.0, 3600.0, 7200.0]
    created = names.index("created_at (Europe/Berlin)")
    assert cells[0][created][1] == pytest.approx(serial(dt.datetime(2026, 3, 2, 10, 0)), abs=1e-9)
    subject = cells[0][names.index("subject")]
    assert subject[:2] == ("inlineStr", "=cmd|' /C calc'!A0") and subject[3] is False  # text, as written


def test_export_tickets_streams_in_batches(workspace: Path) -> None:
    with cxmetrics.open(workspace, read_only=True) as ws:
        whole, batched = io.BytesIO(), io.BytesIO()
        assert export_tickets(ws, "tickets", whole, "csv", order="ticket_id") == 3
        assert export_tickets(ws, "tickets", batched, "csv", order="ticket_id", batch_rows=1) == 3
    assert batched.getvalue() == whole.getvalue()


def test_an_xlsx_export_too_long_for_excel_fails_and_leaves_no_file(
        workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_writers, "EXCEL_MAX_ROWS", 3)  # a sheet of 2 rows below its header
    out = tmp_path / "big.xlsx"
    res = CliRunner().invoke(main, ["--workspace", str(workspace), "export", "tickets", "-o", str(out)])
    assert res.exit_code == 1
    assert "AnswerTooLargeError: the export has 3 rows or more" in res.output and "csv or parquet" in res.output
    assert not out.exists() and not list(tmp_path.glob(".big.xlsx.*"))


def test_export_errors_name_the_value_and_the_fix(workspace: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["--workspace", str(workspace), "export", "metrics", "frt", "--by", "chanel",
                                    "-o", str(tmp_path / "x.csv")])
    assert res.exit_code == 1 and "UnknownNameError: Unknown dimension 'chanel'. Did you mean 'channel'?" in res.output
    assert not (tmp_path / "x.csv").exists()
    res = CliRunner().invoke(main, ["--workspace", str(workspace), "export", "metrics", "frt", "-o", str(tmp_path / "x")])
    assert res.exit_code == 2 and "give --format (csv, parquet, xlsx)" in res.output
    res = CliRunner().invoke(main, ["--workspace", str(workspace), "export", "metrics", "frt", "--format", "xlsx",
                                    "-o", "-"])
    assert res.exit_code == 1 and "give --output FILE (only csv goes to standard output)" in res.output
    res = CliRunner().invoke(main, ["--workspace", str(workspace), "export", "tickets", "--metric", "frt",
                                    "--sort", "nope", "-o", str(tmp_path / "x.csv")])
    assert res.exit_code == 1 and "Unknown sort column 'nope'" in res.output


def test_export_metrics_takes_the_same_options_as_metrics() -> None:
    names = lambda cmd: {p.name for p in cmd.params}  # noqa: E731
    export = main.commands["export"].commands["metrics"]  # type: ignore[attr-defined]
    assert names(main.commands["metrics"]) - {"explain", "benchmark", "fmt"} <= names(export)
