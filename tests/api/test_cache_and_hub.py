"""The result cache (versioned, renewed in the background) and the hub (thread to loop)."""

from __future__ import annotations

import asyncio
import threading
import time

from cxmetrics.api._cache import ResultCache
from cxmetrics.api._hub import Hub


def test_an_old_entry_is_served_while_it_is_renewed() -> None:
    cache = ResultCache(ttl_s=0.05, max_age_s=60)
    calls = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get_or_compute(("v1", "q"), compute) == 1
    time.sleep(0.1)  # past its ttl: still served, renewed in the background
    assert cache.peek(("v1", "q"), compute) == (True, 1)
    deadline = time.monotonic() + 5
    while cache.renewals == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cache.peek(("v1", "q"), compute) == (True, 2)
    # another version is another key: computed afresh
    assert cache.get_or_compute(("v2", "q"), compute) == 3
    cache.close()


def test_an_entry_past_its_max_age_is_not_served() -> None:
    cache = ResultCache(ttl_s=0.01, max_age_s=0.02)
    cache.get_or_compute("k", lambda: "old")
    time.sleep(0.05)
    assert cache.peek("k", lambda: "new") == (False, None)
    assert cache.get_or_compute("k", lambda: "new") == "new"
    cache.close()


def test_concurrent_misses_compute_once() -> None:
    cache = ResultCache()
    calls = []

    def slow() -> str:
        calls.append(1)
        time.sleep(0.2)
        return "answer"

    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_compute("k", slow))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["answer"] * 8 and len(calls) == 1
    cache.close()


def test_a_change_published_on_a_thread_reaches_a_subscriber_on_the_loop() -> None:
    hub = Hub()

    async def main() -> list[dict[str, object]]:
        sub = hub.subscribe()
        threading.Thread(target=lambda: (hub.publish(["events"]), hub.publish(["annotations"]))).start()
        got = [(await sub.get(5)).to_dict(), (await sub.get(5)).to_dict()]  # type: ignore[union-attr]
        hub.close()
        assert await sub.get(5) is None  # closed: the stream ends
        return got

    assert asyncio.run(main()) == [{"version": 1, "tables": ["events"]}, {"version": 2, "tables": ["annotations"]}]
    assert hub.version == 2 and hub.wait_for(2, 0.01) and not hub.wait_for(3, 0.01)
