"""Load test under limits: readers, writers and one huge upload at once (issue 9).

    .venv/bin/python bench/load_bench.py [--upload-mb 1024] [--readers 20] [--writers 4] [--tickets 2000]

Builds a small demo workspace (--tickets) in a temporary folder, starts the server in a
subprocess, and runs at once:

- --readers clients, each in a loop: GET /api/v1/metrics (tickets, CSAT, FRT by week);
- --writers clients, each in a loop: POST /api/v1/events, a batch of 50 new events with
  ids unique to the run; a 503 (busy: the upload holds the workspace) is retried after
  its Retry-After, so every batch is stored in the end;
- one upload of --upload-mb MB of events CSV to POST /api/v1/imports/events, streamed
  from a generator (chunked: the file never exists on the client's disk).

The run stops when the upload has its answer (and at least --min-seconds have passed).
It reports the longest any request waited without an answer (aim: none over 5 s, the
upload's own answer aside), the server's peak RSS (aim: under 2 GB) and whether anything
was lost: every event a writer had stored, and every row of the upload, is counted in the
workspace after the server stops. JSON goes to bench/out/load_<upload-mb>.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
BOUNDARY = "cxmloadbench"
ROW = "U{i:010d},UT{t:05d},2025-06-01T{h:02d}:{m:02d}:{s:02d}Z,message\n"  # 46 bytes


def child_serve(workspace: str, port: int) -> None:
    import uvicorn

    from cxmetrics.api import create_app

    app = create_app(workspace, watch_alerts=False)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2)


def build_workspace(path: Path, tickets: int, upload_bytes: int, write_wait: str | None) -> str:
    import cxmetrics
    from cxmetrics.api.auth import create_key
    from cxmetrics.demo import DemoConfig, generate

    order = ("agents", "customers", "tickets", "events", "surveys", "survey_sends", "activity", "funnel", "costs",
             "annotations")
    with cxmetrics.Workspace(path) as ws:
        # the upload must fit the caps: the body cap, and no compression here
        ws.configure(max_upload_size=f"{max(1024, upload_bytes // (1 << 20) + 64)}MB")
        if write_wait is not None:
            ws.configure(write_wait=write_wait)
        for batch in generate(DemoConfig(tickets=tickets, seed=3)):
            for name in order:
                if name in batch and batch[name].num_rows:
                    ws.import_table(name, batch[name], source="demo", label=f"demo:{name}", canonical=True)
        ws.refresh()
        _, admin = create_key(ws, "load bench", "admin")
    return admin


def upload_body(total: int, rows: list[int]) -> Iterator[bytes]:
    """A multipart form whose file is `total` bytes of events CSV, made as it is sent."""
    yield (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"source\"\r\n\r\nload-upload\r\n"
           f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n"
           "Content-Type: text/csv\r\n\r\nevent_id,ticket_id,ts,kind\n").encode()
    sent, i = 0, 0
    while sent < total:
        block = "".join(ROW.format(i=j, t=j % 20000, h=j // 3600 % 24, m=j // 60 % 60, s=j % 60)
                        for j in range(i, i + 20000)).encode()
        i += 20000
        sent += len(block)
        yield block
    rows.append(i)
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upload-mb", type=int, default=1024)
    ap.add_argument("--readers", type=int, default=20)
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--tickets", type=int, default=2000)
    ap.add_argument("--min-seconds", type=float, default=20.0)
    ap.add_argument("--write-wait", help="the write_wait setting (default: the workspace default)")
    ap.add_argument("--child-serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--workspace", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_serve:
        child_serve(args.workspace, args.port)
        return

    upload_bytes = args.upload_mb * (1 << 20)
    tmp = Path(tempfile.mkdtemp(prefix="cxm-load-"))
    ws_path = tmp / "ws"
    admin = build_workspace(ws_path, args.tickets, upload_bytes, args.write_wait)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, __file__, "--child-serve", "--workspace", str(ws_path),
                             "--port", str(port)])
    auth = {"Authorization": f"Bearer {admin}"}
    try:
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        result = run(base, auth, args, upload_bytes, proc.pid)
        print(json.dumps({k: v for k, v in result.items() if k != "stored_prefixes"}, indent=2), flush=True)
    finally:
        proc.terminate()
        try:  # the server finishes the facts refresh of the upload before it stops
            proc.wait(900)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    result["lost"] = count_lost(ws_path, result)
    shutil.rmtree(tmp, ignore_errors=True)
    OUT.mkdir(exist_ok=True)
    out = OUT / f"load_{args.upload_mb}.json"
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print(f"written to {out}")


def run(base: str, auth: dict[str, str], args: argparse.Namespace, upload_bytes: int, pid: int) -> dict[str, Any]:
    stop = threading.Event()
    lock = threading.Lock()
    waits: dict[str, list[float]] = {"read": [], "write": []}
    statuses: dict[str, dict[int, int]] = {"read": {}, "write": {}}
    stored: list[str] = []  # batch prefixes a writer had stored (200)
    errors: list[str] = []

    def note(kind: str, took: float, status: int) -> None:
        with lock:
            waits[kind].append(took)
            statuses[kind][status] = statuses[kind].get(status, 0) + 1

    def reader() -> None:
        params = {"metrics": "tickets,csat,frt", "grain": "week", "from": "2025-01-01", "to": "2026-01-01"}
        with httpx.Client(base_url=base, headers=auth, timeout=120) as c:
            while not stop.is_set():
                t = time.perf_counter()
                try:
                    status = c.get("/api/v1/metrics", params=params).status_code
                except httpx.HTTPError as exc:
                    errors.append(f"read: {exc!r}")
                    status = 0
                note("read", time.perf_counter() - t, status)

    def writer(w: int) -> None:
        n = 0
        with httpx.Client(base_url=base, headers=auth, timeout=120) as c:
            while not stop.is_set():
                prefix = f"W{w}B{n}"
                batch = [{"event_id": f"{prefix}E{k}", "ticket_id": f"{prefix}T{k // 5}", "ts": "2026-11-02T10:00:00Z",
                          "kind": "created" if k % 5 == 0 else "message", "actor_type": "customer"} for k in range(50)]
                while True:
                    t = time.perf_counter()
                    try:
                        r = c.post("/api/v1/events", json=batch, params={"wait": "false", "source": "load"})
                        status = r.status_code
                    except httpx.HTTPError as exc:
                        errors.append(f"write: {exc!r}")
                        status = 0
                    note("write", time.perf_counter() - t, status)
                    if status == 200:
                        with lock:
                            stored.append(prefix)
                        break
                    if status != 503:
                        errors.append(f"write answered {status}: {r.text[:200]}")
                        break
                    time.sleep(float(r.headers.get("Retry-After", "1")))
                n += 1
                time.sleep(0.2)

    rows: list[int] = []
    upload: dict[str, Any] = {}

    def uploader() -> None:
        t = time.perf_counter()
        with httpx.Client(base_url=base, headers=auth, timeout=3600) as c:
            r = c.post("/api/v1/imports/events", content=upload_body(upload_bytes, rows),
                       headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
        upload.update(status=r.status_code, seconds=round(time.perf_counter() - t, 1),
                      answer={k: v for k, v in r.json().items() if k != "quarantine"} if r.status_code == 200
                      else r.json())

    started = time.perf_counter()
    threads = [threading.Thread(target=reader) for _ in range(args.readers)]
    threads += [threading.Thread(target=writer, args=(w,)) for w in range(args.writers)]
    for th in threads:
        th.start()
    time.sleep(2)
    up = threading.Thread(target=uploader)
    up.start()
    up.join()
    while time.perf_counter() - started < args.min_seconds:
        time.sleep(0.5)
    stop.set()
    for th in threads:
        th.join(180)
    seconds = time.perf_counter() - started
    return {
        "upload_mb": args.upload_mb, "write_wait_s": args.write_wait or "default", "readers": args.readers,
        "writers": args.writers, "seconds": round(seconds, 1),
        "upload": upload, "upload_rows_sent": rows[0] if rows else None,
        "longest_read_wait_s": round(max(waits["read"], default=0), 2),
        "longest_write_wait_s": round(max(waits["write"], default=0), 2),
        "waits_over_5s": sum(1 for k in waits for x in waits[k] if x > 5),
        "requests": {k: len(v) for k, v in waits.items()}, "statuses": statuses,
        "server_peak_rss_mb": round(peak_rss(pid) / (1 << 20)),
        "writer_batches_stored": len(stored), "stored_prefixes": stored, "errors": errors[:20],
    }


def count_lost(ws_path: Path, result: dict[str, Any]) -> dict[str, int]:
    """Events a writer was told were stored but are not, and upload rows not in the store."""
    import cxmetrics

    prefixes = result.pop("stored_prefixes")
    with cxmetrics.open(ws_path, read_only=True) as ws:
        have = dict(ws.con.execute(
            "SELECT split_part(event_id, 'E', 1), count(*) FROM events WHERE source = 'load' GROUP BY 1").fetchall())
        uploaded = ws.con.execute("SELECT count(*) FROM events WHERE source = 'load-upload'").fetchall()[0][0]
    missing = sum(50 - have.get(p, 0) for p in prefixes)
    sent = result.get("upload_rows_sent") or 0
    upload_ok = result["upload"].get("status") == 200
    return {"writer_events_missing": missing,
            "upload_rows_missing": (sent - uploaded) if upload_ok else uploaded}


if __name__ == "__main__":
    main()
