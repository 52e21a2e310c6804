"""Using a workspace while a running server holds it.

DuckDB lets one process open a database file for writing, and a read-only open from
another process conflicts with it too. So while `cxmetrics serve` (or the demo's server)
runs, other processes go through it. The server writes `<workspace>/server.json` (mode
0600: its process id, a loopback URL and a random local token) and removes it when it
stops; then

- the CLI (`cxmetrics._remote_cli`) sends its command line to `POST /_local/cli`, which
  runs it in the server on the server's workspace, and prints what it printed, with its
  exit code;
- `cxmetrics.open(path)` returns a `RemoteWorkspace`, whose methods call
  `POST /_local/call`;
- inside the server process, `cxmetrics.open(path)` for the workspace it holds returns a
  cursor of the server's workspace (closing it leaves the server's open).

A server.json whose process is gone, or whose server does not answer, is ignored (the
next server replaces it). The token is as good as the workspace's files: whoever can
read server.json can read the database itself.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cxmetrics.errors import StoreError

SERVER_FILE = "server.json"
TOKEN_HEADER = "X-Cxmetrics-Local-Token"
# outside /api/v1: not part of the public API, and authenticated by the token alone
LOCAL_PREFIX = "/_local"
# a server.json this young whose server refuses connections is a server still starting
_STARTING_S = 20.0


@dataclass(frozen=True)
class ServerInfo:
    """A live server of another process holding a workspace, from its server.json."""

    pid: int
    url: str
    token: str


class ServerGone(Exception):
    """The server of a server.json did not answer (it stopped, or it is not a server)."""


# -- server.json ---------------------------------------------------------------------------

def write_server_file(workspace: str | os.PathLike[str], url: str, token: str) -> Path:
    """Record, atomically and readable by this user only, where the server listens."""
    folder = Path(workspace)
    path, tmp = folder / SERVER_FILE, folder / f".{SERVER_FILE}.{os.getpid()}.tmp"
    data = json.dumps({"pid": os.getpid(), "url": url, "token": token, "workspace": str(folder.resolve())})
    tmp.unlink(missing_ok=True)  # O_EXCL below: never reuse a file someone else may have opened
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def remove_server_file(workspace: str | os.PathLike[str], token: str) -> None:
    """Remove server.json if it is still this server's (it holds `token`)."""
    path = Path(workspace) / SERVER_FILE
    try:
        if json.loads(path.read_text("utf-8")).get("token") == token:
            path.unlink(missing_ok=True)
    except (OSError, ValueError, AttributeError):
        pass


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would send Ctrl+C there; the request will tell
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    except OSError:
        return False
    return True


def server_for(workspace: str | os.PathLike[str]) -> ServerInfo | None:
    """The server of another, live process that holds `workspace`, if its server.json says so."""
    path = Path(workspace) / SERVER_FILE
    try:
        data = json.loads(path.read_text("utf-8"))
        info = ServerInfo(int(data["pid"]), str(data["url"]).rstrip("/"), str(data["token"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if info.pid == os.getpid() or not _alive(info.pid):
        return None
    return info


def live_server(workspace: str | os.PathLike[str]) -> ServerInfo | None:
    """As `server_for`, but only a server that answers (with this token)."""
    info = server_for(workspace)
    if info is None:
        return None
    try:
        status, _ = post(info, "call", {"method": "schema_version", "args": [], "kwargs": {}}, Path(workspace))
    except ServerGone:
        return None
    return info if status == 200 else None


def post(info: ServerInfo, route: str, body: dict[str, Any], path: Path | None = None) -> tuple[int, Any]:
    """POST `body` as JSON to a local route; (status, decoded JSON answer). Raises
    ServerGone when nothing answers (then nothing ran there)."""
    request = urllib.request.Request(
        f"{info.url}{LOCAL_PREFIX}/{route}", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", TOKEN_HEADER: info.token},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy
    started = time.monotonic()
    while True:
        try:
            with opener.open(request, timeout=None) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            try:
                return exc.code, json.loads(exc.read())
            except ValueError:
                where = path / SERVER_FILE if path else SERVER_FILE
                raise StoreError(f"the server at {info.url} answered {exc.code} to a local request; "
                                 f"is it a cxmetrics server? (see {where})") from None
        except (urllib.error.URLError, ConnectionError) as exc:
            young = path is not None and _age(path / SERVER_FILE) < _STARTING_S
            if young and time.monotonic() - started < _STARTING_S:
                time.sleep(0.2)  # the server is still starting: its file is written before it listens
                continue
            raise ServerGone(str(exc)) from None


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return float("inf")


# -- the process that holds a workspace ------------------------------------------------------

_held: dict[Path, Callable[[], Any]] = {}
_held_lock = threading.Lock()


def hold(workspace: str | os.PathLike[str], opener: Callable[[], Any]) -> None:
    """This process holds `workspace`: `cxmetrics.open` of it returns `opener()` (a cursor)."""
    with _held_lock:
        _held[Path(workspace).resolve()] = opener


def release(workspace: str | os.PathLike[str]) -> None:
    with _held_lock:
        _held.pop(Path(workspace).resolve(), None)


def holds(workspace: str | os.PathLike[str]) -> bool:
    return Path(workspace).resolve() in _held


def routed(path: str | os.PathLike[str], *, read_only: bool = False) -> Any | None:
    """What `cxmetrics.open(path)` returns when a server holds the workspace (a cursor of
    it in the server's own process, a RemoteWorkspace in another), else None."""
    opener = _held.get(Path(path).resolve())
    if opener is not None:
        return opener()
    info = server_for(path)
    if info is None:
        return None
    from cxmetrics._remote_workspace import RemoteWorkspace

    return RemoteWorkspace.connect(path, info, read_only=read_only)
