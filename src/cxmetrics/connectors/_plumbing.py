"""What every help-desk connector shares: reading saved API pages, and landing the
canonical rows a vendor module made through the import pipeline.

A vendor module (`zendesk.py`, ...) turns vendor objects into canonical rows and
rejects (`Batch`); `land` runs each canonical table through the same pipeline as
`cxmetrics import`, so reconciliation, quarantine and idempotency are the importer's.
Tables land in dependency order (agents, tickets, events, surveys), each in one
transaction: an interrupted import leaves whole tables, and running it again
completes it (ids are the vendor's own, so nothing is stored twice).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from cxmetrics._workspace import Workspace, translate_errors
from cxmetrics.connectors._state import put_objects
from cxmetrics.errors import ImportFileError
from cxmetrics.ingest import ImportSummary, Mapping
from cxmetrics.ingest import _pipeline
from cxmetrics.ingest._kinds import canonical
from cxmetrics.ingest._readers import RelationSource, Reject
from cxmetrics.model import TABLES, ColType

# the order tables land in: a survey answer may need its ticket stored first
LAND_ORDER = ("agents", "tickets", "events", "surveys")
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


@dataclass
class Batch:
    """Canonical rows per table, each with the line it came from; and the rejects."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {t: [] for t in LAND_ORDER})
    lines: dict[str, list[int]] = field(default_factory=lambda: {t: [] for t in LAND_ORDER})
    rejects: dict[str, list[Reject]] = field(default_factory=lambda: {t: [] for t in LAND_ORDER})
    # vendor objects kept as sent (connector_objects): kind -> [(id, object)]; lookups,
    # the vendor's own per-ticket numbers, configuration
    kept: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)

    def keep(self, kind: str, object_id: Any, obj: Any) -> None:
        """Keep a vendor object as sent, by kind and id (a later one of the same id wins)."""
        self.kept.setdefault(kind, []).append((str(object_id), obj))

    def add(self, table: str, row: dict[str, Any], line: int) -> None:
        self.rows[table].append(row)
        self.lines[table].append(line)

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
        with opener(file, "rt", encoding="utf-8-sig") as fh:
            text = fh.read()
        if not text.strip():
            raise ImportFileError(f"{file} is empty.")
        if file.name.lower().removesuffix(".gz").endswith(".json"):
            try:
                body = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ImportFileError(
                    f"{file} is not JSON ({exc.msg} at line {exc.lineno}); save the API response as it came, "
                    "or one object per line in a .jsonl file."
                ) from None
            if isinstance(body, list):
                yield from (Page(file, 1, n, item) for n, item in enumerate(body, start=1))
            else:
                yield Page(file, 1, None, body)
            continue
        for i, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                yield Page(file, i, None, json.loads(line))
            except json.JSONDecodeError as exc:
                yield Page(file, i, None, _Unreadable(line, exc.msg))


@dataclass(frozen=True)
class _Unreadable:
    text: str
    error: str


def unreadable(body: Any) -> str | None:
    """Why a page could not be read as JSON, or None."""
    return f"the line is not JSON ({body.error})" if isinstance(body, _Unreadable) else None


def unreadable_text(body: Any) -> str:
    return body.text if isinstance(body, _Unreadable) else json.dumps(body, default=str)


def arrow_table(table: str, rows: Iterable[dict[str, Any]]) -> pa.Table:
    """Rows in a canonical table's exact schema (missing keys are nulls)."""
    cols = TABLES[table].columns
    rows = list(rows)
    schema = pa.schema([pa.field(c.name, _ARROW[c.type]) for c in cols])
    return pa.Table.from_pylist([{c.name: r.get(c.name) for c in cols} for r in rows], schema=schema)


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


def land(ws: Workspace, vendor: str, path: Path | str, batch: Batch, *, source: str) -> ConnectorSummary:
    """Run each canonical table of `batch` through the import pipeline. `path` is the
    import's file or folder, or a label such as `sync` or `webhook` for rows that came
    another way; the import log names it, so landing the same path again replaces its
    quarantine entries."""
    label = f"{vendor}:{path.resolve() if isinstance(path, Path) else path}"
    out: dict[str, ImportSummary] = {}
    for table in LAND_ORDER:
        rows, rejects = batch.rows[table], batch.rejects[table]
        if not rows and not rejects:
            continue
        name = f"_cx_connector_{table}"
        with ws._write_lock, translate_errors():
            ws.con.register(name, arrow_table(table, rows))
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
