"""`cxmetrics serve` in a process of its own, for tests that need a real server (a CLI command
forwarded to it, the API over a workspace another engine built)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(workspace: Path, *, cwd: Path | None = None,
            env: Mapping[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """(its URL, the process) once `/api/v1/health` answers; the test fails with the server's
    output if it does not start within 2 minutes. Stopped on leaving."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "cxmetrics", "-w", str(workspace), "serve", "--port",
                                str(port), "--no-open"], cwd=cwd, env=None if env is None else dict(env),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the server did not start: {process.communicate()[0]}")
        time.sleep(0.3)
    try:
        yield url, process
    finally:
        process.terminate()
