"""The live-change hub: a version number that goes up on every write, and the
subscribers (server-sent event streams) that hear about it.

Writes happen on worker threads; subscribers wait on the event loop, so `publish`
hands each message to the subscriber's loop thread-safely. A slow subscriber's queue
is bounded: when it is full the oldest message is dropped, which loses nothing that
matters, because every message carries the latest version and a client refetches
on any change.

>>> hub = Hub()
>>> hub.version
0
>>> hub.publish(["events", "ticket_facts"])
1
>>> hub.last_tables
('events', 'ticket_facts')
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any

_QUEUE_SIZE = 64


@dataclass(frozen=True)
class Change:
    """One published change: the version it made and the tables it touched."""

    version: int
    tables: tuple[str, ...]
    at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "tables": list(self.tables)}


class Subscription:
    """One listener's queue of changes, read on its event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[Change | None] = asyncio.Queue(_QUEUE_SIZE)

    def _put(self, change: Change | None) -> None:  # runs on self.loop
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(change)

    async def get(self, timeout: float | None = None) -> Change | None:
        """The next change; None when the hub closed. Raises TimeoutError after `timeout` s."""
        return await asyncio.wait_for(self.queue.get(), timeout)


class Hub:
    """Counts changes to the workspace and tells every subscriber about each one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version = 0
        self._subs: set[Subscription] = set()
        self._changed = threading.Condition(self._lock)
        self.last_tables: tuple[str, ...] = ()
        self.closed = False

    @property
    def version(self) -> int:
        """Goes up by one on every published change (starts at 0 when the server starts)."""
        return self._version

    def publish(self, tables: list[str] | tuple[str, ...]) -> int:
        """Record a change to `tables` and tell every subscriber; returns the new version.
        Safe to call from any thread."""
        with self._lock:
            self._version += 1
            change = Change(self._version, tuple(tables))
            self.last_tables = change.tables
            subs = list(self._subs)
            self._changed.notify_all()
        for sub in subs:
            self._deliver(sub, change)
        return change.version

    def _deliver(self, sub: Subscription, change: Change | None) -> None:
        try:
            sub.loop.call_soon_threadsafe(sub._put, change)
        except RuntimeError:  # its loop is closed: the listener is gone
            self.unsubscribe(sub)

    def subscribe(self) -> Subscription:
        """A new subscription on the running event loop."""
        sub = Subscription(asyncio.get_running_loop())
        with self._lock:
            self._subs.add(sub)
        if self.closed:
            sub._put(None)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.discard(sub)

    @property
    def subscribers(self) -> int:
        return len(self._subs)

    def wait_for(self, version: int, timeout: float) -> bool:
        """Block (a worker thread) until the version reaches `version`; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._version < version:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def close(self) -> None:
        """End every subscription (server shutdown): their streams finish."""
        with self._lock:
            self.closed = True
            subs = list(self._subs)
        for sub in subs:
            self._deliver(sub, None)
