"""One import run: read, check, quarantine, merge, record; all or nothing.

The whole run is one engine transaction: a crash or a kill at any point leaves the
store exactly as it was. The stage query parses every value once, in the engine.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from cxmetrics.errors import ImportFileError, InternalError
from cxmetrics.ingest._columns import (
    DaySQL,
    column_sql,
    ident,
    lit,
    mapped_text,
    period_end_sql,
    period_start_sql,
    text_value,
    trimmed_ref,
    trimmed_sql,
)
from cxmetrics.ingest._kinds import ImportKind
from cxmetrics.ingest._mapping import Mapping
from cxmetrics.ingest._merge import merge, store_columns
from cxmetrics.ingest._progress import progress
from cxmetrics.ingest._prepare import ReadLimits
from cxmetrics.ingest._readers import Reject, Source
from cxmetrics.store import optimizers_off, rollback

DEFAULT_SOURCE = "default"
_SHARED_TRIM_ROWS = 20_000  # rows from which the stage trims each text column once (stage_sql)


@dataclass(frozen=True)
class ImportSummary:
    """What an import did. read = inserted + updated + unchanged + quarantined."""

    import_id: str
    kind: str
    file: str
    read: int
    inserted: int
    updated: int
    unchanged: int
    quarantined: int
    ignored_columns: tuple[str, ...] = field(default=())
    seconds: float = 0.0

    def to_dict(self) -> dict[str, int | str]:
        """The machine-readable summary: exactly these keys."""
        d = asdict(self)
        return {k: d[k] for k in ("import_id", "read", "inserted", "updated", "unchanged", "quarantined")}

    def __str__(self) -> str:
        lines = [
            f"Imported {self.kind} from {self.file} ({self.import_id}) in {self.seconds:.1f} s",
            f"  read         {self.read:>12,}",
            f"  inserted     {self.inserted:>12,}",
            f"  updated      {self.updated:>12,}",
            f"  unchanged    {self.unchanged:>12,}",
            f"  quarantined  {self.quarantined:>12,}",
        ]
        if self.quarantined:
            lines.append(f"  see: cxmetrics quarantine --import {self.import_id}")
        if self.ignored_columns:
            lines.append(f"  ignored columns (not part of the {self.kind} format): {', '.join(self.ignored_columns)}")
        return "\n".join(lines)


def normalise(name: str) -> str:
    """Header names compare case- and punctuation-blind: 'Ticket ID' is ticket_id."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def resolve_columns(
    kind: ImportKind, raw: list[tuple[str, str]], mapping: Mapping, where: str
) -> tuple[dict[str, int], list[str]]:
    """Which raw column feeds each input column; and the raw columns nobody reads."""
    mapping.check_against(kind.input_names, where)
    wanted = kind.input_names
    feeds: dict[str, int] = {}
    ignored = []
    have = ", ".join(n for n, _ in raw) or "none"
    # raw columns read otherwise: the date of times of day, the parts of combined columns
    used = {date_column_index(raw, mapping)}
    if mapping.date_column is not None and None in used:
        raise ImportFileError(
            f"{where} has no column {mapping.date_column}, which the mapping's [timestamps] date_column names "
            f"(its columns: {have}). Name the file's date column there."
        )
    for target, parts in mapping.combine.items():
        for part in parts:
            if raw_index(raw, part) is None:
                raise ImportFileError(
                    f"{where} has no column {part}, which the mapping's [combine] {target} names (its columns: "
                    f"{have}). Name the file's columns there."
                )
            used.add(raw_index(raw, part))
    for i, (name, _) in enumerate(raw):
        target = mapping.columns.get(name)
        if target is None:
            target = normalise(name) if normalise(name) in wanted else kind.aliases.get(normalise(name))
        if target in (None, "-") or target in feeds or target in mapping.combine:
            if i not in used:
                ignored.append(name)
            continue
        feeds[target] = i
    for target, parts in mapping.combine.items():
        feeds[target] = raw_index(raw, parts[0])  # type: ignore[assignment]  # checked above
    missing = [c.name for c in kind.inputs if c.required and c.name not in feeds]
    if missing:
        have = ", ".join(n for n, _ in raw) or "none"
        raise ImportFileError(
            f"{where} has no column {', '.join(missing)} (its columns: {have}); the {kind.name} format "
            f"needs {', '.join(c.name for c in kind.inputs if c.required)}. Rename the column in the file or map "
            "it in a mapping's [columns]."
        )
    return feeds, ignored


def raw_index(raw: list[tuple[str, str]], name: str) -> int | None:
    """The raw column a mapping names (exactly, else case- and punctuation-blind), if any."""
    names = [n for n, _ in raw]
    if name in names:
        return names.index(name)
    blind = [normalise(n) for n in names]
    return blind.index(normalise(name)) if normalise(name) in blind else None


def date_column_index(raw: list[tuple[str, str]], mapping: Mapping) -> int | None:
    """The raw column of the mapping's [timestamps] date_column, if any."""
    return None if mapping.date_column is None else raw_index(raw, mapping.date_column)


def _day_sql(raw: list[tuple[str, str]], feeds: dict[str, int], mapping: Mapping) -> DaySQL | None:
    """Where the bare times of day of this file find their date (see Mapping.date_column)."""
    j = date_column_index(raw, mapping)
    if j is None:
        return None
    a = feeds.get(mapping.next_day_before or "")
    anchor = None if a is None else text_value(f"_r{a}", raw[a][1])
    return DaySQL(text_value(f"_r{j}", raw[j][1]), anchor)


def stage_sql(kind: ImportKind, source: Source, raw: list[tuple[str, str]], feeds: dict[str, int],
              mapping: Mapping, default_source: str) -> str:
    typed, reasons = [], []
    day = _day_sql(raw, feeds, mapping)
    # text columns trimmed once, in a level of their own (`trimmed_ref`), unless the rows are
    # known to be few: the longer statement then costs more to plan than it saves (a POST of
    # 1,000 events: 14 -> 18 ms)
    many = source.rows is None or source.rows >= _SHARED_TRIM_ROWS
    texts = [i for i, (_, rtype) in enumerate(raw) if rtype == "VARCHAR"] if many else []
    for col in kind.inputs:
        i = feeds.get(col.name)
        ref = None if i is None else trimmed_ref(i) if i in texts else f"_r{i}"
        rtype = "VARCHAR" if i is None else raw[i][1]
        if col.name in mapping.combine:
            parts = [f"CAST(_r{raw_index(raw, p)} AS VARCHAR)" for p in mapping.combine[col.name]]
            ref, rtype = f"concat_ws('-', {', '.join(parts)})", "VARCHAR"
        sql = column_sql(col, ref, rtype, mapping, ref=ident(col.name), day=day)
        expr = sql.typed
        if col.name == "source":
            expr = f"coalesce({expr}, {lit(default_source)})"
        typed.append(f"{expr} AS {ident(col.name)}")
        if col.required:
            present = "NULL" if ref is None else mapped_text(col, ref, rtype, mapping)
            reasons.append(f"CASE WHEN {present} IS NULL THEN '{col.name} is missing' END")
        if sql.reason:
            reasons.append(sql.reason)
    derived = ", ".join(f"{sql} AS {ident(name)}" for name, sql in kind.derived)
    checks = ["_parse_error", *reasons, *kind.checks]
    reason = "nullif(concat_ws('; ', " + ", ".join(checks) + "), '')"
    names = [ident(c.name) for c in kind.inputs] + [ident(n) for n, _ in kind.derived]
    # window functions reorder rows, and the stage's rowids must be the file's positions: a
    # windowed kind numbers the rows first (a streaming window keeps the scan's order) and
    # sorts back by that number
    position, order = (", row_number() OVER () AS _pos", "ORDER BY _pos") if kind.windowed else ("", "")
    return f"""
        SELECT {", ".join(names)}, _blank, _reason,
               CASE WHEN _reason IS NOT NULL THEN {source.rawtext_sql(raw)} END AS _rawtext
        FROM (
            SELECT *, {reason} AS _reason FROM (
                SELECT *{', ' + derived if derived else ''} FROM (
                    SELECT *, {", ".join(typed)} FROM (
                        SELECT *{"".join(f", {trimmed_sql(f'_r{i}')} AS {trimmed_ref(i)}" for i in texts)}
                        FROM (SELECT *{position} FROM ({source.select_sql(raw)}))
                    )
                )
            )
        )
        {order}
    """


def valid_sql(kind: ImportKind, currency: str) -> str:
    """The store columns of the good rows, plus the inputs the kind's follow-up needs."""
    cols = store_columns(kind.table)
    exprs = []
    for c in cols:
        if c == "period_start":
            exprs.append(f"{period_start_sql('period')} AS period_start")
        elif c == "period_end":
            exprs.append(f"{period_end_sql('period')} AS period_end")
        elif c in kind.input_names or c in kind.target:
            exprs.append(f"{kind.target_sql(c).replace('$currency', lit(currency))} AS {ident(c)}")
        else:
            exprs.append(f"NULL AS {ident(c)}")
    extra = [ident(c.name) for c in kind.inputs if c.name not in cols]
    extra += [ident(n) for n, _ in kind.derived if n not in cols]
    return (
        f"SELECT {', '.join(exprs + extra)}, rowid AS _ord "
        "FROM _stage WHERE _reason IS NULL AND NOT _blank"
    )


def run(con: duckdb.DuckDBPyConnection, kind: ImportKind, source: Source, *, file_label: str,
        path: Path | None, mapping: Mapping, default_source: str | None, timezone_name: str,
        currency: str, show_progress: bool = False, tmp_dir: Path | None = None,
        limits: ReadLimits | None = None) -> ImportSummary:
    """Import `source` as `kind`. `file_label` names the file in the import log and keys the
    quarantine: a later import of the same label (kind and source) replaces what it held.
    With `tmp_dir`, text files are first bounded by `limits` (line length, decompressed size)."""
    if tmp_dir is not None:
        source.prepare(tmp_dir, limits or ReadLimits(), file_label)
    try:
        return _run(con, kind, source, file_label=file_label, path=path, mapping=mapping,
                    default_source=default_source, timezone_name=timezone_name, currency=currency,
                    show_progress=show_progress, tmp_dir=tmp_dir)
    finally:
        source.cleanup(con)


_ID_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def new_import_id(started_at: datetime) -> str:
    """An import's id: its start in milliseconds since 1970 in 8 base-36 digits, then the start
    readable and 6 random hex digits (`mj3s0k2x_20261205_223000_a1b2c3`). Ids sort by start.

    The leading 8 characters differ from one millisecond to the next because the engine's
    statistics keep only a text's first 8 bytes per row group: so the refreshes' search for the
    rows of the few imports not reflected yet (`store._reflected.new_rows`) skips every row group
    of older imports (a 14M-row events table: 21 ms -> 0.6 ms) instead of reading the column
    whole, as it must for ids that share their first 8 bytes (`imp_2026...`, the old form)."""
    ms = int(started_at.timestamp() * 1000)
    digits = ""
    for _ in range(8):
        ms, d = divmod(ms, 36)
        digits = _ID_DIGITS[d] + digits
    return f"{digits}_{started_at:%Y%m%d_%H%M%S}_{uuid.uuid4().hex[:6]}"


def _run(con: duckdb.DuckDBPyConnection, kind: ImportKind, source: Source, *, file_label: str,
         path: Path | None, mapping: Mapping, default_source: str | None, timezone_name: str,
         currency: str, show_progress: bool, tmp_dir: Path | None) -> ImportSummary:
    started = time.perf_counter()
    started_at = datetime.now(timezone.utc)
    import_id = new_import_id(started_at)
    checksum = source.checksum or (_sha256(path) if path is not None else None)
    src_name = default_source or mapping.source or DEFAULT_SOURCE
    raw = source.columns(con)
    feeds, ignored = resolve_columns(kind, raw, mapping, file_label)
    con.execute(f"SET TimeZone = {lit(mapping.timezone or timezone_name)}")
    in_transaction = False
    try:
        # The stage is a temp table built outside the store's transaction: its rowids
        # are then the rows' 0-based positions in the file, and it vanishes with the
        # process. Everything that touches the store happens in one transaction.
        # (`x IN (a, b, ...)` stays a test of each row: the optimizer otherwise turns a list of
        # more than a few values, a status checked against its eight, into a join with them,
        # and a join does not keep the rows in the order they came, while the stage's rows must
        # stay in the file's order: the last row of a key wins, a rejected row's line is its
        # position. With it, a 200,000-row file whose later rows repeat earlier keys kept the
        # earlier row about one import in three.)
        with progress(con, f"reading {file_label}", enabled=show_progress), optimizers_off(con, "in_clause"):
            try:
                con.execute(f"CREATE OR REPLACE TEMP TABLE _stage AS {stage_sql(kind, source, raw, feeds, mapping, src_name)}")
            except duckdb.InvalidInputException:
                # the fast parser gave up on the file (mixed line endings...): a tolerant
                # reader normalises it, or the error stands
                if tmp_dir is None or not source.tolerant(tmp_dir):
                    raise
                con.execute(f"CREATE OR REPLACE TEMP TABLE _stage AS {stage_sql(kind, source, raw, feeds, mapping, src_name)}")
        rejects = source.rejects(con)
        # the stage's order is fixed now; the writes below may go in parallel
        con.execute("SET preserve_insertion_order = false")
        con.execute("BEGIN TRANSACTION")
        in_transaction = True
        # the quarantine holds what the latest import of a file rejected
        con.execute(
            "DELETE FROM quarantine WHERE kind = ? AND file = ? AND import_id IN "
            "(SELECT import_id FROM imports WHERE source = ?)", [kind.name, file_label, src_name],
        )
        _quarantine_stage(con, source, rejects, import_id, kind.name, file_label)
        if rejects:
            con.executemany(
                "INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?, now())",
                [(import_id, kind.name, file_label, r.line, r.raw, r.reason) for r in rejects],
            )
        with progress(con, "merging", enabled=show_progress):
            # inputs the stored row does not hold as content: the hash covers them too (the
            # implied columns come from them)
            content = set(store_columns(kind.table)) - {c.name for c in kind.table.implied}
            extra = tuple(c.name for c in kind.inputs if c.name not in content)
            counts = merge(con, kind.table, valid_sql(kind, currency), import_id, extra)
            if kind.post is not None:
                kind.post(con, import_id, currency)
        read = con.execute("SELECT count(*) FROM _stage WHERE NOT _blank").fetchall()[0][0] + len(rejects)
        quarantined = con.execute("SELECT count(*) FROM quarantine WHERE import_id = ?", [import_id]).fetchall()[0][0]
        summary = ImportSummary(
            import_id, kind.name, file_label, read, counts.inserted, counts.updated, counts.unchanged,
            quarantined, tuple(ignored), time.perf_counter() - started,
        )
        if summary.read != summary.inserted + summary.updated + summary.unchanged + summary.quarantined:
            raise InternalError(f"import counts do not reconcile, nothing was stored: {summary.to_dict()}")
        con.execute(
            "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, now(), ?, ?, ?, ?, ?)",
            [import_id, kind.name, file_label, source.format, checksum, src_name, started_at,
             summary.read, summary.inserted, summary.updated, summary.unchanged, summary.quarantined],
        )
        con.execute("COMMIT")
        in_transaction = False
    except BaseException:
        if in_transaction:
            rollback(con)
        raise
    finally:
        _drop_temp(con, "_final", "_seq", "_stage")
        con.execute("SET preserve_insertion_order = true")
        con.execute(f"SET TimeZone = {lit(timezone_name)}")
    return summary


def _quarantine_stage(con: duckdb.DuckDBPyConnection, source: Source, rejects: list[Reject],
                      import_id: str, kind: str, file_label: str) -> None:
    """Move the stage's bad rows to the quarantine, each with its line (or row)."""
    where = "_reason IS NOT NULL AND NOT _blank"
    position, join = "s.rowid + 1", ""
    if source.needs_positions:
        ords = [r[0] for r in con.execute(f"SELECT rowid FROM _stage WHERE {where} ORDER BY rowid").fetchall()]
        if not ords:
            return
        found = source.positions(ords, rejects)
        con.register("_cx_positions", pa.table({"o": list(found), "line": list(found.values())}))
        position, join = "p.line", "LEFT JOIN _cx_positions p ON p.o = s.rowid"
    con.execute(f"""
        INSERT INTO quarantine
        SELECT ?, ?, ?, {position}, _rawtext, _reason, now() FROM _stage s {join} WHERE {where} ORDER BY s.rowid
    """, [import_id, kind, file_label])
    if source.needs_positions:
        con.unregister("_cx_positions")


def _drop_temp(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    """Drop the temp tables and views of these names that exist, in the order given. (A drop
    `IF EXISTS` of the wrong kind fails, and then the other kind is dropped: cheaper than a
    look in information_schema first, which with the drops cost an API batch's import 2.6
    ms at a million tickets, against 0.8 ms now.)"""
    for name in names:
        try:
            con.execute(f"DROP TABLE IF EXISTS temp.main.{name}")
        except duckdb.CatalogException:  # a view of that name
            con.execute(f"DROP VIEW IF EXISTS temp.main.{name}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
