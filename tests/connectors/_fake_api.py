"""What every fake vendor API of the sync tests shares: serving an ASGI app on a local
port, injecting faults at chosen requests, and the SIGKILL harness.

    app = Faults(my_fake_vendor_app, {3: "429", 5: "500", 8: "drop"})
    with serve(app) as base_url:  # http://127.0.0.1:PORT
        ...  # point [connectors.VENDOR] base_url at it

Faults count requests from 1 over the app's lifetime; "429" answers 429 with
`Retry-After: 1`, "500" answers 500, "drop" starts a response promising 1,000 bytes,
sends 10 and closes the connection (a connection dropped mid-page).
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

Scope = dict[str, Any]
ASGI = Callable[..., Any]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Faults:
    """An ASGI app that answers request n (1-based) with the fault `plan[n]` and passes
    every other request to `app`; `log` holds (n, method, path, query) of each request."""

    def __init__(self, app: ASGI, plan: dict[int, str] | None = None, *, delay_s: float = 0.0) -> None:
        self.app, self.plan, self.delay_s = app, dict(plan or {}), delay_s
        self.log: list[tuple[int, str, str, str]] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with self._lock:
            n = len(self.log) + 1
            self.log.append((n, scope["method"], scope["path"], scope.get("query_string", b"").decode()))
        if self.delay_s:
            import asyncio

            await asyncio.sleep(self.delay_s)  # gives a SIGKILL time to land mid-sync
        fault = self.plan.get(n)
        if fault in ("429", "500"):
            headers = [(b"content-type", b"application/json")]
            if fault == "429":
                headers.append((b"retry-after", b"1"))
            await send({"type": "http.response.start", "status": int(fault), "headers": headers})
            await send({"type": "http.response.body", "body": b'{"error": "injected"}'})
            return
        if fault == "drop":
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")]})
            await send({"type": "http.response.body", "body": b'{"tickets"', "more_body": True})
            raise ConnectionResetError("injected: connection dropped mid-page")
        await self.app(scope, receive, send)


@contextmanager
def serve(app: ASGI) -> Iterator[str]:
    """Serve `app` on a free local port in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the fake API did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def cli(workspace: Path, *args: str, env: dict[str, str] | None = None) -> list[str]:
    """The command line of `cxmetrics -w WORKSPACE ARGS` in this interpreter."""
    return [sys.executable, "-m", "cxmetrics", "-w", str(workspace), *args]


def kill_and_resume(cmd: list[str], env: dict[str, str], *, kills: int, seed: int, max_wait_s: float = 3.0,
                    timeout_s: float = 300.0) -> int:
    """Start `cmd`, SIGKILL it after a random 0.3..max_wait_s seconds, `kills` times (a run
    that finished first counts as one), then run it to the end; returns how many runs
    were killed. The store it leaves is what the test compares."""
    rnd = random.Random(seed)
    killed = 0
    for _ in range(kills):
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            proc.wait(timeout=rnd.uniform(0.3, max_wait_s))
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            killed += 1
        else:
            err = proc.stderr.read().decode() if proc.stderr else ""
            proc.stderr and proc.stderr.close()
            if proc.returncode != 0:
                raise AssertionError(f"{cmd} failed ({proc.returncode}): {err}")
            continue
        if proc.stderr:
            proc.stderr.close()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout_s)
    if done.returncode != 0:
        raise AssertionError(f"{cmd} failed ({done.returncode}): {done.stderr}")
    return killed


def table_rows(workspace: Path, table: str, columns: str = "*") -> list[tuple[Any, ...]]:
    """Every row of a canonical table (no import bookkeeping), sorted: what two syncs must agree on."""
    import duckdb

    con = duckdb.connect(str(workspace / "cxmetrics.duckdb"), read_only=True)
    try:
        cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
        keep = [c for c in cols if not c.startswith("_")]  # _hash, _import_id: bookkeeping
        return sorted(con.execute(f"SELECT {', '.join(keep) if columns == '*' else columns} FROM {table}").fetchall(),
                      key=repr)
    finally:
        con.close()
