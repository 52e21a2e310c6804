"""What a library call and its answer look like on the wire between a local client and
the server that holds the workspace (`POST /_local/call`).

Plain JSON values go as they are; everything else is tagged `{"$t": type, "v": value}`:
dates and datetimes as ISO text, Arrow tables in Arrow IPC (base64), and the library's
own small records (MetricTable, ImportSummary, Settings, Mapping) by their fields; a
table sent to the server goes through a private file (request bodies are capped). Errors
travel as their class name, message and attributes, and are raised again as the same
class on the client.

>>> from datetime import date
>>> decode(encode({"when": date(2026, 1, 2), "n": (1, 2)}))
{'when': datetime.date(2026, 1, 2), 'n': [1, 2]}
"""

from __future__ import annotations

import base64
import builtins
import dataclasses
import os
import tempfile
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

import pyarrow as pa

from cxmetrics import errors
from cxmetrics.ingest import ImportSummary, Mapping
from cxmetrics.metrics._query import MetricTable
from cxmetrics.settings import Settings

_RECORDS: dict[str, type[Any]] = {"import_summary": ImportSummary, "settings": Settings, "mapping": Mapping}
_RECORD_NAMES = {cls: name for name, cls in _RECORDS.items()}


def _table_bytes(table: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return base64.b64encode(sink.getvalue().to_pybytes()).decode("ascii")


class TableFile(str):
    """The path of a table written by `write_table_file`, sent as the table it holds."""


def write_table_file(table: pa.Table) -> str:
    """`table` in Arrow IPC in a new file only this user can read; its path."""
    fd, path = tempfile.mkstemp(prefix="cxmetrics-", suffix=".arrows")  # mode 0600
    with os.fdopen(fd, "wb") as f, pa.ipc.new_stream(f, table.schema) as writer:
        writer.write_table(table)
    return path


def _table(text: str) -> pa.Table:
    return pa.ipc.open_stream(base64.b64decode(text)).read_all()


def encode(value: Any) -> Any:
    """`value` as JSON-ready data (see the module's docstring)."""
    if isinstance(value, TableFile):
        return {"$t": "arrow_file", "v": str(value)}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):  # before date: a datetime is a date
        return {"$t": "datetime", "v": value.isoformat()}
    if isinstance(value, date):
        return {"$t": "date", "v": value.isoformat()}
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {"$t": "dict", "v": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, pa.Table):
        return {"$t": "arrow", "v": _table_bytes(value)}
    if isinstance(value, MetricTable):
        return {"$t": "metric_table", "v": {"table": _table_bytes(value.table), "sql": list(value.sql)}}
    name = _RECORD_NAMES.get(type(value))
    if name is not None:
        return {"$t": name, "v": {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    raise TypeError(f"a {type(value).__name__} cannot be sent to the server that holds the workspace.")


def decode(data: Any) -> Any:
    """The value `encode` made `data` from."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "$t" not in data:  # a plain JSON object
        return {k: decode(x) for k, x in data.items()}
    tag, v = data.get("$t"), data.get("v")
    if tag == "datetime":
        return datetime.fromisoformat(v)
    if tag == "date":
        return date.fromisoformat(v)
    if tag == "dict":
        return {decode(k): decode(x) for k, x in v}
    if tag == "arrow":
        return _table(v)
    if tag == "arrow_file":  # a large table the client spilled to a private file (see RemoteWorkspace)
        with pa.memory_map(str(v)) as source:
            return pa.ipc.open_stream(source).read_all()
    if tag == "metric_table":
        return MetricTable(_table(v["table"]), tuple(v["sql"]))
    if tag in _RECORDS:
        cls = _RECORDS[tag]
        fields = {f.name: decode(v[f.name]) for f in dataclasses.fields(cls) if f.name in v}
        # tuples went as lists; the records are frozen dataclasses with tuple fields
        fields = {k: tuple(x) if isinstance(x, list) else x for k, x in fields.items()}
        return cls(**fields)
    raise ValueError(f"unknown value tag {tag!r} from the server")


def encode_error(exc: BaseException) -> dict[str, Any]:
    """An exception as data: its class, message and plain attributes."""
    attrs = {k: v for k, v in vars(exc).items() if isinstance(v, str | int | float | bool | list | tuple | None)}
    return {"type": type(exc).__name__, "message": str(exc), "attrs": encode(attrs)}


def decode_error(data: dict[str, Any]) -> BaseException:
    """The exception `encode_error` described: a cxmetrics error as its own class, a
    builtin one as itself, anything else as a RuntimeError naming it."""
    name, message = str(data.get("type", "")), str(data.get("message", ""))
    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, errors.CxError):
        exc: BaseException = cls.__new__(cls)
        Exception.__init__(exc, message)  # not cls.__init__: it may take other arguments (UnknownNameError)
        for key, value in (decode(data.get("attrs")) or {}).items():
            setattr(exc, key, value)
        return exc
    builtin = getattr(builtins, name, None)
    if isinstance(builtin, type) and issubclass(builtin, Exception):
        return builtin(message)
    return RuntimeError(f"{name}: {message}" if name else message)
