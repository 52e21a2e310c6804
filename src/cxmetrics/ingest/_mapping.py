"""Mapping files: how a file's columns, time zones, timestamp formats and values map
onto a canonical import format.

A mapping is TOML::

    source = "zendesk"              # the `source` of every row (default: `default`)
    format = "csv"                  # csv, jsonl or parquet (default: by file extension)

    [columns]                       # file column = canonical column ("-" drops it)
    "Ticket ID" = "ticket_id"
    "Opened" = "created_at"

    [combine]                       # canonical column = file columns joined by "-"
    call_id = ["vru+line", "call_id"]   # (an id unique only within a line, a switch...)

    [timestamps]
    timezone = "America/New_York"   # naive timestamps are read in it (default: workspace)
    dayfirst = true                 # 03/04/2025 is 3 April (else: set `format`)
    format = "%d.%m.%Y %H:%M"       # strptime format(s), a string or a list; or "epoch", "epoch_ms"
    null = ["0:00:00"]              # values that mean "no time", in every timestamp column
    date_column = "date"            # a file column holding the date of columns that hold only
    date_format = "%y%m%d"          #   a time of day (date format(s) default %Y-%m-%d; time
    time_format = "%H:%M:%S"        #   format(s) default %H:%M:%S and %H:%M)
    next_day_before = "arrived_at"  # a time of day over 12 h before this column's is the next day

    [values.channel]                # file value = canonical value, per column ("" = none)
    "E-mail" = "email"

    [csv]
    delimiter = ";"
    quote = '"'
    encoding = "utf-8"              # utf-8, utf-16 or latin-1
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cxmetrics.errors import MappingError

DAYFIRST_FORMATS = (
    "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y",
    "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y",
)
MONTHFIRST_FORMATS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y", "%m/%d/%Y %I:%M %p")
_TOP = {"source", "format", "columns", "combine", "timestamps", "values", "csv"}
_TIMESTAMP_KEYS = ("timezone", "dayfirst", "format", "null", "date_column", "date_format", "time_format",
                   "next_day_before")
_ENCODINGS = {"utf-8", "utf8", "utf-16", "utf16", "latin-1", "latin1"}


@dataclass(frozen=True)
class Mapping:
    """A parsed, validated mapping; the empty mapping changes nothing."""

    source: str | None = None
    format: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    timezone: str | None = None
    ts_formats: tuple[str, ...] = ()
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    delimiter: str | None = None
    quote: str | None = None
    encoding: str = "utf-8"
    ts_nulls: tuple[str, ...] = ()  # values read as no time in every timestamp column
    # Call-centre exports often split a date from times of day (990201 | 7:02:47): with
    # `date_column`, a timestamp value that is a bare time of day is on that column's date,
    # and on the next day when earlier than `next_day_before`'s time (a call across midnight)
    date_column: str | None = None
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    time_formats: tuple[str, ...] = ("%H:%M:%S", "%H:%M")
    next_day_before: str | None = None
    combine: dict[str, tuple[str, ...]] = field(default_factory=dict)  # canonical column -> file columns

    @classmethod
    def load(cls, path: str | Path) -> Mapping:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise MappingError(f"mapping file {path} does not exist.") from None
        except tomllib.TOMLDecodeError as exc:
            raise MappingError(f"mapping file {path} is not valid TOML: {exc}") from None
        return cls.from_dict(data, where=str(path))

    @classmethod
    def from_dict(cls, data: dict, where: str = "mapping") -> Mapping:
        unknown = sorted(set(data) - _TOP)
        if unknown:
            raise MappingError(f"{where}: unknown key(s) {', '.join(unknown)}; a mapping has {', '.join(sorted(_TOP))}.")
        ts = _section(data, "timestamps", where)
        csv = _section(data, "csv", where)
        bad = sorted(set(ts) - set(_TIMESTAMP_KEYS))
        if bad:
            raise MappingError(
                f"{where}: unknown key(s) in [timestamps]: {', '.join(bad)}; use {', '.join(_TIMESTAMP_KEYS)}.")
        bad = sorted(set(csv) - {"delimiter", "quote", "encoding"})
        if bad:
            raise MappingError(f"{where}: unknown key(s) in [csv]: {', '.join(bad)}; use delimiter, quote or encoding.")
        timezone = ts.get("timezone")
        if timezone is not None:
            try:
                ZoneInfo(str(timezone))
            except (ZoneInfoNotFoundError, ValueError):
                raise MappingError(f"{where}: [timestamps] timezone '{timezone}' is not an IANA time zone such as 'Europe/Berlin'.") from None
        formats = ts.get("format", [])
        formats = [formats] if isinstance(formats, str) else list(formats)
        if "dayfirst" in ts:
            if not isinstance(ts["dayfirst"], bool):
                raise MappingError(f"{where}: [timestamps] dayfirst must be true or false.")
            formats += list(DAYFIRST_FORMATS if ts["dayfirst"] else MONTHFIRST_FORMATS)
        if any(f in ("epoch", "epoch_ms") for f in formats) and len(formats) > 1:
            raise MappingError(f"{where}: [timestamps] format 'epoch'/'epoch_ms' cannot be combined with other formats.")
        zoned = {("%z" in f or "%Z" in f) for f in formats}
        if len(zoned) > 1:
            raise MappingError(f"{where}: [timestamps] formats must all have an offset (%z) or none.")
        nulls = _strings(ts, "null", where, ())
        date_formats = _strings(ts, "date_format", where, cls.date_formats)
        time_formats = _strings(ts, "time_format", where, cls.time_formats)
        for key in ("date_column", "next_day_before"):
            if key in ts and (not isinstance(ts[key], str) or not ts[key].strip()):
                raise MappingError(f"{where}: [timestamps] {key} must be a column name (a string).")
        if ("date_format" in ts or "time_format" in ts or "next_day_before" in ts) and "date_column" not in ts:
            raise MappingError(f"{where}: [timestamps] date_format, time_format and next_day_before apply to "
                               "times of day on the date of a column: set date_column too (the file column "
                               "holding the date).")
        columns = _section(data, "columns", where)
        combine = _section(data, "combine", where)
        for col, parts in combine.items():
            if not isinstance(parts, list) or len(parts) < 2 or not all(isinstance(x, str) for x in parts):
                raise MappingError(f"{where}: [combine] {col} must be a list of two or more file columns, "
                                   f"such as [\"line\", \"call_id\"].")
        values = _section(data, "values", where)
        for col, vmap in values.items():
            if not isinstance(vmap, dict):
                raise MappingError(f"{where}: [values.{col}] must be a table of file value = canonical value.")
        encoding = str(csv.get("encoding", "utf-8")).lower()
        if encoding not in _ENCODINGS:
            raise MappingError(f"{where}: [csv] encoding '{encoding}' is not supported; use utf-8, utf-16 or latin-1.")
        fmt = data.get("format")
        if fmt is not None and fmt not in ("csv", "jsonl", "parquet"):
            raise MappingError(f"{where}: format '{fmt}' is not one of csv, jsonl, parquet.")
        for key in ("delimiter", "quote"):
            if key in csv and (not isinstance(csv[key], str) or len(csv[key]) != 1):
                raise MappingError(f"{where}: [csv] {key} must be a single character.")
        return cls(
            source=None if data.get("source") is None else str(data["source"]),
            format=fmt,
            columns={str(k): str(v) for k, v in columns.items()},
            timezone=None if timezone is None else str(timezone),
            ts_formats=tuple(str(f) for f in formats),
            values={str(c): {str(k): str(v) for k, v in m.items()} for c, m in values.items()},
            delimiter=csv.get("delimiter"),
            quote=csv.get("quote"),
            encoding=encoding.replace("utf8", "utf-8").replace("utf16", "utf-16").replace("latin1", "latin-1"),
            ts_nulls=nulls,
            date_column=ts.get("date_column"),
            date_formats=date_formats,
            time_formats=time_formats,
            next_day_before=ts.get("next_day_before"),
            combine={str(k): tuple(v) for k, v in combine.items()},
        )

    def check_against(self, canonical: set[str], where: str = "mapping") -> None:
        """Fail on targets that are not columns of the import format."""
        for target in self.columns.values():
            if target != "-" and target not in canonical:
                raise MappingError(
                    f"{where}: [columns] maps to '{target}', which is not a column of this import; "
                    f"columns are {', '.join(sorted(canonical))}."
                )
        for col in self.values:
            if col not in canonical:
                raise MappingError(f"{where}: [values.{col}] names no column of this import.")
        for target in self.combine:
            if target not in canonical:
                raise MappingError(
                    f"{where}: [combine] makes '{target}', which is not a column of this import; "
                    f"columns are {', '.join(sorted(canonical))}."
                )
        if self.next_day_before is not None and self.next_day_before not in canonical:
            raise MappingError(
                f"{where}: [timestamps] next_day_before names '{self.next_day_before}', which is not a column of "
                f"this import; columns are {', '.join(sorted(canonical))}."
            )


def _strings(section: dict, key: str, where: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """A [timestamps] value given as one string or a list of them."""
    if key not in section:
        return default
    value = section[key]
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
        raise MappingError(f"{where}: [timestamps] {key} must be a string or a list of strings.")
    return tuple(items)


def _section(data: dict, name: str, where: str) -> dict:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise MappingError(f"{where}: '{name}' must be a table ([{name}]).")
    return value
