"""A small result cache for read endpoints, keyed by the hub's version and the request.

Any write publishes a change, which moves the version on, so an answer computed before
a write is never served after it. Within one version the data cannot change, but a few
answers depend on the clock (backlog "now", SLA time left): an entry older than `ttl_s`
is still served while a fresh one is computed in the background, and one older than
`max_age_s` is not served at all. Concurrent requests for the same missing key wait for
the first one's answer instead of computing it again (20 dashboards opening the same
overview cost one computation).

>>> cache = ResultCache(max_entries=2, ttl_s=60)
>>> cache.get_or_compute((1, "a"), lambda: 41 + 1)
42
>>> cache.get_or_compute((1, "a"), lambda: 0)
42
>>> cache.hits, cache.misses
(1, 1)
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger("cxmetrics.api")


class ResultCache:
    def __init__(self, max_entries: int = 256, ttl_s: float = 30.0, max_age_s: float = 300.0) -> None:
        self.max_entries, self.ttl_s, self.max_age_s = max_entries, ttl_s, max(max_age_s, ttl_s)
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._renewing: set[Hashable] = set()
        self._renewer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cxmetrics-cache")
        self.hits = self.misses = self.renewals = 0

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0

    def _get(self, key: Hashable, compute: Callable[[], Any] | None) -> tuple[bool, Any]:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return False, None
            age = time.monotonic() - found[0]
            if age > self.max_age_s or (age > self.ttl_s and compute is None):
                del self._entries[key]
                return False, None
            self._entries.move_to_end(key)
            self.hits += 1
            if age > self.ttl_s and key not in self._renewing:
                self._renewing.add(key)
                self._renewer.submit(self._renew, key, compute)
            return True, found[1]

    def _renew(self, key: Hashable, compute: Callable[[], Any]) -> None:
        try:
            value = compute()
            with self._lock:
                self.renewals += 1
                if key in self._entries:
                    self._entries[key] = (time.monotonic(), value)
        except Exception:
            log.exception("renewing a cached answer failed")
            with self._lock:  # not served stale until max_age_s: the next request computes it afresh
                self._entries.pop(key, None)
        finally:
            with self._lock:
                self._renewing.discard(key)

    def peek(self, key: Hashable, compute: Callable[[], Any] | None = None) -> tuple[bool, Any]:
        """(found, value) without waiting; an entry past its ttl is renewed with `compute`
        in the background (without `compute` it counts as missing)."""
        if not self.enabled:
            return False, None
        return self._get(key, compute)

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached answer for `key`, or `compute()`'s (stored unless it raised)."""
        if not self.enabled:
            return compute()
        ok, value = self._get(key, compute)
        if ok:
            return value  # type: ignore[no-any-return]
        with self._lock:
            gate = self._computing.setdefault(key, threading.Lock())
        with gate:
            ok, value = self._get(key, compute)
            if ok:
                return value  # type: ignore[no-any-return]
            try:
                value = compute()
            finally:
                with self._lock:
                    self._computing.pop(key, None)
            with self._lock:
                self.misses += 1
                self._entries[key] = (time.monotonic(), value)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
            return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def close(self) -> None:
        self._renewer.shutdown(wait=True, cancel_futures=True)
