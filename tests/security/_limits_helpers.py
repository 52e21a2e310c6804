"""Setup for the body-cap, upload, long-row and bomb tests (issue 9, items 1-4 and 6): a
real server in its own process (so its memory can be read, and bodies stream over a real
socket), raw HTTP requests that show how much of a body was sent before the answer, and
small files."""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cxmetrics
from cxmetrics.api.auth import create_key

HEADER = "event_id,ticket_id,ts,kind\n"
_SERVER = """
import sys, uvicorn
from cxmetrics.api import create_app
app = create_app(sys.argv[1], watch_alerts=False)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", timeout_graceful_shutdown=1)
"""


@dataclass
class Server:
    """A server process over `path` with an admin and a viewer key."""

    host: str
    port: int
    path: Path
    admin: str
    viewer: str
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def peak_rss(self) -> int:
        """The server's peak resident memory so far, in bytes (Linux: VmHWM)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmHWM")

    def rss(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(path: Path, **settings: str) -> Iterator[Server]:
    """A new workspace at `path` with `settings`, served by a process of its own."""
    with cxmetrics.Workspace(path) as ws:
        if settings:
            ws.configure(**settings)
        _, admin = create_key(ws, "limits admin", "admin")
        _, viewer = create_key(ws, "limits viewer", "viewer")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", _SERVER, str(path), str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _, _ = request("127.0.0.1", port, "GET", "/api/v1/health", timeout=2)
                if status == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None:
                err = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
                raise AssertionError(f"the server did not start: {err}")
            assert time.monotonic() < deadline, "the server did not start in 60 s"
            time.sleep(0.2)
        yield Server("127.0.0.1", port, path, admin, viewer, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def request(host: str, port: int, method: str, path: str, *, headers: dict[str, str] | None = None,
            body: Iterable[bytes] = (), chunked: bool = False, length: int | None = None,
            timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request over a raw socket: (status, headers, body). The body is sent
    piece by piece (chunked, or with `length` as its Content-Length, which may promise
    more than is sent); sending stops once the server has answered or closed."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        head = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
        for k, v in (headers or {}).items():
            head.append(f"{k}: {v}")
        if chunked:
            head.append("Transfer-Encoding: chunked")
        elif length is not None:
            head.append(f"Content-Length: {length}")
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        sock.setblocking(False)
        received = b""
        try:
            for piece in body:
                received += _drain(sock)
                if received:
                    break  # answered (or closing): the rest is never sent
                data = (f"{len(piece):x}\r\n".encode() + piece + b"\r\n") if chunked else piece
                _send(sock, data)
            else:
                if chunked:
                    _send(sock, b"0\r\n\r\n")
        except OSError:
            pass  # the server closed the connection while the body was still coming
        sock.setblocking(True)
        sock.settimeout(timeout)
        try:
            while chunk := sock.recv(1 << 16):
                received += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    if not received:
        raise OSError("no answer")
    head_bytes, _, rest = received.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if hdrs.get("transfer-encoding") == "chunked":
        rest = _unchunk(rest)
    return status, hdrs, rest


def _drain(sock: socket.socket) -> bytes:
    try:
        return sock.recv(1 << 16)
    except BlockingIOError:
        return b""


def _send(sock: socket.socket, data: bytes) -> None:
    view = memoryview(data)
    deadline = time.monotonic() + 30
    while view:
        try:
            n = sock.send(view)
            view = view[n:]
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise TimeoutError("the server stopped reading") from None
            time.sleep(0.005)


def _unchunk(data: bytes) -> bytes:
    out = b""
    while data:
        size, _, data = data.partition(b"\r\n")
        n = int(size.split(b";")[0] or b"0", 16)
        if n == 0:
            break
        out, data = out + data[:n], data[n + 2:]
    return out


def error_of(body: bytes) -> dict[str, Any]:
    return json.loads(body)["error"]


def multipart(name: str, content: bytes, boundary: str = "cxmboundary") -> tuple[dict[str, str], bytes]:
    """(headers, body) of a form with one `file` field."""
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return {"Content-Type": f"multipart/form-data; boundary={boundary}"}, body


def events_csv(prefix: str, n: int, *, bad: int = 0) -> bytes:
    """`n` good events of ticket `prefix`-T and `bad` ones with an unknown kind."""
    rows = [f"{prefix}-{i},{prefix}-T,2025-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z,message\n" for i in range(n)]
    rows += [f"{prefix}-bad{i},{prefix}-T,2025-01-01T00:00:00Z,teleport\n" for i in range(bad)]
    return (HEADER + "".join(rows)).encode()


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6)


def gzip_of_repeats(unit: bytes, total: int, header: bytes = b"") -> bytes:
    """A gzip member of `header` and then `unit` repeated to about `total` bytes, made in
    blocks (the decompressed file never exists)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [comp.compress(header)]
    block = unit * max(1, (1 << 20) // len(unit))
    done = 0
    while done < total:
        out.append(comp.compress(block))
        done += len(block)
    out.append(comp.flush())
    return b"".join(out)

