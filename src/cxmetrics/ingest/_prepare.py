"""Before the engine reads a text file: bounded lines, bounded decompression.

The engine's CSV reader drops a line longer than its buffer without a word (a 70 MB
row vanished from `read`), and Python's `readline` reads a line whole, however long
(a 4 MB gzip without a newline grew the server past 4 GB). So every CSV or JSON Lines
file is first scanned in fixed-size blocks:

- a line longer than `max_line_size` becomes a `Reject` (its line, the start of its text,
  its length) and is blanked in the copy the engine reads, so line numbers stay right;
  a header that long refuses the file;
- a `.gz` file is decompressed into the workspace's `tmp/` (the engine then reads it in
  parallel), and refused as soon as it expands past `max_decompressed_size`.

A plain file with no over-long line is read where it is: the scan copies nothing.
"""

from __future__ import annotations

import gzip
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from cxmetrics.errors import ImportFileError
from cxmetrics.settings import Settings, format_size

if TYPE_CHECKING:
    from hashlib import _Hash as Hash

_BLOCK = 8 << 20  # bytes read at a time: memory stays flat whatever the file holds
_SHOWN = 200  # characters of an over-long line kept in the quarantine


@dataclass(frozen=True)
class ReadLimits:
    """How long a line, and how large a decompressed file, an import accepts."""

    line_bytes: int = 32 << 20
    decompressed_bytes: int = 2 << 30

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadLimits:
        return cls(settings.size("max_line_size"), settings.size("max_decompressed_size"))


@dataclass(frozen=True)
class LongLine:
    line: int
    length: int
    start: str


def is_gzip(path: Path) -> bool:
    return path.suffix.lower() == ".gz"


def prepare(path: Path, limits: ReadLimits, tmp_dir: Path, *, has_header: bool,
            name: str | None = None, digest: Hash | None = None) -> tuple[Path, list[LongLine]]:
    """The plain file the engine should read in place of `path`, and the over-long lines
    (blanked in it). The returned path is `path` itself when nothing needed changing;
    otherwise a file in `tmp_dir` the caller deletes. Errors call the file `name`.
    `digest` is fed the bytes of a plain (not compressed) file as they are scanned, so the
    import log's checksum costs no second read."""
    name = name or path.name
    if path.suffix.lower() == ".zst":  # no zstd in the standard library: it could not be capped
        raise ImportFileError(f"{name} is zstd-compressed, which cannot be imported: decompress it, or compress "
                              "it with gzip (.gz) instead.")
    out_path = path
    try:
        if is_gzip(path):
            out_path = tmp_dir / f"_cx_plain_{uuid.uuid4().hex}{''.join(path.suffixes[-2:-1]) or '.txt'}"
            with out_path.open("wb") as out:
                long_lines = _scan(_gunzip_blocks(path, limits.decompressed_bytes, name), limits.line_bytes, out,
                                   has_header)
        else:
            long_lines = _scan(_blocks(path, digest), limits.line_bytes, None, has_header)
            if long_lines:  # rare: copy once more, without them
                out_path = tmp_dir / f"_cx_plain_{uuid.uuid4().hex}{path.suffix or '.txt'}"
                with out_path.open("wb") as out:
                    _scan(_blocks(path), limits.line_bytes, out)
    except BaseException as exc:
        if out_path != path:
            out_path.unlink(missing_ok=True)
        if isinstance(exc, _HeaderTooLong):
            raise ImportFileError(
                f"the header line of {name} is over the {format_size(limits.line_bytes)} limit (at least "
                f"{format_size(exc.length)} without a line break): this is not a CSV header (a wrong file?). "
                "If it is one, raise max_line_size in settings.toml.") from None
        raise
    return out_path, long_lines


def _blocks(path: Path, digest: Hash | None = None) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            if digest is not None:
                digest.update(block)
            yield block


def _gunzip_blocks(path: Path, cap: int, name: str) -> Iterator[bytes]:
    """The decompressed bytes in blocks; ImportFileError once they pass `cap`."""
    total = 0
    try:
        with gzip.open(path, "rb") as fh:
            while block := fh.read(_BLOCK):
                total += len(block)
                if total > cap:
                    raise ImportFileError(
                        f"{name} expands to more than {format_size(cap)} when decompressed (the "
                        "max_decompressed_size setting): refused, as a decompression bomb would be. Import it "
                        "uncompressed, split it, or raise max_decompressed_size in settings.toml.")
                yield block
    except (OSError, EOFError, zlib.error) as exc:
        raise ImportFileError(f"{name} is not a readable gzip file: {exc}.") from None


class _HeaderTooLong(Exception):
    def __init__(self, length: int) -> None:
        self.length = length


def _scan(blocks: Iterator[bytes], cap: int, out: BinaryIO | None, header: bool = False) -> list[LongLine]:
    """Find lines longer than `cap` bytes (CR, LF and CRLF each end a line, as for the
    readers); write everything else to `out`, with each long line's text left out but
    its line break kept. Only the line in progress is held, and never more than `cap`.
    With `header`, stop at once (_HeaderTooLong) when the first line is over the cap."""
    found: list[LongLine] = []
    write: Callable[[bytes], object] = out.write if out is not None else (lambda b: None)
    line = 1  # number of the line in progress
    pending = bytearray()  # its bytes so far, while it is within the cap
    length = 0  # its length so far
    start = b""  # its first bytes, once it is over the cap
    prev_cr = False  # the last byte seen was a CR (a CRLF may straddle two blocks)
    for block in blocks:
        cut = max(block.rfind(b"\n"), block.rfind(b"\r")) + 1  # past the block's last line break
        if cut == 0:  # the line goes on
            length += len(block)
            if length <= cap:
                pending += block
            elif not start:
                start = bytes((pending + block)[:_SHOWN * 4])
                pending.clear()
            prev_cr = False
            if header and line == 1 and length > cap:
                raise _HeaderTooLong(length)
            continue
        head = block[:cut]
        if cap >= len(head):
            # a line wholly inside the block is shorter than the block, so within the cap:
            # only the line carried over from earlier blocks can be too long, and the block
            # need not be split into its lines
            parts = None
            fine = length + min(i for i in (head.find(b"\n"), head.find(b"\r")) if i >= 0) <= cap
        else:
            parts = head.replace(b"\r", b"\n").split(b"\n")  # same offsets as head; the last part is empty
            fine = length + len(parts[0]) <= cap and max(map(len, parts)) <= cap
        if fine:  # the common case: no long line
            write(bytes(pending))
            write(head)
            line += _breaks(head, prev_cr)
        else:
            if parts is None:
                parts = head.replace(b"\r", b"\n").split(b"\n")
            pos = 0
            for i, part in enumerate(parts[:-1]):
                end = pos + len(part)  # head[end] is the line break
                whole = (length if i == 0 else 0) + len(part)
                lf_of_crlf = head[end:end + 1] == b"\n" and ((end > 0 and head[end - 1:end] == b"\r")
                                                             or (end == 0 and prev_cr))
                if whole > cap:
                    first = start or bytes((pending if i == 0 else b"") + part[:_SHOWN * 4])
                    found.append(LongLine(line, whole, first.decode("utf-8", "replace")[:_SHOWN]))
                else:
                    write(bytes(pending) if i == 0 else b"")
                    write(part)
                write(head[end:end + 1])
                if not lf_of_crlf:
                    line += 1
                if i == 0:
                    pending.clear()
                    start = b""
                pos = end + 1
        pending.clear()
        start = b""
        tail = block[cut:]
        length = len(tail)
        if length <= cap:
            pending += tail
        else:
            start = bytes(tail[:_SHOWN * 4])
        prev_cr = head.endswith(b"\r") and not tail
        if header and found and found[0].line == 1:
            raise _HeaderTooLong(found[0].length)
    if length > cap:
        if header and line == 1:
            raise _HeaderTooLong(length)
        found.append(LongLine(line, length, start.decode("utf-8", "replace")[:_SHOWN]))
    else:
        write(bytes(pending))
    return found


def _breaks(data: bytes, prev_cr: bool) -> int:
    n = data.count(b"\n")
    if b"\r" in data:  # not LF only: three counts (the common case pays one)
        n += data.count(b"\r") - data.count(b"\r\n")
    if prev_cr and data.startswith(b"\n"):
        n -= 1  # the CR of a CRLF split across blocks was counted already
    return n
