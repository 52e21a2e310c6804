"""The watcher running on the real clock: in a thread (the server's way), as an asyncio
task, woken by notify() and by new data, and stopped cleanly."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from alerts._alerts_helpers import ClockedTargets, config

import cxmetrics
from cxmetrics.alerts import Watcher

POLICIES = """
[[policy]]
name = "Urgent"
conditions = { priority = ["urgent"] }
[policy.targets]
first_reply = { urgent = "1h" }
"""


def created(tmp_path, ticket_id: str, minutes_ago: float):
    """An events file creating an urgent ticket `minutes_ago` before now (its first
    reply is due 60 min after creation)."""
    ts = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()
    path = tmp_path / f"{ticket_id}.csv"
    path.write_text("event_id,ticket_id,ts,kind,actor_type,priority\n"
                    f"{ticket_id}-c,{ticket_id},{ts},created,customer,urgent\n")
    return path


def wait_for(predicate, timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_thread_on_the_servers_workspace_alerts_and_wakes_on_notify(tmp_path, hooks):
    path = tmp_path / "ws"
    (path).mkdir()
    (path / "sla.toml").write_text(POLICIES)
    with cxmetrics.open(path, create=True) as ws:
        ws.import_file("events", created(tmp_path, "T-1", 50))  # due in 10 min: at risk
        w = Watcher(ws, config=config(hooks), interval=3600)  # the clock alone would not tick again
        w.start()
        try:
            assert w.running
            assert wait_for(lambda: len(hooks.accepted) == 2)  # webhook and Slack
            assert {p.json["ticket"]["ticket_id"] for p in hooks.at("/hook")} == {"T-1"}
            ws.import_file("events", created(tmp_path, "T-2", 55))  # events arrive (as the API imports them)
            w.notify()
            assert wait_for(lambda: len(hooks.accepted) == 4, timeout=10)
        finally:
            w.stop()
        assert not w.running
    assert sorted(p.json["ticket"]["ticket_id"] for p in hooks.at("/hook")) == ["T-1", "T-2"]


def test_a_watcher_over_a_folder_notices_imports_by_other_connections(tmp_path, hooks):
    path = tmp_path / "ws"
    path.mkdir()
    (path / "sla.toml").write_text(POLICIES)
    cxmetrics.open(path, create=True).close()
    w = Watcher(path, config=config(hooks), interval=3600)
    w.start()
    try:
        time.sleep(0.5)  # the first step finds nothing
        with cxmetrics.open(path, create=True) as ws:  # the watcher holds the workspace only during a step
            ws.import_file("events", created(tmp_path, "T-9", 45))
        assert wait_for(lambda: len(hooks.accepted) == 2, timeout=15)  # seen within the 2 s change poll
    finally:
        w.stop()


def test_an_asyncio_task_runs_until_cancelled(tmp_path, hooks):
    path = tmp_path / "ws"
    path.mkdir()
    (path / "sla.toml").write_text(POLICIES)
    with cxmetrics.open(path, create=True) as ws:
        ws.import_file("events", created(tmp_path, "T-1", 50))
        w = Watcher(ws, config=config(hooks), interval=3600)

        async def main() -> None:
            task = asyncio.create_task(w.run_async())
            for _ in range(400):
                if len(hooks.accepted) == 2:
                    break
                await asyncio.sleep(0.05)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

        asyncio.run(main())
    assert len(hooks.accepted) == 2


class CountingTargets(ClockedTargets):
    """ClockedTargets that note when each step refreshed them."""

    def __init__(self) -> None:
        object.__setattr__(self, "steps", [])

    def refresh(self, con, now):  # type: ignore[no-untyped-def]
        self.steps.append(time.monotonic())
        super().refresh(con, now)


def test_a_stream_of_notices_wakes_a_step_at_most_every_gap_and_a_lone_notice_at_once(tmp_path, hooks):
    from cxmetrics.alerts import _watch

    targets = CountingTargets()
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        w = Watcher(ws, config=config(hooks), interval=3600, targets=targets)
        w.start()
        try:
            assert wait_for(lambda: len(targets.steps) == 1)  # the first step
            t0 = time.monotonic()
            while time.monotonic() - t0 < 3.0:  # an ingest: a notice after every batch, 20 a second
                w.notify()
                time.sleep(0.05)
            # not a step per notice: one at most every NOTIFIED_GAP_S (2 s) after the last began
            during = [t for t in targets.steps if t0 <= t < t0 + 3.0]
            assert 1 <= len(during) <= 2
            # (steps are noted when their refresh starts, a moment after the step began: on a busy
            # machine up to a few tenths of a second)
            assert all(b - a >= _watch.NOTIFIED_GAP_S - 0.5 for a, b in zip(targets.steps, targets.steps[1:]))
            time.sleep(2 * _watch.NOTIFIED_GAP_S + 0.5)  # quiet: the step the stream left due, then nothing
            count, noticed = len(targets.steps), time.monotonic()
            w.notify()  # a lone notice: served at once
            assert wait_for(lambda: len(targets.steps) > count, timeout=5)
            assert targets.steps[count] - noticed < 1.0
        finally:
            w.stop()
