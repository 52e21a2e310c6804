"""API benchmark: dashboard requests under 20 concurrent clients, and event ingest.

    .venv/bin/python bench/api_bench.py [--tickets 1000000] [--clients 20] [--seconds 20]

Builds a demo workspace of --tickets tickets once into bench/out/api_ws_<N>/ (reused on
later runs), starts `cxmetrics.api.create_app` under uvicorn in a subprocess, and measures:

1. first requests (nothing cached): the overview and each trends request once, timed alone;
2. 20 concurrent clients for --seconds with the result cache on (the server's default) and
   warm (step 1 filled it):
   every client alternates an overview request (the KPI tiles: CSAT, NPS, CES, FRT,
   resolution time, FCR, tickets, backlog, bot resolution, unanswered for the last 28 days,
   compared with the 28 days before) and a trends request (one metric by week by channel
   over a year, the metric rotating through csat, frt, fcr, tickets); p50/p95/max latency
   and requests/s. The clients are raw keep-alive HTTP/1.1 connections (asyncio streams),
   so the load generator takes little of the CPU the server needs;
3. the same load with the cache off (a server started with cache_entries=0): every request
   computed by the engine, the worst case; before it, --clients *different* overviews asked
   at once (each its own window and filter, so none can reuse another's work), and one alone;
4. event ingest: POST /api/v1/events batches of 1,000 events (250 new tickets x created,
   customer message, agent reply, solve), events/s until the metrics include them, three
   ways: one client whose every POST waits for the facts (read-after-write, the default);
   one client with wait=false (the facts of batches that arrive together are refreshed
   once, at most 0.5 s later; the clock stops when the last batch is visible); and four
   concurrent clients that wait (their batches share refreshes), --batches each (long enough
   for the text facts, which follow the facts at most 10 s behind a stream, to land inside
   the run: its steady state). Each part starts once the server has caught up with the
   parts before it (GET /api/v1/text/status: no pending tickets), so that none pays for
   another's text facts;
5. freshness: on a quiet server (the text facts caught up, the store checkpointed), the time
   from posting one new ticket until the overview's ticket count shows it, and until an open
   /api/v1/stream delivers the change.

Aims: p95 < 150 ms, >= 5,000 events/s. JSON goes to bench/out/api_<N>.json.
Each run adds its ingested events (source 'bench', ids unique per run) to the workspace.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import build_demo  # noqa: E402

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
OVERVIEW = ["csat", "nps", "ces", "frt", "full_resolution_time", "fcr", "tickets", "backlog", "bot_resolution_rate",
            "unanswered"]
TRENDS = ["csat", "frt", "fcr", "tickets"]


# -- the server -------------------------------------------------------------------------

def child_serve(workspace: str, port: int, cache_entries: int) -> None:
    import uvicorn

    from cxmetrics.api import create_app

    app = create_app(workspace, cache_entries=cache_entries)
    app.openapi()  # as `cxmetrics serve` does before it listens
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2)


class Server:
    def __init__(self, workspace: Path, cache_entries: int) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, __file__, "--child-serve", "--workspace", str(workspace),
                                      "--port", str(self.port), "--cache-entries", str(cache_entries)])
        started = time.perf_counter()
        while True:
            try:
                if httpx.get(f"{self.base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        self.startup_s = time.perf_counter() - started

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:  # still answering queued requests: no need to finish them
            self.proc.kill()
            self.proc.wait(30)


# -- requests ---------------------------------------------------------------------------

def overview_params(end: date, view: int = 0) -> dict[str, Any]:
    """The overview; `view` > 0 makes a different one (its window ends `view` days earlier,
    and every other view is for one channel), so no answer can be reused for another."""
    end = end - timedelta(days=view)
    params = {"metrics": ",".join(OVERVIEW), "from": str(end - timedelta(days=28)), "to": str(end),
              "compare_to": "previous"}
    if view % 2:
        params["where"] = "channel=" + ("email", "chat", "phone")[view // 2 % 3]
    return params


def different_overviews(base: str, headers: dict[str, str], end: date, views: int) -> dict[str, Any]:
    """`views` different overviews asked at once (a server without a result cache), as when
    that many people open the dashboard with their own filters: each one's latency."""
    async def run() -> list[float]:
        async def one(i: int) -> float:
            http = RawClient(base, headers)
            try:
                t0 = time.perf_counter()
                status, body, _ = await http.get("/api/v1/metrics", overview_params(end, 100 + i))
                if status != 200:
                    raise SystemExit(f"overview {i}: {status} {body[:200]!r}")
                return time.perf_counter() - t0
            finally:
                await http.close()
        return list(await asyncio.gather(*(one(i) for i in range(views))))

    lat = asyncio.run(run())
    # one alone (a view none of the above asked): what a single visitor waits
    t0 = time.perf_counter()
    httpx.get(f"{base}/api/v1/metrics", params=overview_params(end, 99), headers=headers,
              timeout=600).raise_for_status()
    alone = time.perf_counter() - t0
    ms = [x * 1000 for x in lat]
    return {"views": views, "p50_ms": pct(ms, 0.5), "p95_ms": pct(ms, 0.95), "max_ms": max(ms),
            "alone_ms": alone * 1000}


def trends_params(end: date, metric: str) -> dict[str, Any]:
    return {"metrics": metric, "by": "channel", "grain": "week", "from": str(end - timedelta(days=364)),
            "to": str(end)}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summary(latencies: list[float], seconds: float) -> dict[str, Any]:
    ms = [x * 1000 for x in latencies]
    return {"requests": len(ms), "rps": len(ms) / seconds, "p50_ms": pct(ms, 0.5), "p95_ms": pct(ms, 0.95),
            "max_ms": max(ms), "mean_ms": statistics.fmean(ms)}


class RawClient:
    """A minimal HTTP/1.1 keep-alive GET client on asyncio streams: the load generator runs
    on the same two cores as the server, so it must cost as little as possible (httpx
    costs a few ms of CPU per request; this a fraction of one)."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        host, _, port = base.removeprefix("http://").partition(":")
        self.host, self.port = host, int(port)
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, params: dict[str, Any]) -> tuple[int, bytes, float | None]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        target = path + "?" + urlencode(params)
        self.writer.write(f"GET {target} HTTP/1.1\r\nHost: {self.host}\r\n{self.extra}\r\n".encode())
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = next(int(x.split(":", 1)[1]) for x in lines[1:] if x.lower().startswith("content-length:"))
        timing = next((float(x.split("dur=", 1)[1]) for x in lines[1:] if x.lower().startswith("server-timing:")),
                      None)
        body = await self.reader.readexactly(length)
        return status, body, timing

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def load(base: str, headers: dict[str, str], end: date, clients: int, seconds: float) -> dict[str, Any]:
    """`clients` dashboards alternating overview and trends requests for `seconds`."""
    lat: dict[str, list[float]] = {"overview": [], "trends": []}
    server_ms: list[float] = []
    errors: list[str] = []
    stop_at = time.perf_counter() + seconds

    async def client(i: int) -> None:
        http = RawClient(base, headers)
        k = i
        try:
            while time.perf_counter() < stop_at:
                kind = "overview" if k % 2 == 0 else "trends"
                params = overview_params(end) if kind == "overview" else \
                    trends_params(end, TRENDS[(k // 2) % len(TRENDS)])
                t0 = time.perf_counter()
                status, body, timing = await http.get("/api/v1/metrics", params)
                dt = time.perf_counter() - t0
                if timing is not None:
                    server_ms.append(timing)
                if status != 200:
                    errors.append(f"{status} {body[:200]!r}")
                lat[kind].append(dt)
                k += 1
        finally:
            await http.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    wall = time.perf_counter() - t0
    both = lat["overview"] + lat["trends"]
    return {"clients": clients, "seconds": wall, "all": summary(both, wall),
            "overview": summary(lat["overview"], wall), "trends": summary(lat["trends"], wall),
            # the time the server spent on a request (its Server-Timing header), without the
            # wait for a turn on the CPU and the network
            "server_p50_ms": pct(server_ms, 0.5) if server_ms else None,
            "server_p95_ms": pct(server_ms, 0.95) if server_ms else None,
            "errors": errors[:5], "error_count": len(errors)}


def prime(base: str, headers: dict[str, str], end: date) -> dict[str, float]:
    """Ask every request of the load once (nothing cached yet): what a first visit waits."""
    out = {}
    for name, params in [("overview", overview_params(end)), *[(f"trends_{m}", trends_params(end, m)) for m in TRENDS]]:
        t0 = time.perf_counter()
        httpx.get(f"{base}/api/v1/metrics", params=params, headers=headers, timeout=600).raise_for_status()
        out[name + "_ms"] = (time.perf_counter() - t0) * 1000
    return out


def new_tickets(run: str, batch: int, n_tickets: int, day: date) -> list[dict[str, Any]]:
    """`n_tickets` conversations of 4 events each, on `day`, from 5,000 customers of this run (a
    customer's tickets are one repeat-contact group: customers shared with earlier runs would
    make every run's groups larger than the last's, and each run slower)."""
    out = []
    for i in range(n_tickets):
        t = f"{run}-{batch}-{i}"
        customer = f"BC-{run}-{(batch * n_tickets + i) % 5000}"
        hh, mm = 8 + i % 10, i % 60
        ts = f"{day}T{hh:02d}:{mm:02d}:00Z"
        out += [
            {"event_id": f"{t}-c", "ticket_id": t, "ts": ts, "kind": "created", "actor_type": "customer",
             "actor_id": customer, "channel": ("chat", "email", "phone")[i % 3], "priority": "normal",
             "team": "Tier 1", "topic": "billing"},
            {"event_id": f"{t}-m", "ticket_id": t, "ts": f"{day}T{hh:02d}:{mm:02d}:20Z", "kind": "message",
             "actor_type": "customer", "actor_id": customer, "public": True, "body": "Hello, I was charged twice"},
            {"event_id": f"{t}-r", "ticket_id": t, "ts": f"{day}T{hh:02d}:{mm:02d}:50Z", "kind": "message",
             "actor_type": "agent", "actor_id": "A0001", "public": True, "body": "Refunded, sorry about that"},
            {"event_id": f"{t}-s", "ticket_id": t, "ts": f"{day}T{hh + 1:02d}:{mm:02d}:00Z", "kind": "status",
             "actor_type": "agent", "actor_id": "A0001", "status_to": "solved"},
        ]
    return out


def ingest(base: str, headers: dict[str, str], end: date, batches: int, size: int, wait: bool,
           posters: int = 1) -> dict[str, Any]:
    """`batches` batches of `size` events from `posters` concurrent clients. With wait=False
    the clock stops when the facts include every batch (a last 1-event batch that waits)."""
    # ids that grow from run to run, as a help desk's ticket numbers do (random ones would spread
    # every run's ids over the whole range, so that the engine's min/max statistics could no
    # longer skip the row groups of earlier runs when it looks new tickets up: each run slower)
    run = f"{time.time_ns():x}"
    day = end - timedelta(days=2)
    times: list[float] = []
    stored = [0]
    lock = threading.Lock()

    def poster(p: int) -> None:
        with httpx.Client(timeout=300) as http:
            for b in range(p, batches, posters):
                body = new_tickets(run, b, size // 4, day)
                s = time.perf_counter()
                r = http.post(f"{base}/api/v1/events", json=body, headers=headers,
                              params={"source": "bench", "wait": str(wait).lower()})
                dt = time.perf_counter() - s
                r.raise_for_status()
                with lock:
                    times.append(dt)
                    stored[0] += r.json()["inserted"]

    t0 = time.perf_counter()
    threads = [threading.Thread(target=poster, args=(p,)) for p in range(posters)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if not wait:  # until everything is visible: a last event that waits for the facts
        marker = new_tickets(run + "-end", 0, 1, day)[:1]
        httpx.post(f"{base}/api/v1/events", json=marker, headers=headers, params={"source": "bench"},
                   timeout=300).raise_for_status()
    wall = time.perf_counter() - t0
    return {"batches": batches, "batch_events": size, "posters": posters, "wait": wait, "events": stored[0],
            "seconds": wall, "events_per_s": stored[0] / wall, "batch_p50_ms": pct(times, 0.5) * 1000,
            "batch_p95_ms": pct(times, 0.95) * 1000, "run": run}


def quiet(base: str, headers: dict[str, str], timeout: float = 300.0) -> None:
    """Until the server has caught up with earlier writes (their text facts follow the facts by
    up to 10 s): each ingest part then pays for its own work, not for the part before it."""
    deadline = time.perf_counter() + timeout
    while httpx.get(f"{base}/api/v1/text/status", headers=headers, timeout=60).json()["pending_tickets"]:
        if time.perf_counter() > deadline:
            raise SystemExit(f"the server's text facts did not catch up within {timeout:.0f} s")
        time.sleep(0.5)


def freshness(base: str, headers: dict[str, str], end: date) -> dict[str, Any]:
    """Post one new ticket; time until the overview counts it and until the stream says so."""
    params = {"metrics": "tickets", "from": str(end - timedelta(days=28)), "to": str(end)}
    before = httpx.get(f"{base}/api/v1/metrics", params=params, headers=headers, timeout=60).json()["rows"][0]["n"]
    got_change: dict[str, float] = {}
    ready = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", f"{base}/api/v1/stream", headers=headers, timeout=60) as r:
            for line in r.iter_lines():
                if line.startswith("event: hello"):
                    ready.set()
                if line.startswith("event: change"):
                    got_change["t"] = time.perf_counter()
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    ready.wait(30)
    body = new_tickets(f"fresh-{time.time_ns():x}", 0, 1, end - timedelta(days=1))
    t0 = time.perf_counter()
    r = httpx.post(f"{base}/api/v1/events", json=body, headers=headers, params={"source": "bench"}, timeout=120)
    post_s = time.perf_counter() - t0
    r.raise_for_status()
    while True:
        n = httpx.get(f"{base}/api/v1/metrics", params=params, headers=headers, timeout=60).json()["rows"][0]["n"]
        if n > before:
            break
        if time.perf_counter() - t0 > 60:
            raise SystemExit("the posted ticket did not show within 60 s")
    visible_s = time.perf_counter() - t0
    listener.join(10)
    return {"post_s": post_s, "visible_in_metric_s": visible_s,
            "stream_change_s": got_change["t"] - t0 if "t" in got_change else None, "count_before": before,
            "count_after": n}


# -- the workspace ----------------------------------------------------------------------

def workspace(tickets: int) -> Path:
    path = OUT / f"api_ws_{tickets}"
    if (path / "cxmetrics.duckdb").exists():
        return path
    OUT.mkdir(exist_ok=True)
    print(f"building a {tickets:,}-ticket demo workspace into {path} (once)...", flush=True)
    build_demo(path, tickets)
    return path


def prepare(path: Path) -> tuple[str, date, dict[str, int]]:
    """An admin key, the day after the last ticket, and the row counts (the server is not running)."""
    import cxmetrics
    from cxmetrics.api.auth import create_key

    with cxmetrics.open(path) as ws:
        _, token = create_key(ws, "api bench", "admin")
        last = ws.con.execute("SELECT strftime(max(created_at), '%Y-%m-%d') FROM tickets WHERE source = 'demo'"
                              ).fetchall()[0][0]
        counts = ws.counts()
    return token, date.fromisoformat(last) + timedelta(days=1), counts


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tickets", type=int, default=1_000_000)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--batches", type=int, default=20)
    p.add_argument("--batch-events", type=int, default=1000)
    p.add_argument("--parts", default="cached,ingest,uncached",
                   help="which parts to run, comma-separated: cached (first requests, the load with the cache "
                        "on), ingest (ingest and freshness), uncached (different overviews, the load with the "
                        "cache off)")
    p.add_argument("--workspace", help=argparse.SUPPRESS)
    p.add_argument("--child-serve", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--cache-entries", type=int, default=256, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child_serve:
        child_serve(args.workspace, args.port, args.cache_entries)
        return

    path = Path(args.workspace) if args.workspace else workspace(args.tickets)
    token, end, counts = prepare(path)
    headers = {"Authorization": f"Bearer {token}"}
    print(f"workspace {path}: {counts['tickets']:,} tickets, {counts['events']:,} events; window ends {end}",
          flush=True)
    result: dict[str, Any] = {"tickets": counts["tickets"], "events": counts["events"], "window_end": str(end),
                              "overview_metrics": OVERVIEW, "trends_metrics": TRENDS,
                              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                          "loadavg_before": os.getloadavg()}}

    parts = {x.strip() for x in args.parts.split(",")}
    if parts & {"cached", "ingest"}:
        server = Server(path, cache_entries=256)
        try:
            result["startup_s"] = server.startup_s
            if "cached" in parts:
                result["first_request"] = prime(server.base, headers, end)
                print(f"first (uncached) requests: {result['first_request']}", flush=True)
                result["load_cached"] = asyncio.run(load(server.base, headers, end, args.clients, args.seconds))
                print(f"cache on:  {result['load_cached']['all']} server p50/p95 "
                      f"{result['load_cached']['server_p50_ms']}/{result['load_cached']['server_p95_ms']} ms",
                      flush=True)
            if "ingest" in parts:
                result["ingest"] = {}
                for label, wait, posters in (("wait", True, 1), ("no_wait", False, 1), ("wait_4_posters", True, 4)):
                    quiet(server.base, headers)
                    r = ingest(server.base, headers, end, args.batches * posters, args.batch_events, wait, posters)
                    result["ingest"][label] = r
                    print(f"ingest {label}: {r['events_per_s']:,.0f} events/s (batch p50 {r['batch_p50_ms']:.0f} "
                          f"ms, p95 {r['batch_p95_ms']:.0f} ms)", flush=True)
                quiet(server.base, headers)
                time.sleep(2.0)  # and past the checkpoint a pause brings (1 s after the last write)
                result["freshness"] = freshness(server.base, headers, end)
                print(f"freshness: {result['freshness']}", flush=True)
        finally:
            server.stop()

    if "uncached" in parts:
        server = Server(path, cache_entries=0)
        try:
            result["different_overviews"] = different_overviews(server.base, headers, end, args.clients)
            print(f"{args.clients} different overviews at once (no cache): {result['different_overviews']}",
                  flush=True)
            result["load_uncached"] = asyncio.run(load(server.base, headers, end, args.clients, args.seconds))
            print(f"cache off: {result['load_uncached']['all']} server p50/p95 "
                  f"{result['load_uncached']['server_p50_ms']}/{result['load_uncached']['server_p95_ms']} ms",
                  flush=True)
        finally:
            server.stop()
    result["machine"]["loadavg_after"] = os.getloadavg()
    out = OUT / f"api_{counts['tickets']}.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    main()
