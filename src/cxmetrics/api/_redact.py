"""Keeping the server's file system out of what callers see.

Error messages and the import log are written for the operator, who knows where the
workspace lives; an API caller does not need to (and a viewer should not learn the
server's folders and user names). `redact_paths` cuts every absolute server path in a
text down to its last part (the file name, which is what a caller can act on); the import
log and quarantine show viewers a file's name only, admins the whole path.

>>> redact_paths("/tmp/ws/uploads/tickets.csv is empty: there is not even a header row.")
'tickets.csv is empty: there is not even a header row.'
>>> redact_paths("no such endpoint: GET /api/v1/nope (see /api/v1/openapi.json)")
'no such endpoint: GET /api/v1/nope (see /api/v1/openapi.json)'
>>> redact_paths(r"C:\\Users\\ann\\ws\\t.csv does not exist")
't.csv does not exist'
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cxmetrics.api._keys import Principal

# an absolute POSIX path (not inside a URL or a word) or a Windows drive path
_POSIX = re.compile(r"(?<![\w.:/~%-])/[^\s'\"`<>()\[\],;|]+")
_WINDOWS = re.compile(r"(?<![\w])[A-Za-z]:\\[^\s'\"`<>()\[\],;|]*")
_TRAILING = ".:!?"


@lru_cache(maxsize=256)
def _on_this_machine(first: str) -> bool:
    """Whether `/first` is a real top-level folder here (so `/api/v1/...` in a message, a
    URL path, is told apart from `/home/...`, a server path)."""
    return bool(first) and os.path.isdir("/" + first)


def _last_part(path: str, sep: str) -> str:
    tail = len(path) - len(path.rstrip(_TRAILING))
    core, end = path[:len(path) - tail], path[len(path) - tail:]
    parts = [p for p in core.split(sep) if p]
    return (parts[-1] if parts else "<server path>") + end


def _posix(match: re.Match[str]) -> str:
    path = match.group(0)
    first = path[1:].split("/", 1)[0]
    return _last_part(path, "/") if _on_this_machine(first) else path


def redact_paths(text: str) -> str:
    """`text` with each absolute server path cut to its last part."""
    if "/" not in text and "\\" not in text:
        return text
    text = _WINDOWS.sub(lambda m: _last_part(m.group(0), "\\"), text)
    return _POSIX.sub(_posix, text)


def file_name(path: str | None) -> str | None:
    """The last part of a path (POSIX or Windows), or the value itself when it has none."""
    if not path:
        return path
    return re.split(r"[\\/]", path.rstrip("\\/"))[-1] or path


def for_viewer(principal: Principal | None, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Import-log or quarantine rows as `principal` may see them: a viewer (or an unknown
    caller) gets each `file` as its name only and every text with server paths cut."""
    if principal is not None and principal.can("admin"):
        return rows
    shown = []
    for row in rows:
        out = {k: redact_paths(v) if isinstance(v, str) else v for k, v in row.items()}
        if "file" in row:
            out["file"] = file_name(row["file"])
        shown.append(out)
    return shown
