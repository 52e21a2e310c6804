"""One text column of a CSV or JSONL file, in file order, for the `cxmetrics text` commands.

The standard library reads both: every cell stays the exact string written (no type guessing),
an absent or null cell is an empty text, and the order is the file's, so output row i is input row i.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from cxmetrics.errors import ImportFileError, UnknownNameError

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}


def read_column(path: Path, column: str) -> list[str]:
    """The values of `column` in `path` (.csv, or .jsonl/.ndjson: one JSON object a line)."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ImportFileError(f"cannot tell the format of {path.name} from its extension: name it .csv or .jsonl.")
    if not path.is_file():
        raise ImportFileError(f"{path} does not exist or is not a file.")
    try:
        return _read_csv(path, column) if fmt == "csv" else _read_jsonl(path, column)
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path.name} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                              "save it as UTF-8.") from exc


def _read_csv(path: Path, column: str) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if column not in (reader.fieldnames or []):
            raise UnknownNameError("column", column, reader.fieldnames or [], listing=_listing(reader.fieldnames))
        return [row.get(column) or "" for row in reader]


def _read_jsonl(path: Path, column: str) -> list[str]:
    values: list[str] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ImportFileError(f"{path.name}, line {number}: not JSON ({exc.msg}); "
                                      "a .jsonl file holds one JSON object per line.") from exc
            if not isinstance(record, dict):
                raise ImportFileError(f"{path.name}, line {number}: a JSON object {{...}} was expected.")
            seen |= record.keys()
            value = record.get(column)
            values.append("" if value is None else value if isinstance(value, str) else json.dumps(value))
    if values and column not in seen:
        raise UnknownNameError("column", column, seen, listing=_listing(sorted(seen)))
    return values


def _listing(columns: list[str] | None) -> str:
    return f"Columns: {', '.join(columns or []) or '(none)'}."
