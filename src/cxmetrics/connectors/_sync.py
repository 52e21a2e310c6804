"""Live sync: a help desk's changes pulled through its REST API, page by page.

A vendor's sync (`zendesk_sync.py`, ...) is a `Source`: its streams (tickets, users,
ratings...), each fetching one API page at a time from a saved cursor, and the kept
lookups (users, groups) later pages are read against. This module runs them:

1. fetch: each page (with whatever sub-requests make it whole) is stored in
   `connector_pages` in the SAME transaction as the cursor after it. A sync killed at any
   point has either stored a page and moved its cursor, or neither: it resumes exactly.
2. land: every `land_every` pages, and at the end, the pending pages go through the
   vendor's converter (the one file imports use) and the import pipeline, then are
   deleted. Landing is idempotent (ids are the vendor's own), so a crash between landing
   and deleting only lands the same pages again, unchanged.

Retries (429 and Retry-After, 5xx, dropped connections) are the Client's (`_http.py`).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol

import httpx

from cxmetrics._workspace import Workspace, translate_errors
from cxmetrics.connectors import _state
from cxmetrics.connectors._http import Client, Retry, client_for
from cxmetrics.connectors._plumbing import Batch, Page, land
from cxmetrics.errors import ConnectorError
from cxmetrics.ingest import ImportSummary
from cxmetrics.store import rollback

DEFAULT_LOOKBACK = timedelta(days=30)  # a first sync without `start` reads this far back
LAND_EVERY = 50  # pages fetched between landings: bounds memory, and work lost to a crash


@dataclass(frozen=True)
class Fetched:
    """One step of a stream: the page bodies to land (shaped as the vendor's API returns
    them, so its converter reads them), how many objects they hold, the cursor to continue
    from, and whether the stream has nothing more for now."""

    pages: list[Any]
    objects: int
    cursor: str | None
    done: bool


class Stream(Protocol):
    """One incremental feed of a vendor's API (tickets, users, ratings...)."""

    name: str

    def fetch(self, client: Client, cursor: str | None, since: datetime) -> Fetched:
        """The next page after `cursor` (None: the first, from `since`)."""
        ...


@dataclass(frozen=True)
class Source:
    """A vendor's sync: its streams, in order (lookups before what is read against them),
    and `context`, the page bodies of kept lookups every landing reads with the new pages
    (e.g. `{"users": [...]}` from connector_objects, kept there by the converter's
    Batch.keep)."""

    vendor: str
    streams: tuple[Stream, ...]
    context: Callable[[Any], list[Any]] = lambda con: []


@dataclass
class StreamProgress:
    pages: int = 0
    objects: int = 0


@dataclass
class SyncSummary:
    """What a sync did: per stream the pages and objects fetched, per canonical table one
    reconciled summary (read = inserted + updated + unchanged + quarantined) over every
    landing, and the requests it took (retries included)."""

    vendor: str
    since: datetime | None = None
    streams: dict[str, StreamProgress] = field(default_factory=dict)
    tables: dict[str, ImportSummary] = field(default_factory=dict)
    requests: int = 0
    retries: int = 0
    seconds: float = 0.0

    def add(self, tables: dict[str, ImportSummary]) -> None:
        for name, s in tables.items():
            was = self.tables.get(name)
            if was is None:
                self.tables[name] = replace(s, file=f"{self.vendor} sync")
                continue
            self.tables[name] = replace(
                was, read=was.read + s.read, inserted=was.inserted + s.inserted, updated=was.updated + s.updated,
                unchanged=was.unchanged + s.unchanged, quarantined=was.quarantined + s.quarantined,
                seconds=was.seconds + s.seconds,
                # the quarantine pointer names a landing that quarantined something
                import_id=s.import_id if s.quarantined or not was.quarantined else was.import_id,
                file=f"{self.vendor} sync",
            )

    def to_dict(self) -> dict[str, Any]:
        return {"vendor": self.vendor, "since": self.since.isoformat() if self.since else None,
                "streams": {k: {"pages": v.pages, "objects": v.objects} for k, v in self.streams.items()},
                "tables": {k: v.to_dict() for k, v in self.tables.items()},
                "requests": self.requests, "retries": self.retries, "seconds": round(self.seconds, 3)}

    def __str__(self) -> str:
        fetched = ", ".join(f"{k} {v.objects:,} in {v.pages:,} pages" for k, v in self.streams.items())
        head = (f"Synced {self.vendor} in {self.seconds:.1f} s: {fetched or 'nothing new'} "
                f"({self.requests:,} requests, {self.retries:,} retried)")
        return "\n".join([head, *(str(s) for s in self.tables.values())])


Progress = Callable[[str, StreamProgress], None]


def since_of(ws: Workspace, vendor: str, now: datetime | None = None) -> datetime:
    """Where a first sync starts: [connectors.VENDOR] start, else 30 days ago."""
    start = ws.settings.connectors.get(vendor, {}).get("start", "")
    if not start:
        return (now or datetime.now(timezone.utc)) - DEFAULT_LOOKBACK
    try:
        ts = datetime.fromisoformat(start.replace("Z", "+00:00"))
    except ValueError:
        raise ConnectorError(f"[connectors.{vendor}] start '{start}' is not a date such as 2025-01-01.") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)


def sync(ws: Workspace, vendor: str, *, source: str | None = None, progress: Progress | None = None,
         transport: httpx.BaseTransport | None = None, retry: Retry = Retry(),
         sleep: Callable[[float], None] = time.sleep, land_every: int = LAND_EVERY) -> SyncSummary:
    """Pull `vendor`'s changes since the last sync into `ws` (see the module's docstring)."""
    from cxmetrics.connectors import VENDORS  # the registry imports this module's users

    if vendor not in VENDORS or VENDORS[vendor].sync is None:
        from cxmetrics.errors import UnknownNameError

        raise UnknownNameError("help desk", vendor, [v for v in VENDORS if VENDORS[v].sync is not None])
    spec = VENDORS[vendor]
    with _running(ws, vendor):  # one sync of a vendor at a time (a scheduled one and a manual one)
        return _sync(ws, vendor, spec, source=source, progress=progress, transport=transport, retry=retry,
                     sleep=sleep, land_every=land_every)


_LOCKS: dict[tuple[str, str], threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@contextmanager
def _running(ws: Workspace, vendor: str) -> Iterator[None]:
    """Hold the (workspace, vendor) sync lock; a second sync waits for the first, then
    finds little left to fetch."""
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault((str(ws.path.resolve()), vendor), threading.Lock())
    with lock:
        yield


def _sync(ws: Workspace, vendor: str, spec: Any, *, source: str | None, progress: Progress | None,
          transport: httpx.BaseTransport | None, retry: Retry, sleep: Callable[[float], None],
          land_every: int) -> SyncSummary:
    plan: Source = spec.sync(ws.settings)  # type: ignore[misc]  # e.g. Chatwoot's paths hold its account_id
    started = time.perf_counter()
    summary = SyncSummary(vendor, since=since_of(ws, vendor))
    with client_for(ws.settings, vendor, transport=transport, retry=retry, sleep=sleep) as client:
        try:
            _land_pending(ws, plan, spec.convert, summary, source or vendor)  # what a killed sync left
            for stream in plan.streams:
                seen = summary.streams.setdefault(stream.name, StreamProgress())
                fetched_since_landing = 0
                while True:
                    with ws._write_lock, translate_errors():
                        cur = _state.cursor(ws.con, vendor, stream.name)
                    step = stream.fetch(client, cur, summary.since)  # type: ignore[arg-type]
                    _store(ws, vendor, stream.name, step)
                    seen.pages += len(step.pages)
                    seen.objects += step.objects
                    fetched_since_landing += len(step.pages)
                    if progress is not None:
                        progress(stream.name, seen)
                    if fetched_since_landing >= land_every:
                        _land_pending(ws, plan, spec.convert, summary, source or vendor)
                        fetched_since_landing = 0
                    if step.done:
                        break
                _land_pending(ws, plan, spec.convert, summary, source or vendor)
        finally:
            summary.requests, summary.retries = client.requests, client.retries
            summary.seconds = time.perf_counter() - started
    return summary


def _store(ws: Workspace, vendor: str, stream: str, step: Fetched) -> None:
    """The pages and the cursor after them, in one transaction."""
    with ws._write_lock, translate_errors():
        con = ws.con
        con.execute("BEGIN TRANSACTION")
        try:
            seq = con.execute("SELECT coalesce(max(seq), 0) FROM connector_pages WHERE vendor = ?",
                              [vendor]).fetchone()[0]
            con.executemany(
                "INSERT INTO connector_pages VALUES (?, ?, ?, ?, now())",
                [(vendor, stream, seq + i, json.dumps(body, ensure_ascii=False)) for i, body in
                 enumerate(step.pages, start=1)],
            ) if step.pages else None
            _state.set_cursor(con, vendor, stream, step.cursor)
            con.execute("COMMIT")
        except BaseException:
            rollback(con)
            raise


def _land_pending(ws: Workspace, plan: Source, convert: Callable[[list[Page]], Batch], summary: SyncSummary,
                  source: str) -> None:
    """Land every fetched page not landed yet, with the kept lookups, then forget them."""
    vendor = plan.vendor
    with ws._write_lock, translate_errors():
        rows = ws.con.execute("SELECT seq, stream, body FROM connector_pages WHERE vendor = ? ORDER BY seq",
                              [vendor]).fetchall()
        if not rows:
            return
        context = plan.context(ws.con)
    first, last = rows[0][0], rows[-1][0]
    # kept lookups are line 0, fetched pages their sequence number (so quarantines name them)
    pages = [Page(Path(f"{vendor}-lookups.json"), 0, None, body, label=f"{vendor} kept lookups")
             for body in context]
    pages += [Page(Path(f"{stream}.json"), seq, seq, json.loads(body), label=f"sync {stream} page {seq}")
              for seq, stream, body in rows]
    batch = convert(pages)
    # the agent rows the kept lookups make again land too (a bot seen only now is typed so),
    # but apart: the summary counts what the help desk sent this time
    land(ws, vendor, "sync kept lookups", batch.split("agents", 0), source=source)
    out = land(ws, vendor, f"sync pages {first}-{last}", batch, source=source)
    summary.add(out.tables)
    with ws._write_lock, translate_errors():
        ws.con.execute("DELETE FROM connector_pages WHERE vendor = ? AND seq <= ?", [vendor, last])


_INTERVAL = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")


def parse_interval(text: str) -> float | None:
    """Seconds of an interval such as '15m', '1h' or '30s'; None for an empty one.

    >>> parse_interval("15m"), parse_interval("1h"), parse_interval("")
    (900.0, 3600.0, None)
    """
    if not text.strip():
        return None
    m = _INTERVAL.match(text)
    if m is None or int(m.group(1)) == 0:
        raise ConnectorError(f"interval '{text}' is not a duration such as 30s, 15m or 1h.")
    return float(int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)])


def kept_pages(con: Any, vendor: str, *kinds: str) -> list[Any]:
    """Context pages for Source.context: `{kind: [kept objects]}` per kind that has any."""
    out = []
    for kind in kinds:
        objs = _state.objects(con, vendor, kind)
        if objs:
            out.append({kind: objs})
    return out
