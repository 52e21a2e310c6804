"""What every help-desk connector shares: reading saved API pages, and landing the
canonical rows a vendor module made through the import pipeline.

A vendor module (`zendesk.py`, ...) turns vendor objects into canonical rows and
rejects (`Batch`); `land` runs each canonical table through the same pipeline as
`cxmetrics import`, so reconciliation, quarantine and idempotency are the importer's.
Tables land in dependency order (agents, customers, tickets, events, surveys, survey sends), each in one
transaction: an interrupted import leaves whole tables, and running it again
completes it (ids are the vendor's own, so nothing is stored twice).
"""

from __future__ import annotations

import gc
import gzip
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cxmetrics._workspace import Workspace, translate_errors
from cxmetrics.connectors._state import put_objects
from cxmetrics.errors import ImportFileError
from cxmetrics.ingest import ImportSummary, Mapping
from cxmetrics.ingest import _pipeline
from cxmetrics.ingest._kinds import canonical
from cxmetrics.ingest._readers import RelationSource, Reject
from cxmetrics.model import TABLES, ColType

# the order tables land in: a survey answer may need its ticket stored first
LAND_ORDER = ("agents", "customers", "tickets", "events", "surveys", "survey_sends")
# a row key: its columns yield to the stored row's where the store holds the row (in the
# import's source). A ticket's embedded satisfaction rating has no times: once the ratings
# endpoint has given them, a later ticket page must not blank them
YIELDS = "_yields_to_stored"
CHUNK = 50_000  # rows of a table a Batch holds as dicts before it makes them Arrow columns
PAGE_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")

_ARROW: dict[ColType, pa.DataType] = {
    ColType.TEXT: pa.string(),
    ColType.TIMESTAMP: pa.timestamp("us", tz="UTC"),
    ColType.INTEGER: pa.int64(),
    ColType.NUMBER: pa.float64(),
    ColType.BOOLEAN: pa.bool_(),
    ColType.TAGS: pa.list_(pa.string()),
    ColType.PERIOD: pa.string(),
}


@dataclass(frozen=True)
class Page:
    """One saved API response (or one object of a JSON Lines file) and where it was."""

    file: Path
    line: int  # the line it is on in a JSON Lines file (1 in a .json file)
    page: int | None  # its 1-based place in a .json file holding an array of pages
    body: Any
    label: str | None = None  # how to name a page that was never a file: `sync tickets page 12`

    def where(self, array: str | None = None, index: int = 0) -> str:
        """How a quarantine names an object: `tickets-2.json, tickets[3]`, `export.json
        page 2, tickets[3]` or `audits.jsonl line 7, audits[0]`; without an array, the page."""
        if self.label is not None:
            at = self.label
        elif self.file.name.lower().removesuffix(".gz").endswith(".json"):
            at = self.file.name + (f" page {self.page}" if self.page is not None else "")
        else:
            at = f"{self.file.name} line {self.line}"
        return at + (f", {array}[{index}]" if array else "")


class Malformed(ValueError):
    """An object that cannot become a canonical row; its message is the reason."""


def text_id(value: Any) -> str | None:
    """A vendor id as our text id (vendors send numbers or strings); None when absent."""
    return None if value is None or value == "" else str(value)


def required_id(obj: dict[str, Any], key: str) -> str:
    """`obj[key]` as a text id; Malformed when it is missing."""
    value = text_id(obj.get(key))
    if value is None:
        raise Malformed(f"{key} is missing")
    return value


@dataclass
class Batch:
    """Canonical rows per table, each with the line it came from; and the rejects.

    Rows arrive as dicts and are kept as Arrow columns once CHUNK of a table gather: a
    million events are then a few columns, not a million dicts (memory, and the time the
    garbage collector would spend walking them)."""

    pending: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {t: [] for t in LAND_ORDER})
    chunks: dict[str, list[pa.RecordBatch]] = field(default_factory=lambda: {t: [] for t in LAND_ORDER})
    lines: dict[str, list[int]] = field(default_factory=lambda: {t: [] for t in LAND_ORDER})
    rejects: dict[str, list[Reject]] = field(default_factory=lambda: {t: [] for t in LAND_ORDER})
    # vendor objects kept as sent (connector_objects): kind -> [(id, object)]; lookups,
    # the vendor's own per-ticket numbers, configuration
    kept: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)
    # table -> {row index: columns that yield to the stored row} (see YIELDS)
    yields: dict[str, dict[int, tuple[str, ...]]] = field(default_factory=dict)

    def keep(self, kind: str, object_id: Any, obj: Any) -> None:
        """Keep a vendor object as sent, by kind and id (a later one of the same id wins)."""
        self.kept.setdefault(kind, []).append((str(object_id), obj))

    @property
    def rows(self) -> dict[str, list[dict[str, Any]]]:
        """Every row per table, in order, as dicts with every column of the table."""
        return {t: arrow_table(t, self.chunks[t], self.pending[t]).to_pylist() for t in LAND_ORDER}

    def count(self, table: str) -> int:
        return len(self.lines[table])

    def add(self, table: str, row: dict[str, Any], line: int) -> None:
        weak = row.pop(YIELDS, None)
        if weak:
            self.yields.setdefault(table, {})[len(self.lines[table])] = tuple(weak)
        pending = self.pending[table]
        pending.append(row)
        self.lines[table].append(line)
        if len(pending) >= CHUNK:
            self.chunks[table].append(record_batch(table, pending))
            pending.clear()

    def table(self, table: str) -> pa.Table:
        """The rows of `table` in its exact schema."""
        return arrow_table(table, self.chunks[table], self.pending[table])

    def split(self, table: str, line: int) -> Batch:
        """Move the rows of `table` that came from `line` into a Batch of their own (a sync
        lands the rows its kept lookups make apart, so its summary counts only what the help
        desk sent this time)."""
        out = Batch()
        lines = self.lines[table]
        take = [i for i, n in enumerate(lines) if n == line]
        if not take:
            return out
        rows = self.table(table)
        mask = pa.array([n == line for n in lines])
        out.chunks[table] = rows.filter(mask).combine_chunks().to_batches()
        out.lines[table] = [line] * len(take)
        self.chunks[table] = rows.filter(pc.invert(mask)).combine_chunks().to_batches()
        self.pending[table] = []
        weak = self.yields.get(table, {})
        if weak:
            new_at, counts = {}, {True: 0, False: 0}  # a row's index in the batch it ends in
            for i, n in enumerate(lines):
                new_at[i] = counts[n == line]
                counts[n == line] += 1
            out.yields[table] = {new_at[i]: w for i, w in weak.items() if lines[i] == line}
            self.yields[table] = {new_at[i]: w for i, w in weak.items() if lines[i] != line}
        self.lines[table] = [n for n in lines if n != line]
        return out

    def reject(self, table: str, page: Page, array: str | None, index: int, obj: Any, reason: str) -> None:
        raw = obj if isinstance(obj, str) else json.dumps(obj, default=str, ensure_ascii=False)
        self.rejects[table].append(Reject(page.line, raw, f"{page.where(array, index)}: {reason}"))

    def feed(self, table: str, found: Iterable[tuple[Page, str | None, int, Any]],
             convert: Callable[[Any], Iterable[tuple[str, dict[str, Any]]]]) -> None:
        """Each found object (page, array, index, object) becomes the (table, row) pairs
        `convert` gives, or, when it raises Malformed, a reject under `table` with its reason."""
        for page, array, index, obj in found:
            try:
                for tbl, row in convert(obj):
                    self.add(tbl, row, page.line)
            except Malformed as exc:
                self.reject(table, page, array, index, obj, str(exc))


# what a help desk can say of a requester (docs/connectors.md, "Customers"): no more personal
# data than a survey needs (its address, its language, a name to greet)
CUSTOMER_COLUMNS = ("created_at", "email", "locale", "name")
# every column of a customers row, but its id: those a vendor object does not carry yield
_CUSTOMER_ALL = ("created_at", "tier", "region", "segment", "churned_at", "email", "locale", "name")
# yield always: a help desk knows no tier, region, segment or churn, and its created_at (when the
# help-desk user was made) only fills a new row, never a CRM's signup time of the same customer
_CUSTOMER_STORED = ("created_at", "tier", "region", "segment", "churned_at")


@dataclass
class Customers:
    """The `customers` rows of a batch, one per requester id: a vendor object gives the
    columns it carries (`values`; None where it says there is none). The same requester
    seen twice (a contacts page and a ticket's embedded requester) becomes one row, later
    objects' columns over earlier ones'. A column no object carried yields to the stored
    row (a partial object never blanks what a fuller one gave), and so do always tier,
    region, segment, churned_at and created_at (a CRM's, imported as `customers` under the
    same source: the help desk's created_at only fills a customer stored for the first time)."""

    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)

    def add(self, customer_id: str, values: dict[str, Any], line: int) -> None:
        unknown = {k for k in values if k not in CUSTOMER_COLUMNS}
        if unknown:  # a programming error: the vendor module asked for more than the contract's columns
            raise ValueError(f"customer columns {sorted(unknown)} are not among {CUSTOMER_COLUMNS}")
        for k, v in values.items():
            if k != "created_at" and v is not None and not isinstance(v, str):
                raise Malformed(f"{k} {v!r} is not text")
        values = {k: (v.strip() or None) if isinstance(v, str) else v for k, v in values.items()}
        self.rows.setdefault(customer_id, {}).update(values)
        self.lines.setdefault(customer_id, line)

    def land_into(self, batch: Batch) -> None:
        """Add the rows to `batch` (each at the line of its first object)."""
        for cid, values in self.rows.items():
            # origin yields too: a customer a customers file stored first stays one (counted by
            # the customer metrics); one only the help desk knows is marked `helpdesk` (not counted)
            weak = (*(c for c in _CUSTOMER_ALL if c not in values or c in _CUSTOMER_STORED), "origin")
            batch.add("customers", {"customer_id": cid, **values, "origin": "helpdesk", YIELDS: weak},
                      self.lines[cid])


@dataclass(frozen=True)
class ConnectorSummary:
    """What a connector import did, one reconciled ImportSummary per canonical table."""

    vendor: str
    path: str
    tables: dict[str, ImportSummary]

    def to_dict(self) -> dict[str, Any]:
        return {"vendor": self.vendor, "path": self.path, "tables": {k: v.to_dict() for k, v in self.tables.items()}}

    def __str__(self) -> str:
        if not self.tables:
            return f"Nothing to import from {self.path}: no {self.vendor} objects found."
        return "\n".join(str(s) for s in self.tables.values())


def page_files(path: Path) -> list[Path]:
    """The files of an import: the file itself, or a folder's JSON files by name."""
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(PAGE_SUFFIXES))
        if not files:
            raise ImportFileError(f"{path} holds no .json or .jsonl files; export API pages into it first.")
        return files
    raise ImportFileError(f"{path} does not exist; give a saved API page, a JSON Lines file or a folder of them.")


def read_pages(path: Path) -> Iterator[Page]:
    """Every page of the files under `path`: a .json file is one page (or a JSON array
    of pages); a JSON Lines file holds one page or one object per line."""
    for file in page_files(path):
        opener = gzip.open if file.suffix == ".gz" else open
        if not file.name.lower().removesuffix(".gz").endswith(".json"):
            yield from _json_lines(file, opener)
            continue
        with opener(file, "rt", encoding="utf-8-sig") as fh:
            text = fh.read()
        if not text.strip():
            raise ImportFileError(f"{file} is empty.")
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportFileError(
                f"{file} is not JSON ({exc.msg} at line {exc.lineno}); save the API response as it came, "
                "or one object per line in a .jsonl file."
            ) from None
        del text  # the page is held once, as objects, while it is converted
        if isinstance(body, list):
            yield from (Page(file, 1, n, item) for n, item in enumerate(body, start=1))
        else:
            yield Page(file, 1, None, body)


def _json_lines(file: Path, opener: Callable[..., Any]) -> Iterator[Page]:
    """A JSON Lines file line by line: a large export is never whole in memory."""
    seen = False
    with opener(file, "rt", encoding="utf-8-sig") as fh:
        for i, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            seen = True
            line = line.rstrip("\n")
            try:
                body = json.loads(line)
            except json.JSONDecodeError as exc:
                body = _Unreadable(line, exc.msg)
            yield Page(file, i, None, body)
    if not seen:
        raise ImportFileError(f"{file} is empty.")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while API pages become rows. Parsed JSON is
    trees, freed by reference counting; the collector would only walk the millions of
    dicts an export parses into, over and over (measured: a third of a Zendesk import's
    time). It runs again, as it was, when the rows are made."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@dataclass(frozen=True)
class SavedPages:
    """The pages of the files under `path`, read afresh on each pass: a converter that
    looks things up before it converts reads the files twice rather than holding them."""

    path: Path

    def __iter__(self) -> Iterator[Page]:
        return read_pages(self.path)


@dataclass(frozen=True)
class _Unreadable:
    text: str
    error: str


def unreadable(body: Any) -> str | None:
    """Why a page could not be read as JSON, or None."""
    return f"the line is not JSON ({body.error})" if isinstance(body, _Unreadable) else None


def unreadable_text(body: Any) -> str:
    return body.text if isinstance(body, _Unreadable) else json.dumps(body, default=str)


def arrow_schema(table: str) -> pa.Schema:
    return pa.schema([pa.field(c.name, _ARROW[c.type]) for c in TABLES[table].columns])


def record_batch(table: str, rows: list[dict[str, Any]]) -> pa.RecordBatch:
    """Rows in a canonical table's exact schema (missing keys are nulls, others ignored).
    Built column by column from the keys each row has: a row sets a few of the columns."""
    schema = arrow_schema(table)
    n = len(rows)
    cols: dict[str, list[Any]] = {}
    for i, row in enumerate(rows):
        for k, v in row.items():
            col = cols.get(k)
            if col is None:
                col = cols[k] = [None] * n
            col[i] = v
    return pa.RecordBatch.from_arrays(
        [pa.array(cols[f.name], f.type) if f.name in cols else pa.nulls(n, f.type) for f in schema], schema=schema)


def arrow_table(table: str, chunks: list[pa.RecordBatch], rows: Iterable[dict[str, Any]] = ()) -> pa.Table:
    """Record batches and rows of a canonical table as one table in its exact schema."""
    return pa.Table.from_batches([*chunks, record_batch(table, list(rows))], schema=arrow_schema(table))


class _RowsSource(RelationSource):
    """Canonical rows in the engine, with the objects rejected before them and the line
    each row came from (so a row the checks refuse is quarantined at its line)."""

    needs_positions = True

    def __init__(self, name: str, rejects: list[Reject], lines: list[int]) -> None:
        super().__init__(name)
        self._rejects, self._lines = rejects, lines
        self.format = "json"

    def rejects(self, con: Any) -> list[Reject]:
        return list(self._rejects)

    def positions(self, ords: Iterable[int], rejects: list[Reject]) -> dict[int, int]:
        return {o: self._lines[o] if o < len(self._lines) else 0 for o in ords}


def _yield_to_stored(ws: Workspace, table: str, source: str, rows: pa.Table,
                     weak: dict[int, tuple[str, ...]]) -> pa.Table:
    """`rows` with the weak columns of the rows in `weak` taken from the stored row of the
    same key in `source`, where there is one (so an equal row counts as unchanged)."""
    (key,) = [k for k in TABLES[table].key if k != "source"]
    keys = rows.column(key).to_pylist()
    cols = sorted({c for names in weak.values() for c in names})
    stored = {r[0]: dict(zip(cols, r[1:])) for r in ws.con.execute(
        f"SELECT {key}, {', '.join(cols)} FROM {table} WHERE source = ? AND {key} IN (SELECT unnest(?::VARCHAR[]))",
        [source, sorted({str(keys[i]) for i in weak})]).fetchall()}
    values = {c: rows.column(c).to_pylist() for c in cols}
    for i, names in weak.items():
        old = stored.get(str(keys[i]))
        for c in names if old is not None else ():
            values[c][i] = old[c]
    for c in cols:
        at = rows.schema.get_field_index(c)
        rows = rows.set_column(at, rows.schema.field(at), pa.array(values[c], rows.schema.field(at).type))
    return rows


def land(ws: Workspace, vendor: str, path: Path | str, batch: Batch, *, source: str) -> ConnectorSummary:
    """Run each canonical table of `batch` through the import pipeline. `path` is the
    import's file or folder, or a label such as `sync` or `webhook` for rows that came
    another way; the import log names it, so landing the same path again replaces its
    quarantine entries."""
    label = f"{vendor}:{path.resolve() if isinstance(path, Path) else path}"
    out: dict[str, ImportSummary] = {}
    for table in LAND_ORDER:
        rejects = batch.rejects[table]
        if not batch.count(table) and not rejects:
            continue
        name = f"_cx_connector_{table}"
        with ws._write_lock, translate_errors():
            rows = batch.table(table)
            if batch.yields.get(table):
                rows = _yield_to_stored(ws, table, source, rows, batch.yields[table])
            ws.con.register(name, rows)
            try:
                out[table] = _pipeline.run(
                    ws.con, canonical(table), _RowsSource(name, rejects, batch.lines[table]), file_label=label,
                    path=None, mapping=Mapping(), default_source=source, timezone_name=ws.settings.timezone,
                    currency=ws.settings.currency,
                )
            finally:
                ws.con.unregister(name)
    if batch.kept:
        with ws._write_lock, translate_errors():
            for kind, objs in batch.kept.items():
                put_objects(ws.con, vendor, kind, objs)
    return ConnectorSummary(vendor, str(path), out)
