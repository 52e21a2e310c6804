"""Arrow tables (or streams of record batches) written as CSV, Parquet or Excel .xlsx.

Each writer takes batches one at a time, so a million drill-down rows never sit in memory
at once (XlsxWriter's constant_memory mode flushes each row as it is written).

- CSV: UTF-8 with a header; times as ISO 8601 with their offset in the workspace's time
  zone, lists as `a;b`, and text a spreadsheet would run as a formula quoted with a leading
  `'` (cxmetrics/_csvsafe.py). Numbers stay numbers.
- Parquet: the Arrow types as they are (times keep their time zone).
- xlsx: numbers as numbers, dates and times as Excel dates in the workspace's time zone
  (Excel has none: the header says which, e.g. `created_at (Europe/Berlin)`), durations as
  seconds, text always as text (a cell reading `=HYPERLINK(...)` is shown, never run), a
  frozen header row with filters, column widths from the data, and at most Excel's
  1,048,576 rows (a longer export is refused before it is cut).
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from enum import Enum
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cxmetrics._csvsafe import neutralise_batch
from cxmetrics.errors import AnswerTooLargeError, MissingDependencyError, UnknownNameError

#: Excel's rows per sheet, the header row included.
EXCEL_MAX_ROWS = 1_048_576
#: Excel's characters per cell: longer text is cut, with a mark saying so.
EXCEL_MAX_TEXT = 32_767
_WIDTH_MIN, _WIDTH_MAX = 6, 60


class Format(str, Enum):
    """The file formats an export writes."""

    CSV = "csv"
    PARQUET = "parquet"
    XLSX = "xlsx"


FORMATS = tuple(f.value for f in Format)
MEDIA_TYPES = {
    Format.CSV: "text/csv; charset=utf-8",
    Format.PARQUET: "application/vnd.apache.parquet",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

Batches = Iterable[pa.RecordBatch] | pa.Table


def parse_format(fmt: Format | str) -> Format:
    """`fmt` as a Format; an unknown one is a UserError naming the choices."""
    try:
        return Format(str(fmt.value if isinstance(fmt, Format) else fmt).lower())
    except ValueError:
        raise UnknownNameError("export format", str(fmt), FORMATS) from None


def too_many_rows(rows: int) -> AnswerTooLargeError:
    """The error for an Excel export of more rows than a sheet holds."""
    limit = EXCEL_MAX_ROWS - 1
    return AnswerTooLargeError(
        f"the export has {rows:,} rows or more, and an Excel sheet holds at most {limit:,} below its header: "
        "narrow the period or the filters, or export as csv or parquet (no row limit).",
        estimate=rows, limit=limit)


def check_excel_rows(rows: int) -> None:
    """Refuse, before writing anything, an xlsx export of more rows than Excel holds."""
    if rows > EXCEL_MAX_ROWS - 1:
        raise too_many_rows(rows)


def _batches(data: Batches) -> Iterator[pa.RecordBatch]:
    if isinstance(data, pa.Table):
        yield from data.to_batches()
        return
    yield from data


# -- CSV -------------------------------------------------------------------------------


def _csv_ready(batch: pa.RecordBatch, tz: str) -> pa.RecordBatch:
    """Lists as `a;b`, times as ISO 8601 with their offset in `tz`, durations as seconds."""
    arrays = []
    for col in batch.columns:
        if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
            col = pc.binary_join(col.cast(pa.list_(pa.string())), ";")
        elif pa.types.is_timestamp(col.type):
            col = _whole_seconds(col)
            if col.type.tz is None:  # a local time: written as it is, without an offset it does not have
                col = pc.strftime(col, format="%Y-%m-%dT%H:%M:%S")
            else:
                col = pc.strftime(col.cast(pa.timestamp(col.type.unit, tz)), format="%Y-%m-%dT%H:%M:%S%z")
        elif pa.types.is_duration(col.type):
            col = _duration_seconds(col)
        arrays.append(col)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def _whole_seconds(col: pa.Array) -> pa.Array:
    """`col` in seconds when no value has a fraction of one (spreadsheets read
    `10:00:00+0100` more readily than `10:00:00.000000+0100`); else as it is."""
    if col.type.unit == "s":
        return col
    secs = col.cast(pa.timestamp("s", col.type.tz), safe=False)
    return secs if pc.all(pc.equal(secs.cast(col.type), col)).as_py() in (True, None) else col


def _duration_seconds(col: pa.Array) -> pa.Array:
    per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[col.type.unit]
    return pc.divide(col.cast(pa.int64()).cast(pa.float64()), per_second)


def write_csv(data: Batches, out: BinaryIO, *, schema: pa.Schema | None = None, timezone: str = "UTC") -> int:
    """Write `data` as CSV to `out`; returns the rows written (a header is written even for none)."""
    rows, header = 0, True
    for batch in _batches(data):
        buf = io.BytesIO()
        # text a spreadsheet would run as a formula (=, +, -, @...) gets a leading ' (CWE-1236)
        pacsv.write_csv(neutralise_batch(_csv_ready(batch, timezone)), buf, pacsv.WriteOptions(include_header=header))
        out.write(buf.getvalue())
        rows, header = rows + batch.num_rows, False
    if header:
        names = schema.names if schema is not None else data.schema.names if isinstance(data, pa.Table) else []
        out.write((",".join('"' + n.replace('"', '""') + '"' for n in names) + "\n").encode())
    return rows


# -- Parquet ---------------------------------------------------------------------------


def write_parquet(data: Batches, out: BinaryIO, *, schema: pa.Schema | None = None) -> int:
    """Write `data` as one Parquet file (zstd) to `out`; returns the rows written."""
    batches = _batches(data)
    first = next(batches, None)
    schema = first.schema if first is not None else schema if schema is not None else data.schema  # type: ignore[union-attr]
    rows = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        for batch in ([first] if first is not None else []):
            writer.write_batch(batch)
            rows += batch.num_rows
        for batch in batches:
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows


# -- xlsx ------------------------------------------------------------------------------


def _xlsxwriter() -> Any:
    try:
        import xlsxwriter
    except ImportError:  # a dependency of cxmetrics: only a broken install lacks it
        raise MissingDependencyError("Excel export needs XlsxWriter: pip install 'XlsxWriter>=3.0'.") from None
    return xlsxwriter


def _excel_header(field: pa.Field, tz: str, units: Mapping[str, str]) -> str:
    if pa.types.is_timestamp(field.type):
        return f"{field.name} ({tz if field.type.tz is not None else 'local time'})"
    if pa.types.is_duration(field.type):
        return f"{field.name} (seconds)"
    if field.name in units:
        return f"{field.name} ({units[field.name]})"
    return field.name


def _cell_writer(typ: pa.DataType, ws: Any, formats: dict[str, Any], zone: ZoneInfo) -> Callable[[int, int, Any], None]:
    """How a value of Arrow type `typ` goes into a cell (None: an empty cell)."""
    if pa.types.is_boolean(typ):
        return lambda r, c, v: ws.write_boolean(r, c, v)
    if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
        def number(r: int, c: int, v: Any) -> None:
            v = float(v)
            if math.isfinite(v):  # Excel has no NaN or infinity: those stay empty
                ws.write_number(r, c, v)
        return number
    if pa.types.is_timestamp(typ):
        def instant(r: int, c: int, v: dt.datetime) -> None:
            # Excel has no time zones: the time as a clock in the workspace's zone showed it
            local = v.astimezone(zone).replace(tzinfo=None) if v.tzinfo is not None else v
            ws.write_datetime(r, c, local, formats["datetime"])
        return instant
    if pa.types.is_date(typ):
        return lambda r, c, v: ws.write_datetime(r, c, dt.datetime(v.year, v.month, v.day), formats["date"])
    if pa.types.is_duration(typ):
        return lambda r, c, v: ws.write_number(r, c, v.total_seconds())
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return lambda r, c, v: _text(ws, r, c, "; ".join("" if x is None else str(x) for x in v))
    return lambda r, c, v: _text(ws, r, c, v if isinstance(v, str) else str(v))


def _text(ws: Any, r: int, c: int, v: str) -> None:
    # write_string: a string cell, whatever it starts with (=, +, @ stay text, never a formula)
    ws.write_string(r, c, v if len(v) <= EXCEL_MAX_TEXT else v[: EXCEL_MAX_TEXT - 1] + "…")


def _width(v: Any) -> int:
    if v is None:
        return 0
    if isinstance(v, float):
        return len(f"{v:.6g}")
    if isinstance(v, dt.datetime):
        return 19
    if isinstance(v, dt.date):
        return 10
    if isinstance(v, list):
        return sum(len(str(x)) + 2 for x in v)
    return len(str(v))


def write_xlsx(data: Batches, out: BinaryIO, *, schema: pa.Schema | None = None, timezone: str = "UTC",
               sheet: str = "data", units: Mapping[str, str] | None = None,
               notes: Mapping[str, str] | None = None, expected_rows: int | None = None) -> int:
    """Write `data` as one sheet of an .xlsx workbook to `out`; returns the rows written.

    `units` names a numeric column's unit in its header (`value (seconds)`); `notes` go to a
    second sheet, `about` (the query, the time zone). `expected_rows`, when known, is checked
    against Excel's limit before anything is written; otherwise the limit is checked as rows come."""
    if expected_rows is not None:
        check_excel_rows(expected_rows)
    xlsxwriter = _xlsxwriter()
    zone = ZoneInfo(timezone)
    units = dict(units or {})
    # no string is ever turned into a formula, URL or number behind our back
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False,
                                     "strings_to_urls": False, "strings_to_numbers": False,
                                     "remove_timezone": True})
    try:
        ws = book.add_worksheet(sheet[:31])
        formats = {"datetime": book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
                   "date": book.add_format({"num_format": "yyyy-mm-dd"}),
                   "header": book.add_format({"bold": True, "bottom": 1, "bg_color": "#F3F4F6"})}
        batches = _batches(data)
        first = next(batches, None)
        sch = first.schema if first is not None else schema if schema is not None else data.schema  # type: ignore[union-attr]
        headers = [_excel_header(f, timezone, units) for f in sch]
        for c, h in enumerate(headers):
            ws.write_string(0, c, h, formats["header"])
        widths = [len(h) for h in headers]
        writers = [_cell_writer(f.type, ws, formats, zone) for f in sch]
        row = 0
        for batch in [first] if first is not None else []:
            row = _write_batch(ws, batch, writers, widths, row)
        for batch in batches:
            row = _write_batch(ws, batch, writers, widths, row)
        ws.freeze_panes(1, 0)
        if headers:
            ws.autofilter(0, 0, max(row, 1), len(headers) - 1)
        for c, w in enumerate(widths):
            ws.set_column(c, c, min(max(w + 2, _WIDTH_MIN), _WIDTH_MAX))
        _about(book, formats, {"time zone": f"{timezone} (Excel has no time zones: every date and time in this "
                                            "workbook is a clock time in this zone)", **dict(notes or {})})
    finally:
        book.close()
    return row


def _write_batch(ws: Any, batch: pa.RecordBatch, writers: list[Callable[[int, int, Any], None]], widths: list[int],
                 row: int) -> int:
    if row + batch.num_rows > EXCEL_MAX_ROWS - 1:
        raise too_many_rows(row + batch.num_rows)
    columns = [col.to_pylist() for col in batch.columns]
    sample = row < 1000  # column widths from the first rows: enough, and cheap
    for values in zip(*columns, strict=True):
        row += 1
        for c, v in enumerate(values):
            if v is not None:
                writers[c](row, c, v)
                if sample:
                    widths[c] = max(widths[c], _width(v))
    return row


def _about(book: Any, formats: dict[str, Any], notes: Mapping[str, str]) -> None:
    about = book.add_worksheet("about")
    about.set_column(0, 0, 16)
    about.set_column(1, 1, 100)
    for r, (key, text) in enumerate(notes.items()):
        about.write_string(r, 0, key, formats["header"])
        about.write_string(r, 1, text)


def write(data: Batches, out: BinaryIO, fmt: Format | str, *, schema: pa.Schema | None = None,
          timezone: str = "UTC", units: Mapping[str, str] | None = None, notes: Mapping[str, str] | None = None,
          expected_rows: int | None = None) -> int:
    """Write `data` (a table, or record batches with their `schema` for when there are none)
    to `out` in `fmt` (csv, parquet or xlsx); returns the rows written.

    >>> import io, pyarrow as pa
    >>> buf = io.BytesIO()
    >>> write(pa.table({"name": ["=1+1", "Ann"], "n": [-1, 2]}), buf, "csv")
    2
    >>> buf.getvalue().decode()
    '"name","n"\\n"\\'=1+1",-1\\n"Ann",2\\n'
    """
    fmt = parse_format(fmt)
    if fmt is Format.CSV:
        return write_csv(data, out, schema=schema, timezone=timezone)
    if fmt is Format.PARQUET:
        return write_parquet(data, out, schema=schema)
    return write_xlsx(data, out, schema=schema, timezone=timezone, units=units, notes=notes,
                      expected_rows=expected_rows)
