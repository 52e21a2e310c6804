r"""Refuse a file that is not text before its bytes are read as a header.

A binary file (an image, a spreadsheet, a Parquet file named `.csv`) read as CSV turns
its bytes into column names, and the error that follows lists them. A binary format's
signature, or a control byte (a NUL, say) in the first line, proves the file binary: a
header (or a first JSON object) never holds one. Control bytes further on are left to
the row checks, which quarantine the rows they break.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
>>> _ = p.write_bytes(b"id,t\x00s\n1,2\n")
>>> binary_at(p)
4
>>> _ = p.write_bytes(b"id,ts\n1,2\x00\x01\n")
>>> binary_at(p) is None
True
"""

from __future__ import annotations

import gzip
from pathlib import Path

from cxmetrics.errors import ImportFileError

HEAD_BYTES = 64 * 1024
# control bytes text may hold: tab, line feed, vertical tab, form feed, carriage return,
# escape (ANSI colours in logs), and SUB (the old DOS end-of-file mark)
_TEXT_CONTROLS = {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1B, 0x1A}
_MAGIC = {b"PAR1": "Parquet (use --file-format parquet)", b"PK\x03\x04": "a ZIP archive or an Excel workbook "
          "(export it as CSV)", b"\x89PNG": "a PNG image", b"%PDF": "a PDF document", b"\xd0\xcf\x11\xe0":
          "an old Excel or Word file (export it as CSV)"}


def _head(path: Path) -> bytes:
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rb") as fh:  # type: ignore[operator]
            return fh.read(HEAD_BYTES)
    except (OSError, EOFError):  # a broken .gz: the reader's own error says more
        return b""


def binary_at(path: Path, encoding: str = "utf-8") -> int | None:
    """The 0-based offset of the first byte no text header holds (in the first line), or
    None. A known binary signature is binary at byte 0; UTF-16 text holds NUL bytes by
    design, so it is only checked for those signatures."""
    head = _head(path)
    if any(head.startswith(m) for m in _MAGIC):
        return 0
    if encoding.lower().replace("_", "-").startswith("utf-16"):
        return None
    for i, byte in enumerate(head):
        if byte == 0x0A:  # the first line ends: the rest is rows
            return None
        if byte < 0x20 and byte not in _TEXT_CONTROLS:
            return i
    return None


def refuse_binary(path: Path, name: str, encoding: str = "utf-8") -> None:
    """Raise ImportFileError when the file is binary, naming what it looks like."""
    at = binary_at(path, encoding)
    if at is None:
        return
    head = _head(path)
    what = next((f"; it looks like {desc}" for magic, desc in _MAGIC.items() if head.startswith(magic)), "")
    raise ImportFileError(
        f"{name} is not a CSV, JSON Lines or Parquet file (binary data at byte {at}){what}. "
        "Import a UTF-8 text file (CSV or JSON Lines) or a Parquet file."
    )
