"""Who may read a workspace: its folder is 0700 and its files 0600 (owner only).

A workspace holds customer data, key hashes and the session secret, so nobody but the
account that runs cxmetrics should read it. New workspaces are made that way; opening
an older one (made 0755/0644) tightens it. The secret that signs session cookies lives
in its own 0600 file, never in the database.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp()) / "ws"
>>> make_private_dir(folder)
>>> oct(folder.stat().st_mode & 0o777)
'0o700'
>>> len(read_or_create_secret(folder / "session.key")), oct((folder / "session.key").stat().st_mode & 0o777)
(32, '0o600')
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

from cxmetrics.errors import StoreError

log = logging.getLogger("cxmetrics")

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_SECRET_BYTES = 32


def _restrict(path: Path, mode: int) -> None:
    """chmod `path` to `mode` when group or others have any access (never loosens)."""
    try:
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode) or not st.st_mode & 0o077:
            return
        os.chmod(path, mode)
    except FileNotFoundError:
        return  # removed meanwhile (a WAL file checkpointed away)
    except PermissionError:  # not ours (a shared folder): say so, do not fail the open
        log.warning("cannot restrict %s to its owner (not the owner?): other accounts may read it", path.name)


def make_private_dir(path: Path) -> None:
    """Create `path` (and its parents) if needed; the folder itself ends up 0700."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    _restrict(path, PRIVATE_DIR)


def tighten(folder: Path) -> None:
    """Make a workspace owner-only: the folder and its sub-folders 0700, the files in it
    0600 (one level down: the folder's own mode already keeps everyone else out of deeper ones)."""
    _restrict(folder, PRIVATE_DIR)
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if entry.is_symlink():
            continue  # a link the operator made points elsewhere on purpose
        _restrict(Path(entry.path), PRIVATE_DIR if entry.is_dir() else PRIVATE_FILE)


def read_or_create_secret(path: Path) -> bytes:
    """The 32-byte secret in `path` (hex text), made with mode 0600 when missing."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        _restrict(path, PRIVATE_FILE)
        text = path.read_text(encoding="ascii", errors="replace").strip()
        try:
            value = bytes.fromhex(text)
        except ValueError:
            value = b""
        if len(value) < _SECRET_BYTES:
            raise StoreError(f"{path.name} in the workspace is not a session secret (64 hex digits expected); "
                             "delete it and restart: a new one is made (everyone signs in again).") from None
        return value
    value = secrets.token_bytes(_SECRET_BYTES)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(value.hex() + "\n")
        out.flush()
        os.fsync(out.fileno())
    return value
