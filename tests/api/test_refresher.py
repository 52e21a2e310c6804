"""The refresher: concurrent writes share one facts refresh (issue 17, item 3)."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Any

from cxmetrics.api._refresher import Refresher


class FakeWorkspace:
    """Counts refreshes (each takes `refresh_s`, `text_s` more with the text facts) and says
    `changed` tickets were refreshed (0: nothing for the text facts to follow)."""

    def __init__(self, refresh_s: float = 0.05, text_s: float = 0.0, changed: int = 0) -> None:
        self.refreshes = 0
        self.refresh_s, self.text_s, self.changed = refresh_s, text_s, changed
        self.calls: list[tuple[float, bool]] = []  # (monotonic time at the end, with the text facts)

    @contextmanager
    def cursor(self, auto_refresh: bool = True) -> Any:
        yield self

    def text_on(self) -> bool:
        return True

    def refresh(self, *, text: bool = True) -> int:
        assert not text  # the server's facts refreshes leave the text facts to their own passes
        time.sleep(self.refresh_s)
        self.refreshes += 1
        self.calls.append((time.monotonic(), False))
        return self.changed

    def _refresh_text_part(self) -> bool:
        time.sleep(self.text_s)
        self.calls.append((time.monotonic(), True))
        return False  # one part does it all


def test_a_write_in_progress_holds_the_refresh_back_so_both_share_it() -> None:
    ws = FakeWorkspace()
    versions = iter(range(1, 100))
    refresher = Refresher(ws, lambda tables: next(versions), max_delay_s=5.0)
    started, proceed, done = threading.Event(), threading.Event(), []

    def slow_writer() -> None:  # still importing when the other write asks to see its events
        with refresher.writing():
            started.set()
            proceed.wait(10)
            ticket = refresher.wrote(["events"])
        done.append(refresher.wait(ticket, timeout=10))

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert started.wait(5)
    ticket = refresher.wrote(["events"])
    waiter = threading.Thread(target=lambda: done.append(refresher.wait(ticket, timeout=10)))
    waiter.start()
    time.sleep(0.4)
    assert ws.refreshes == 0  # someone waits, but a write is under way: not yet
    proceed.set()
    writer.join(10)
    waiter.join(10)
    assert ws.refreshes == 1 and done == [1, 1]  # one refresh for both writes
    refresher.close()


def test_a_write_that_takes_long_holds_the_refresh_back_at_most_the_delay() -> None:
    ws = FakeWorkspace()
    refresher = Refresher(ws, lambda tables: 7, max_delay_s=0.3)
    release = threading.Event()

    def stuck_writer() -> None:
        with refresher.writing():
            release.wait(10)

    writer = threading.Thread(target=stuck_writer)
    writer.start()
    t0 = time.monotonic()
    assert refresher.wait(refresher.wrote(["events"]), timeout=10) == 7
    assert time.monotonic() - t0 < 3 and ws.refreshes == 1  # after the delay, not the stuck write
    release.set()
    writer.join(10)
    refresher.close()


def test_a_waiting_write_does_not_wait_for_the_text_facts_which_follow_once_writes_pause() -> None:
    ws = FakeWorkspace(text_s=1.0, changed=3)  # a slow text pass
    refresher = Refresher(ws, lambda tables: 1, max_delay_s=0.3, text_idle_s=0.2, text_delay_s=30,
                          text_layer=FakeWorkspace.text_on)
    t0 = time.monotonic()
    refresher.wait(refresher.wrote(["events"]), timeout=10)
    assert time.monotonic() - t0 < 0.8  # the facts alone (0.05 s), not the text pass (1 s)
    assert [text for _, text in ws.calls] == [False]
    deadline = time.monotonic() + 5
    while len(ws.calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [text for _, text in ws.calls] == [False, True]  # then the text facts, once idle
    assert ws.calls[1][0] - ws.calls[0][0] >= 0.2 + 1.0  # after the idle time, taking the text pass's time
    time.sleep(0.5)
    assert len(ws.calls) == 2 and refresher.text_refreshes == 1  # caught up: nothing more
    refresher.close()


def test_a_steady_stream_of_writes_gets_its_text_facts_every_delay_in_one_pass() -> None:
    ws = FakeWorkspace(refresh_s=0.02, text_s=0.05, changed=5)
    refresher = Refresher(ws, lambda tables: 1, max_delay_s=0.3, text_idle_s=60, text_delay_s=0.5,
                          text_layer=FakeWorkspace.text_on)
    t0 = time.monotonic()
    writes = 0
    while time.monotonic() - t0 < 2.0:  # never idle for text_idle_s: only the delay brings the text facts
        with refresher.writing():
            ticket = refresher.wrote(["events"])
        refresher.wait(ticket, timeout=10)
        writes += 1
    refresher.close()
    texts = [t for t, text in ws.calls if text]
    assert writes > 20
    assert 2 <= len(texts) <= 5  # one every 0.5 s of the 2 s, each covering the writes since
    assert all(b - a >= 0.5 for a, b in zip(texts, texts[1:], strict=False))


def test_a_refresh_that_changed_no_ticket_leaves_no_text_facts_to_follow() -> None:
    ws = FakeWorkspace(changed=0)
    refresher = Refresher(ws, lambda tables: 1, max_delay_s=0.3, text_idle_s=0.05, text_delay_s=0.1,
                          text_layer=FakeWorkspace.text_on)
    refresher.wait(refresher.wrote(["surveys"]), timeout=10)
    time.sleep(0.4)
    assert [text for _, text in ws.calls] == [False]
    refresher.close()


class PartedText(FakeWorkspace):
    """A text pass of `parts` parts of `text_s` each (a long backlog, taken a few imports at a time)."""

    def __init__(self, parts: int, **kw: Any) -> None:
        super().__init__(**kw)
        self.parts_left = parts

    def _refresh_text_part(self) -> bool:
        super()._refresh_text_part()
        self.parts_left -= 1
        return self.parts_left > 0


def test_a_write_during_a_long_text_pass_waits_for_one_part_of_it_not_the_whole() -> None:
    ws = PartedText(parts=5, refresh_s=0.05, text_s=0.3, changed=3)  # a 1.5 s backlog of text facts
    refresher = Refresher(ws, lambda tables: 1, max_delay_s=0.3, text_idle_s=0.1, text_delay_s=30,
                          text_layer=FakeWorkspace.text_on)
    refresher.wait(refresher.wrote(["events"]), timeout=10)
    deadline = time.monotonic() + 5
    while not any(text for _, text in ws.calls) and time.monotonic() < deadline:
        time.sleep(0.01)  # the pause: the text pass has begun
    t0 = time.monotonic()
    refresher.wait(refresher.wrote(["events"]), timeout=10)
    assert time.monotonic() - t0 < 0.3 + 0.05 + 0.25  # the part under way and its own refresh, not 1.2 s more
    assert ws.parts_left > 0  # answered in the middle of the pass
    deadline = time.monotonic() + 5
    while refresher.text_refreshes == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ws.parts_left == 0 and refresher.text_refreshes == 1  # the rest followed at the next pause
    assert [text for _, text in ws.calls].count(True) == 5
    refresher.close()


class FailingText(FakeWorkspace):
    """Its first text pass fails (a broken topic model, say)."""

    def _refresh_text_part(self) -> bool:
        if not any(t for _, t in self.calls):
            self.calls.append((time.monotonic(), True))
            raise RuntimeError("the text pass failed")
        return super()._refresh_text_part()


def test_a_failed_text_pass_fails_no_write_and_is_tried_again_after_the_delay() -> None:
    ws = FailingText(changed=2)
    refresher = Refresher(ws, lambda tables: 1, max_delay_s=0.3, text_idle_s=0.05, text_delay_s=1.0,
                          text_layer=FakeWorkspace.text_on)
    refresher.wait(refresher.wrote(["events"]), timeout=10)
    deadline = time.monotonic() + 5
    while len(ws.calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    texts = [t for t, text in ws.calls if text]
    assert len(texts) == 2 and texts[1] - texts[0] >= 1.0  # failed, then once more a delay later (not every idle)
    assert refresher.text_refreshes == 1
    refresher.wait(refresher.wrote(["events"]), timeout=10)  # a later write is not told of the text failure
    refresher.close()


def test_a_client_posting_batch_after_batch_is_never_idle_long_enough_for_the_text_pass() -> None:
    """A refresh that takes longer than text_idle_s (a large workspace's) must not count as quiet
    time: the client posts its next batch as soon as it has the answer, so the text pass waits
    for the delay rather than running after every batch (which it did when the quiet was counted
    from the write, not from its answer)."""
    ws = FakeWorkspace(refresh_s=0.3, text_s=0.05, changed=5)
    refresher = Refresher(ws, lambda tables: 1, max_delay_s=0.3, text_idle_s=0.2, text_delay_s=60,
                          text_layer=FakeWorkspace.text_on)
    for _ in range(6):
        with refresher.writing():
            ticket = refresher.wrote(["events"])
        refresher.wait(ticket, timeout=10)
        time.sleep(0.02)  # the answer travels, the next batch is parsed
    assert [text for _, text in ws.calls] == [False] * 6
    refresher.close()


def _wal(ws: Any) -> int:
    wal = ws.path / "cxmetrics.duckdb.wal"
    return wal.stat().st_size if wal.exists() else 0


def test_the_log_is_checkpointed_in_a_pause_not_in_the_middle_of_a_stream(tmp_path: Any) -> None:
    import pyarrow as pa

    import cxmetrics

    def batch(i: int) -> pa.Table:
        return pa.table({"event_id": [f"e{i}"], "ticket_id": [f"T{i}"], "ts": ["2025-03-03T08:00:00Z"],
                         "kind": ["created"], "actor_type": ["customer"]})

    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        refresher = Refresher(ws, lambda tables: 1, max_delay_s=0.05, checkpoint_idle_s=0.5)
        try:
            setting = ws.con.execute("SELECT current_setting('checkpoint_threshold')").fetchall()[0][0]
            assert setting == "256.0 MiB"  # a commit no longer checkpoints every 16 MiB
            # a stream: a write every 0.1 s for a second, never a pause of 0.5 s: no checkpoint
            for i in range(10):
                with refresher.writing():
                    ws.import_table("events", batch(i), label=f"b{i}")
                    ticket = refresher.wrote(["events"])
                refresher.wait(ticket, timeout=10)
                time.sleep(0.1)
            assert refresher.checkpoints == 0 and _wal(ws) > 0
            deadline = time.monotonic() + 10  # the pause: the log goes into the database file
            while refresher.checkpoints == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert refresher.checkpoints == 1 and _wal(ws) == 0
            # reads carry on through a checkpoint: one open across it still reads its snapshot
            reader = ws.cursor(auto_refresh=False)
            reader.con.execute("BEGIN TRANSACTION")
            assert reader.con.execute("SELECT count(*) FROM events").fetchall()[0][0] == 10
            with refresher.writing():
                ws.import_table("events", batch(10), label="b10")
                ticket = refresher.wrote(["events"])
            refresher.wait(ticket, timeout=10)
            deadline = time.monotonic() + 10
            while refresher.checkpoints == 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert refresher.checkpoints == 2 and _wal(ws) == 0
            assert reader.con.execute("SELECT count(*) FROM events").fetchall()[0][0] == 10
            reader.con.execute("COMMIT")
            reader.close()
            assert ws.counts()["events"] == 11
        finally:
            refresher.close()


def test_quiet_is_zero_while_a_write_is_under_way_or_its_facts_pending_then_counts_the_pause() -> None:
    ws = FakeWorkspace(refresh_s=0.3)
    refresher = Refresher(ws, lambda tables: 1, max_delay_s=0.05)
    try:
        time.sleep(0.05)
        assert refresher.quiet_s() > 0  # nothing written yet
        seen: list[float] = []
        with refresher.writing():
            seen.append(refresher.quiet_s())  # importing
            ticket = refresher.wrote(["events"])
        seen.append(refresher.quiet_s())  # registered, its facts not in yet (the refresh takes 0.3 s)
        refresher.wait(ticket, timeout=10)
        time.sleep(0.2)
        after = refresher.quiet_s()
        assert seen == [0.0, 0.0]
        assert 0.15 <= after < 1.0, after  # the pause since its facts came in
    finally:
        refresher.close()


class EngineText(FakeWorkspace):
    """A text part that runs on a real engine connection: in one transaction, a write, a pause
    between statements (an interrupt then is lost: the next statement clears it) and a query of
    `text_s` or more; rolled back on any error, as the text refresh's transaction is."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        import duckdb

        self.con = duckdb.connect()
        self.con.execute("CREATE TABLE text_rows (part INTEGER)")
        self.parts = 0

    def _refresh_text_part(self) -> bool:
        self.parts += 1
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.execute("INSERT INTO text_rows VALUES (?)", [self.parts])
            time.sleep(0.05)  # scoring texts in Python, between two statements
            end = time.monotonic() + self.text_s
            while time.monotonic() < end:  # the engine's work, a statement at a time
                self.con.execute("SELECT count(*) FROM range(20000000) r(i) WHERE i % 7 = 3").fetchall()
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.calls.append((time.monotonic(), True))
        return False

    def stored_parts(self) -> list[int]:
        return [r[0] for r in self.con.execute("SELECT part FROM text_rows ORDER BY part").fetchall()]


def _text_part_started(ws: EngineText) -> None:
    deadline = time.monotonic() + 5
    while ws.parts == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.02)


def test_a_write_stops_a_text_part_under_way_which_is_taken_again_at_the_next_pause() -> None:
    """Writes a few tenths of a second apart (webhooks) found a text part under way in most gaps
    and waited for it. While the text facts are less than text_delay_s behind, a write stops the
    part instead: its transaction is rolled back (nothing of it stays), the write is answered in
    the time of its own refresh, and the part is taken whole at the next pause."""
    ws = EngineText(refresh_s=0.05, text_s=2.0, changed=3)
    refresher = Refresher(ws, lambda tables: 1, max_delay_s=0.3, text_idle_s=0.1, text_delay_s=30,
                          text_layer=FakeWorkspace.text_on)
    refresher.wait(refresher.wrote(["events"]), timeout=10)
    _text_part_started(ws)  # the pause: a 2 s text part has begun
    t0 = time.monotonic()
    with refresher.writing():
        ticket = refresher.wrote(["events"])
    refresher.wait(ticket, timeout=10)
    assert time.monotonic() - t0 < 0.5  # its own refresh (0.05 s) and the stop, not the part's 2 s
    assert refresher.text_parts_stopped == 1 and refresher.text_refreshes == 0
    assert ws.stored_parts() == []  # the stopped part's write was rolled back
    deadline = time.monotonic() + 10
    while refresher.text_refreshes == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert refresher.text_refreshes == 1 and ws.stored_parts() == [2]  # the next pause took it whole
    refresher.close()


def test_a_text_part_long_behind_is_not_stopped_so_the_text_facts_catch_up() -> None:
    """Past text_delay_s behind, a write waits for the part under way, as before: a stream that
    never pauses for long must not keep the text facts from ever catching up."""
    ws = EngineText(refresh_s=0.05, text_s=0.6, changed=3)
    refresher = Refresher(ws, lambda tables: 1, max_delay_s=0.3, text_idle_s=0.1, text_delay_s=0.05,
                          text_layer=FakeWorkspace.text_on)
    refresher.wait(refresher.wrote(["events"]), timeout=10)
    _text_part_started(ws)  # begun 0.1 s after a refresh: already more than 0.05 s behind
    t0 = time.monotonic()
    with refresher.writing():
        ticket = refresher.wrote(["events"])
    refresher.wait(ticket, timeout=10)
    assert time.monotonic() - t0 >= 0.4  # it waited for the rest of the part
    assert refresher.text_parts_stopped == 0 and ws.stored_parts()[:1] == [1]
    refresher.close()


class StuckText(FakeWorkspace):
    """A text part that runs no statement for `text_s` (it waits for the write lock behind a long
    upload, say): an interrupt cannot stop it."""

    class _Con:
        def interrupt(self) -> None:
            pass

    con = _Con()


def _with_a_stuck_part_begun(ws: StuckText) -> Refresher:
    """A refresher over `ws` (text facts under text_delay_s behind: its parts may be stopped),
    once the text part that follows a first write has begun."""
    refresher = Refresher(ws, lambda tables: 1, max_delay_s=0.3, text_idle_s=0.05, text_delay_s=30,
                          text_layer=FakeWorkspace.text_on)
    refresher.wait(refresher.wrote(["events"]), timeout=10)
    deadline = time.monotonic() + 5
    while refresher._text_con is None and time.monotonic() < deadline:
        time.sleep(0.005)
    return refresher


def test_a_write_waits_for_a_text_part_it_cannot_stop_at_most_a_second_before_going_on() -> None:
    """The write does not hang on such a part: after STOP_WAIT_S it goes on to wait for the write
    lock as any write does (refused with 503 past the write_wait setting), not for as long as
    the part lasts."""
    from cxmetrics.api._refresher import STOP_WAIT_S

    refresher = _with_a_stuck_part_begun(StuckText(refresh_s=0.02, text_s=3.0, changed=3))
    t0 = time.monotonic()
    with refresher.writing():
        entered = time.monotonic() - t0
    assert STOP_WAIT_S - 0.05 <= entered < STOP_WAIT_S + 0.5
    refresher.close()


class StuckThenFailingText(StuckText):
    """A text part that a write cannot stop (as StuckText) and that then fails on its own."""

    def _refresh_text_part(self) -> bool:
        time.sleep(self.text_s)
        raise RuntimeError("the text step failed")


def test_a_part_that_fails_after_a_write_gave_up_stopping_it_counts_as_failed_not_stopped() -> None:
    """A write that gave up stopping a part left its stop asked for; the part's own failure
    afterwards was then taken for the stop: not logged, not counted, retried at the very next
    pause instead of text_delay_s later. Only the engine's interrupt is a stop."""
    refresher = _with_a_stuck_part_begun(StuckThenFailingText(refresh_s=0.02, text_s=1.5, changed=3))
    with refresher.writing():  # gives up stopping it after STOP_WAIT_S
        pass
    deadline = time.monotonic() + 5
    while refresher._text_retry_at == 0.0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert refresher.text_parts_stopped == 0
    assert refresher._text_retry_at > time.monotonic() + 20  # failed: tried again text_delay_s later
    refresher.close()
