"""Rate limits of the survey page: sliding windows per client IP and per token, in memory.

The page needs no key, so these are what keep a script from hammering it (guessing tokens,
replaying a form). The numbers (docs/surveys.md, "Security"):

- GET (pages, embeds, the logo): 120 per IP per minute, and 60 per token per minute;
- POST (answers): 30 per IP per minute, and 10 per token per 10 minutes.

The IP is the connection's (`request.client.host`); no proxy header is trusted, since any
client can send one (behind a reverse proxy every customer shares its address: raise the
limits there, or have the proxy limit). Memory is bounded: each window keeps at most
`max_keys` keys, the least recently seen dropped first.

>>> lim = Window(limit=2, period_s=60)
>>> [lim.hit("a", now=0.0), lim.hit("a", now=1.0), lim.hit("a", now=2.0), lim.hit("b", now=2.0)]
[0.0, 0.0, 58.0, 0.0]
>>> lim.hit("a", now=61.0)  # the first hit left the window
0.0
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_KEYS = 10_000


@dataclass
class Window:
    """At most `limit` hits per key in any `period_s` seconds."""

    limit: int
    period_s: float
    max_keys: int = MAX_KEYS
    _hits: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def hit(self, key: str, *, now: float) -> float:
        """Count a request of `key`: 0 when it is allowed, else the seconds until it would be
        (a refused request is not counted, so waiting that long is enough)."""
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                hits = self._hits[key] = deque()
                while len(self._hits) > self.max_keys:
                    self._hits.popitem(last=False)
            else:
                self._hits.move_to_end(key)
            while hits and hits[0] <= now - self.period_s:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(hits[0] + self.period_s - now, 0.001)
            hits.append(now)
            return 0.0

    def __len__(self) -> int:
        return len(self._hits)


@dataclass
class RateLimits:
    """The survey page's windows (see the module docstring for the numbers)."""

    get_ip: Window = field(default_factory=lambda: Window(120, 60.0))
    get_token: Window = field(default_factory=lambda: Window(60, 60.0))
    post_ip: Window = field(default_factory=lambda: Window(30, 60.0))
    post_token: Window = field(default_factory=lambda: Window(10, 600.0))
    clock: Callable[[], float] = time.monotonic

    def check(self, method: str, ip: str, token: str | None) -> int:
        """0 when a `method` request from `ip` for `token` may go on, else the whole seconds
        to wait (for Retry-After). A request the IP's window refuses is not counted against
        the token, so one noisy address cannot use up a customer's answers."""
        now = self.clock()
        by_ip, by_token = (self.post_ip, self.post_token) if method == "POST" else (self.get_ip, self.get_token)
        wait = by_ip.hit(ip, now=now)
        if wait == 0.0 and token is not None:
            wait = by_token.hit(token, now=now)
        return 0 if wait == 0.0 else max(1, math.ceil(wait))
