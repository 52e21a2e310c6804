"""Readers: how each file format becomes raw rows the engine can check.

Every reader gives the file's columns and a SQL source of raw values in file order,
and maps a row's position back to where a person finds it (a line, or a row of a
Parquet file). CSV rows the parser itself rejects (too many fields, bad UTF-8...) come
back as rejects with their line and text. Before that, `prepare` bounds what is read:
over-long lines become rejects and compressed files are expanded under a cap (_prepare).
"""

from __future__ import annotations

import csv
from array import array
import gzip
import hashlib
import io
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cxmetrics.errors import ImportFileError
from cxmetrics.ingest._columns import ident, lit
from cxmetrics.ingest._mapping import Mapping
from cxmetrics.ingest._prepare import LongLine, ReadLimits, is_gzip, prepare
from cxmetrics.ingest._sniff import refuse_binary
from cxmetrics.settings import format_size

MAX_LINE_BYTES = ReadLimits().line_bytes  # the default: a row may hold a 32 MB e-mail body

_CSV_ERRORS = {
    "TOO MANY COLUMNS": "the row has more fields than the header",
    "MISSING COLUMNS": "the row has fewer fields than the header",
    "UNQUOTED VALUE": "a quote stands inside an unquoted field",
    "LINE SIZE OVER MAXIMUM": "the row is longer than the max_line_size setting",
    "INVALID UNICODE": "the row is not valid text in the file's encoding (set [csv] encoding in a mapping)",
    "INVALID ENCODING": "the row is not valid text in the file's encoding (set [csv] encoding in a mapping)",
}


@dataclass(frozen=True)
class Reject:
    line: int
    raw: str
    reason: str


def detect_format(path: Path, mapping: Mapping, fmt: str | None) -> str:
    chosen = fmt or mapping.format
    if chosen:
        if chosen not in ("csv", "jsonl", "parquet"):
            raise ImportFileError(f"format '{chosen}' is not one of csv, jsonl, parquet.")
        return chosen
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".zst"):
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last in (".csv", ".tsv", ".txt"):
        return "csv"
    if last in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if last in (".parquet", ".pq"):
        return "parquet"
    raise ImportFileError(
        f"cannot tell the format of {path.name} from its extension; name it .csv, .jsonl or .parquet, "
        "or pass --file-format csv|jsonl|parquet (file_format= in Python and the API, format = in a mapping)."
    )


class Source(ABC):
    """A file (or table) of raw rows."""

    format: str = ""
    position_word = "line"
    needs_positions = False  # True when a row's line is not simply its position + 1
    checksum: str | None = None  # the file's SHA-256 when prepare() computed it while reading
    rows: int | None = None  # how many rows, when known before reading (a table in memory)

    @abstractmethod
    def from_sql(self) -> str:
        """The SQL table expression that yields the file's raw rows in order."""

    def columns(self, con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
        """(name, engine type) of each raw column."""
        return [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {self.from_sql()}").fetchall()]

    def select_sql(self, raw_columns: list[tuple[str, str]]) -> str:
        """Raw columns renamed _r0.., plus _blank and _parse_error."""
        cols = ", ".join(f"{ident(n)} AS _r{i}" for i, (n, _) in enumerate(raw_columns))
        return f"SELECT {cols}, false AS _blank, CAST(NULL AS VARCHAR) AS _parse_error FROM {self.from_sql()}"

    def rawtext_sql(self, raw_columns: list[tuple[str, str]]) -> str:
        """A row's text as the quarantine shows it, over the columns of select_sql. The
        stage evaluates it for rejected rows only: as JSON for every row it cost more
        than reading the file."""
        return "CAST(to_json(struct_pack(" + ", ".join(
            f"{ident(n)} := _r{i}" for i, (n, _) in enumerate(raw_columns)) + ")) AS VARCHAR)"

    def rejects(self, con: duckdb.DuckDBPyConnection) -> list[Reject]:
        """Rows the parser could not split into fields."""
        return []

    def positions(self, ords: Iterable[int], rejects: list[Reject]) -> dict[int, int]:
        """Line of each staged row, by its 0-based position (only when needs_positions)."""
        return {o: o + 1 for o in ords}

    def cleanup(self, con: duckdb.DuckDBPyConnection) -> None:
        """Drop what reading left behind in the engine."""
        return None

    def tolerant(self, tmp_dir: Path) -> bool:
        """Switch to a slower reader that accepts what the fast one failed on; False
        when there is none."""
        return False

    def prepare(self, tmp_dir: Path, limits: ReadLimits, name: str) -> None:
        """Bound what reading may cost (line length, decompressed size) before any read;
        `name` is how errors call the file."""
        return None


class TextSource(Source):
    """A text file read line by line (CSV, JSON Lines): prepared before it is read, so
    that no line is longer than the limit and a compressed file is expanded under a cap."""

    has_header = False

    def __init__(self, path: Path, mapping: Mapping) -> None:
        self.path, self.mapping = path, mapping
        self.limits = ReadLimits()
        self._plain = path  # the file read: a bounded copy after prepare(), when one was needed
        self._long: list[LongLine] = []

    def prepare(self, tmp_dir: Path, limits: ReadLimits, name: str) -> None:
        self.limits = limits
        digest = hashlib.sha256()
        self._plain, self._long = prepare(self.path, limits, tmp_dir, has_header=self.has_header, name=name,
                                          digest=digest)
        if not is_gzip(self.path):  # the scan read the file as it is: its checksum is ready
            self.checksum = digest.hexdigest()
        # the csv module refuses fields over 128 KB by default; lines are capped now
        csv.field_size_limit(max(csv.field_size_limit(), limits.line_bytes))

    def long_rejects(self) -> list[Reject]:
        cap = format_size(self.limits.line_bytes)
        return [Reject(x.line, x.start + "…",
                       f"the line is {format_size(x.length)} long, over the {cap} limit "
                       "(max_line_size in settings.toml)")
                for x in self._long]

    def engine_line_options(self) -> str:
        return f"max_line_size = {self.limits.line_bytes}, buffer_size = {2 * self.limits.line_bytes}"

    def cleanup(self, con: duckdb.DuckDBPyConnection) -> None:
        if self._plain != self.path:
            self._plain.unlink(missing_ok=True)


class CsvSource(TextSource):
    """CSV with a fixed dialect: the delimiter comes from the header line (or the
    mapping), never from a sample, which one ragged or multi-line row can mislead."""

    format = "csv"
    needs_positions = True
    has_header = True

    def __init__(self, path: Path, mapping: Mapping) -> None:
        super().__init__(path, mapping)
        self._header: list[str] | None = None
        self._delim: str | None = None
        self._normalised: Path | None = None  # a copy in one dialect, after tolerant()
        self._lines: array[int] | None = None  # original start line of each normalised record
        self._early_rejects: list[Reject] = []

    def _encoding(self) -> str:
        return {"utf-8": "utf-8-sig"}.get(self.mapping.encoding, self.mapping.encoding)

    def _quote(self) -> str:
        return self.mapping.quote or '"'

    def _delimiter(self) -> str:
        if self._delim is None:
            if self.mapping.delimiter:
                self._delim = self.mapping.delimiter
            else:
                with _open_text(self._plain, self._encoding()) as fh:
                    head = fh.readline()  # bounded: prepare() capped the line length
                counts = {d: head.count(d) for d in (",", ";", "\t", "|")}
                self._delim = max(counts, key=lambda d: counts[d])
        return self._delim

    def header(self) -> list[str]:
        """The header's names (made unique, never empty)."""
        if self._header is None:
            refuse_binary(self._plain, self.path.name, self.mapping.encoding)  # not bytes as column names
            with _open_text(self._plain, self._encoding()) as fh:
                first = next(csv.reader(fh, delimiter=self._delimiter(), quotechar=self._quote()), [])
            names: list[str] = []
            for i, name in enumerate(first):
                name = name.strip() or f"column_{i + 1}"
                base, n = name, 2
                while name in names:
                    name, n = f"{base}_{n}", n + 1
                names.append(name)
            if not names:
                raise ImportFileError(f"{self.path.name} has no header row.")
            self._header = names
        return self._header

    def columns(self, con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
        return [(n, "VARCHAR") for n in self.header()]

    def from_sql(self) -> str:
        names = "{" + ", ".join(f"{lit(n)}: 'VARCHAR'" for n in self.header()) + "}"
        quote = lit(self._quote())
        opts = [
            "header = true", "auto_detect = false", f"columns = {names}",
            f"delim = {lit(self._delimiter())}", f"quote = {quote}", f"escape = {quote}",
            self.engine_line_options(),
            "store_rejects = true", "rejects_table = '_cx_reject_errors'", "rejects_scan = '_cx_reject_scans'",
        ]
        if self.mapping.encoding != "utf-8":
            opts.append(f"encoding = {lit(self.mapping.encoding)}")
        if self._normalised is not None:
            opts = [o for o in opts if not o.startswith(("delim", "quote", "escape", "encoding"))]
            opts += ["delim = ','", "quote = '\"'", "escape = '\"'", "new_line = '\\n'"]
        return f"read_csv({lit(str(self._normalised or self._plain))}, {', '.join(opts)})"

    def tolerant(self, tmp_dir: Path) -> bool:
        """Re-read the file with Python's csv module, which accepts mixed line endings
        (LF and CRLF in one file, which the engine's parser rejects), into a normalised
        copy; records with the wrong number of fields are rejected here, with their line."""
        if self._normalised is not None:
            return False
        width = len(self.header())
        out_path = tmp_dir / f"_cx_normalised_{id(self)}.csv"
        self._lines = array("q")
        with _open_text(self._plain, self._encoding()) as fh, open(out_path, "w", encoding="utf-8", newline="") as out:
            reader = csv.reader(fh, delimiter=self._delimiter(), quotechar=self._quote())
            writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
            writer.writerow(next(reader, []))
            prev_line = reader.line_num
            for record in reader:
                start, prev_line = prev_line + 1, reader.line_num
                if not record:
                    continue
                if len(record) != width:
                    words = "more fields than the header" if len(record) > width else "fewer fields than the header"
                    self._early_rejects.append(Reject(
                        start, self.mapping.delimiter and self.mapping.delimiter.join(record) or ",".join(record),
                        f"the row has {words} (expected {width}, found {len(record)})"))
                    continue
                writer.writerow(record)
                self._lines.append(start)
        self._normalised = out_path
        return True

    def rejects(self, con: duckdb.DuckDBPyConnection) -> list[Reject]:
        if self._lines is not None:
            return sorted(self.long_rejects() + self._early_rejects, key=lambda r: r.line)
        rows = con.execute("""
            SELECT line_byte_position, any_value(csv_line), string_agg(DISTINCT error_type, ','),
                   any_value(error_message)
            FROM _cx_reject_errors GROUP BY line_byte_position ORDER BY line_byte_position
        """).fetchall()
        out = self.long_rejects()
        if not rows:
            return out
        lines = _lines_at_offsets(self._plain, [r[0] for r in rows])
        for offset, text, kinds, message in rows:
            words = "; ".join(_CSV_ERRORS.get(k.strip(), k.strip().lower()) for k in kinds.split(","))
            detail = (message or "").strip().splitlines()[0] if message else ""
            out.append(Reject(lines[offset], (text or "").lstrip("\r\n"), f"{words} ({detail})" if detail else words))
        return sorted(out, key=lambda r: r.line)

    def positions(self, ords: Iterable[int], rejects: list[Reject]) -> dict[int, int]:
        # The engine does not report the line of a good row, and quoted newlines and
        # blank lines make it differ from the row's position: count records once here.
        # Only rows that go to quarantine ask, so a clean import never pays for this.
        wanted = set(ords)
        if not wanted:
            return {}
        if self._lines is not None:
            return {o: self._lines[o] for o in wanted}
        rejected = {r.line for r in rejects}
        last = max(wanted)
        found: dict[int, int] = {}
        with _open_text(self._plain, self._encoding()) as fh:
            reader = csv.reader(fh, delimiter=self._delimiter(), quotechar=self._quote())
            next(reader, None)  # the header
            prev_line, ordinal = reader.line_num, -1
            for record in reader:
                start = prev_line + 1
                prev_line = reader.line_num
                if not record or start in rejected:
                    continue
                ordinal += 1
                if ordinal in wanted:
                    found[ordinal] = start
                    if ordinal >= last:
                        break
        return found

    def cleanup(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute("DROP TABLE IF EXISTS _cx_reject_errors")
        con.execute("DROP TABLE IF EXISTS _cx_reject_scans")
        if self._normalised is not None:
            self._normalised.unlink(missing_ok=True)
        super().cleanup(con)


class JsonlSource(TextSource):
    """JSON Lines, read as one text column so that a broken line is quarantined with
    its exact line number instead of failing the file (or vanishing)."""

    format = "jsonl"

    def from_sql(self) -> str:
        # \x01 cannot stand raw in valid JSON, so each physical line is one field
        return (
            f"read_csv({lit(str(self._plain))}, columns = {{'j': 'VARCHAR'}}, delim = '\\x01', quote = '', "
            f"escape = '', header = false, auto_detect = false, {self.engine_line_options()}, strict_mode = false)"
        )

    def rejects(self, con: duckdb.DuckDBPyConnection) -> list[Reject]:
        return self.long_rejects()

    def _objects_sql(self) -> str:
        return (
            "SELECT j, j IS NULL OR trim(j) = '' AS _blank, "
            "coalesce(json_valid(j) AND json_type(CASE WHEN json_valid(j) THEN j END) = 'OBJECT', false) AS _ok "
            f"FROM {self.from_sql()}"
        )

    def columns(self, con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
        refuse_binary(self._plain, self.path.name, self.mapping.encoding)
        try:
            keys = con.execute(
                f"SELECT DISTINCT unnest(json_keys(j)) AS k FROM ({self._objects_sql()}) WHERE _ok ORDER BY k"
            ).fetchall()
        except duckdb.Error as exc:
            raise ImportFileError(f"{self.path.name} cannot be read as JSON Lines: {_first_line(exc)}") from None
        return [(k[0], "VARCHAR") for k in keys]

    def select_sql(self, raw_columns: list[tuple[str, str]]) -> str:
        cols = "".join(f"CASE WHEN _ok THEN j ->> {lit(n)} END AS _r{i}, " for i, (n, _) in enumerate(raw_columns))
        return (
            f"SELECT {cols}_blank, "
            "CASE WHEN NOT _blank AND NOT _ok THEN 'the line is not a JSON object' END AS _parse_error, "
            f"j AS _rawtext FROM ({self._objects_sql()})"
        )

    def rawtext_sql(self, raw_columns: list[tuple[str, str]]) -> str:
        return "_rawtext"  # the line itself, which select_sql passes on


class ParquetSource(Source):
    format = "parquet"
    position_word = "row"

    def __init__(self, path: Path) -> None:
        self.path = path

    def from_sql(self) -> str:
        return f"read_parquet({lit(str(self.path))})"

    def columns(self, con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
        try:
            return super().columns(con)
        except duckdb.Error as exc:
            raise ImportFileError(f"{self.path.name} cannot be read as Parquet: {_first_line(exc)}") from None


class RelationSource(Source):
    """Rows already in the engine (an Arrow table registered by name): the demo's path."""

    format = "arrow"
    position_word = "row"

    def __init__(self, name: str, rows: int | None = None) -> None:
        self.name = name
        self.rows = rows

    def from_sql(self) -> str:
        return ident(self.name)


def open_source(path: Path, mapping: Mapping, fmt: str) -> Source:
    if fmt == "csv":
        return CsvSource(path, mapping)
    if fmt == "jsonl":
        return JsonlSource(path, mapping)
    return ParquetSource(path)


def _open_text(path: Path, encoding: str) -> io.TextIOBase:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rt", encoding=encoding, errors="replace", newline="")  # type: ignore[return-value]
    return open(path, encoding=encoding, errors="replace", newline="")  # noqa: SIM115


def _lines_at_offsets(path: Path, offsets: list[int]) -> dict[int, int]:
    """Line number (1-based) of each byte offset; CRLF, LF and a bare CR each end a line."""
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    result: dict[int, int] = {}
    targets = sorted(set(offsets))
    line, pos, prev_cr, i = 1, 0, False, 0
    with opener(path, "rb") as fh:
        while i < len(targets):
            chunk = fh.read(1 << 20)
            if not chunk:
                break
            while i < len(targets) and targets[i] <= pos + len(chunk):
                result[targets[i]] = line + _breaks(chunk[: targets[i] - pos], prev_cr)
                i += 1
            line += _breaks(chunk, prev_cr)
            prev_cr = chunk.endswith(b"\r")
            pos += len(chunk)
    for t in targets[i:]:
        result[t] = line
    return result


def _breaks(data: bytes, prev_cr: bool) -> int:
    n = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
    if prev_cr and data.startswith(b"\n"):
        n -= 1  # the CR of a CRLF split across chunks was counted already
    return n


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]
