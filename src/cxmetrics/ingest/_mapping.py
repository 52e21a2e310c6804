"""Mapping files: how a file's columns, time zones, timestamp formats and values map
onto a canonical import format.

A mapping is TOML::

    source = "zendesk"              # the `source` of every row (default: `default`)
    format = "csv"                  # csv, jsonl or parquet (default: by file extension)

    [columns]                       # file column = canonical column ("-" drops it)
    "Ticket ID" = "ticket_id"
    "Opened" = "created_at"

    [timestamps]
    timezone = "America/New_York"   # naive timestamps are read in it (default: workspace)
    dayfirst = true                 # 03/04/2025 is 3 April (else: set `format`)
    format = "%d.%m.%Y %H:%M"       # strptime format(s), a string or a list; or "epoch", "epoch_ms"

    [values.channel]                # file value = canonical value, per column
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
_TOP = {"source", "format", "columns", "timestamps", "values", "csv"}
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
        bad = sorted(set(ts) - {"timezone", "dayfirst", "format"})
        if bad:
            raise MappingError(f"{where}: unknown key(s) in [timestamps]: {', '.join(bad)}; use timezone, dayfirst or format.")
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
        columns = _section(data, "columns", where)
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


def _section(data: dict, name: str, where: str) -> dict:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise MappingError(f"{where}: '{name}' must be a table ([{name}]).")
    return value
