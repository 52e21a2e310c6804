"""`RemoteWorkspace`: what `cxmetrics.open(path)` returns while a server of another
process holds the workspace. It has the public methods of `Workspace`, with the same
arguments, answers and errors; each call runs in the server (`POST /_local/call`)
on the server's workspace, so the dashboard sees imports at once and answers agree.

What it cannot give is the engine's connection (`.con`): the server has it; a method
that needs it (or a helper that takes a Workspace and uses it) says so and names the fix.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from cxmetrics._remote import SERVER_FILE, ServerGone, ServerInfo, post
from cxmetrics._remote_codec import TableFile, decode, decode_error, encode, write_table_file
from cxmetrics._workspace import Workspace
from cxmetrics.errors import StoreError
from cxmetrics.ingest import ImportSummary, Mapping
from cxmetrics.settings import Settings

_WRITES = ("import_file", "import_table", "refresh", "configure")


class RemoteWorkspace(Workspace):
    """A workspace held by the server at `server.url`; use it as a `Workspace` (it is one
    for isinstance and type checks; each method runs in the server)."""

    def __init__(self, path: str | os.PathLike[str], server: ServerInfo, *, read_only: bool = False) -> None:
        # no Workspace.__init__: the server has the database open; this only names it
        self.path = Path(path)
        self.server = server
        self.read_only = read_only
        self._closed = False

    @classmethod
    def connect(cls, path: str | os.PathLike[str], server: ServerInfo, *,
                read_only: bool = False) -> RemoteWorkspace | None:
        """The workspace through its server, or None when the server does not answer
        (a stale server.json: the caller opens the file itself)."""
        ws = cls(path, server, read_only=read_only)
        try:
            ws._call("schema_version")
        except ServerGone:
            return None
        return ws

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if self._closed:
            raise StoreError(f"the workspace {self.path} is closed: open it again with cxmetrics.open().")
        if self.read_only and method in _WRITES:
            raise StoreError(f"the workspace {self.path} was opened read-only: {method} writes to it; "
                             "open it with cxmetrics.open(path) to write.")
        status, answer = post(self.server, "call", {"method": method, "args": encode(list(args)),
                                                    "kwargs": encode(kwargs)}, self.path)
        if status == 200 and isinstance(answer, dict) and "result" in answer:
            return decode(answer["result"])
        error = answer.get("error", {}) if isinstance(answer, dict) else {}
        details = error.get("details")
        if isinstance(details, dict) and "type" in details:
            raise decode_error(details)
        raise StoreError(f"the server at {self.server.url}/ that holds {self.path} answered {status}: "
                         f"{error.get('message', answer)}")

    # -- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> RemoteWorkspace:
        return self

    def __repr__(self) -> str:
        return f"<RemoteWorkspace {self.path} via {self.server.url}/>"

    def cursor(self, *, auto_refresh: bool = True) -> RemoteWorkspace:
        """Another handle on the same workspace (for another thread); close it when done."""
        return RemoteWorkspace(self.path, self.server, read_only=self.read_only)

    @property  # type: ignore[override]
    def con(self) -> Any:
        raise StoreError(
            f"the workspace {self.path} is held by the server at {self.server.url}/ (process {self.server.pid}), "
            "so this workspace has no engine connection of its own: use ws.sql(query) for queries, or stop the "
            f"server to use the connection (see {self.path / SERVER_FILE})."
        )

    @property  # type: ignore[override]
    def settings(self) -> Settings:
        return self._call("settings")  # type: ignore[no-any-return]

    @property
    def schema_version(self) -> int:
        return int(self._call("schema_version"))

    # -- imports ---------------------------------------------------------------------

    def import_file(self, kind: str, file: str | os.PathLike[str], *,
                    mapping: str | os.PathLike[str] | Mapping | None = None, source: str | None = None,
                    file_format: str | None = None, progress: bool = False,
                    label: str | None = None) -> ImportSummary:
        """Import a file; the server reads it, so relative paths are made absolute here
        (`progress` draws nothing: the server has no terminal of yours)."""
        if mapping is not None and not isinstance(mapping, Mapping):
            mapping = os.path.abspath(mapping)
        extra = {} if label is None else {"label": label}
        return self._call("import_file", kind, os.path.abspath(file), mapping=mapping,  # type: ignore[no-any-return]
                          source=source, file_format=file_format, **extra)

    def import_table(self, kind: str, table: pa.Table, *, source: str | None = None, label: str = "<table>",
                     mapping: Mapping | None = None, canonical: bool = False) -> ImportSummary:
        """Import rows in memory; they reach the server through a private temporary file
        (of any size: request bodies are capped)."""
        path = write_table_file(table)
        try:
            return self._call("import_table", kind, TableFile(path), source=source,  # type: ignore[no-any-return]
                              label=label, mapping=mapping, canonical=canonical)
        finally:
            os.unlink(path)


def _forward(name: str) -> Callable[..., Any]:
    """A method that runs Workspace's `name` in the server: its signature and docstring
    are Workspace's, so the two cannot drift apart."""
    method = getattr(Workspace, name)

    @functools.wraps(method)
    def call(self: RemoteWorkspace, *args: Any, **kwargs: Any) -> Any:
        return self._call(name, *args, **kwargs)

    return call


_FORWARDED = ("metrics", "compare", "scorecard", "topics", "refresh", "sql", "table", "counts", "quarantine",
              "imports", "annotation_time", "configure")
for _name in _FORWARDED:
    setattr(RemoteWorkspace, _name, _forward(_name))

#: the Workspace methods and properties the server answers for a RemoteWorkspace
METHODS = frozenset({*_FORWARDED, "import_file", "import_table", "settings", "schema_version"})
WRITES = frozenset(_WRITES)
