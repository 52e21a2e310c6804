"""A cached answer whose background renewal fails is dropped, not served stale until it
expires (issue 9, item 13: pages stayed stale for 5 minutes instead of 30 s)."""

from __future__ import annotations

import logging
import time

import pytest

from cxmetrics.api._cache import ResultCache


def test_a_failed_renewal_drops_the_entry(caplog: pytest.LogCaptureFixture) -> None:
    cache = ResultCache(max_entries=8, ttl_s=0.05, max_age_s=300)
    try:
        assert cache.get_or_compute("k", lambda: 1) == 1
        time.sleep(0.1)

        def broken() -> int:
            raise RuntimeError("the cursor is closed")

        with caplog.at_level(logging.ERROR, logger="cxmetrics.api"):
            assert cache.get_or_compute("k", broken) == 1  # past the ttl: served once, renewed behind
            deadline = time.monotonic() + 5
            while "renewing a cached answer failed" not in caplog.text and time.monotonic() < deadline:
                time.sleep(0.01)
        while cache._renewing and time.monotonic() < deadline:  # the renewal has finished its clean-up
            time.sleep(0.01)
        assert cache.get_or_compute("k", lambda: 2) == 2  # computed afresh, not the stale 1
    finally:
        cache.close()
