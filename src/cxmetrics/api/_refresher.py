"""After writes: bring the facts up to date once for many writes, then publish the change.

A facts refresh costs about the same for one event as for thousands (it finds the touched
tickets and rederives them), so writes that arrive together share one: each write registers
itself (`wrote`), and the refresher thread runs a refresh as soon as someone waits for one
(`wait`: read-after-write), else at most `max_delay_s` after the first write it has not
covered yet. Each refresh publishes one change on the hub with every table written since
the last, and wakes the SLA alert watcher.

A refresh covers every write registered before it started (their imports had committed),
so a write's `wait` returns once a refresh that started after it has finished. Writes in
progress (`writing`: parsing, waiting for the write lock, importing) hold the next refresh
back until they are registered, for at most `max_delay_s`: concurrent batches then share
one refresh rather than each waiting for its own, one after the other.

The text facts (sentiment, discovered topics, answer signals, consistency: docs/text.md) are
refreshed off that path: a write's `wait` returns once its ticket facts are in, and the text
facts follow in a pass of their own, as soon as no write is under way for `text_idle_s`, and
at most `text_delay_s` after the first facts refresh they lag behind even while writes keep
coming. A pass goes a few imports at a time (`_refresh_text_part`, about 8,000 rows each:
0.3-0.6 s at a million tickets, mostly reading each touched topic's kept answers again), each
part under the write lock; after each part, writes that came in meanwhile go first (their
imports, then their facts) and the pass goes on after them (at once when it is
`text_delay_s` behind, else at the next pause). In one piece, the pass behind
40,000 events held every write up for 3.5 s; in parts, a write waits for one part at most.
And while the text facts are less than `text_delay_s` behind, a write that comes in during a
part does not wait for it (`writing`): the part is stopped (its query interrupted, its
transaction rolled back) and taken again at the next pause. A stream whose writes come a few
tenths of a second apart, as a help desk's webhooks do, otherwise waited for a part in almost
every gap: at a million tickets a one-ticket POST took 0.33 s with writes 0.3 s apart against
0.22 s back to back, and a 1,000-event POST 0.65-0.71 s against 0.29-0.31 s, most of the
difference the part it waited for; with parts stopped, 0.25 s and 0.36 s (against 0.24 and 0.27
back to back in that hour). A part is stopped at its next statement: a write waits for the
Python work under way between two (scoring texts: 50-90 ms for 250 tickets; loading the topic
model, the first part after a start: about a second). Past `text_delay_s` behind, a part is no
longer stopped, so the text facts catch up even under a stream that never pauses. The writes
that stop a part: `POST /events`, webhooks, survey answers and embed links (small writes someone
waits for); not uploads, whose import takes longer than any part, nor the survey sender's runs,
which would otherwise keep a text pass from ever finishing.
(The SLA clocks also follow the facts rather than hold the write up.)

The store's write-ahead log is written into the database file (a checkpoint) when the
server has been idle for `checkpoint_idle_s` after a write, not by whichever commit first
finds the log over DuckDB's threshold. A checkpoint costs about the same whatever the log
holds (at a million tickets 0.4-0.9 s, under the write lock): at DuckDB's default 16 MiB one
came every 30 batches of 1,000 events, in the middle of a stream, and held that batch up by
a second. The server raises the threshold to `CHECKPOINT_THRESHOLD` (a stream that never
pauses still gets one there) and checkpoints in the pauses (reads carry on meanwhile); one
that fails is logged and tried again after the next pause.

The refresh holds the workspace's write lock (imports wait for it, as they would for
another import) and the app's `derive_lock`, which what else derives from the facts (the
SLA clocks) takes too, so two derivations never race. (Letting imports run during a
refresh is safe in principle, as the two write different tables and the refresh records
only the imports it saw, but measured no faster on two cores.)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import duckdb

log = logging.getLogger("cxmetrics.api")

#: The write-ahead log's size at which a commit checkpoints (DuckDB's `checkpoint_threshold`)
#: in a server: past the pauses the refresher checkpoints in (module doc).
CHECKPOINT_THRESHOLD = "256MiB"
#: The longest a write waits for a text part it stops to end (`Refresher.writing`).
STOP_WAIT_S = 1.0


def _interrupted(exc: BaseException) -> bool:
    """Whether `exc` is, or was raised from, the engine's interrupt (the workspace turns
    engine errors into StoreError, the interrupt its cause)."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain:
        if isinstance(seen, duckdb.InterruptException):
            return True
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return False


class Refresher:
    def __init__(self, workspace: Any, publish: Callable[[list[str]], int], *, max_delay_s: float = 0.5,
                 after: Callable[[], None] | None = None, derive_lock: threading.Lock | None = None,
                 text_idle_s: float = 0.2, text_delay_s: float = 10.0,
                 text_layer: Callable[[Any], bool] | None = None, checkpoint_idle_s: float | None = None) -> None:
        self.workspace, self.publish, self.max_delay_s, self.after = workspace, publish, max_delay_s, after
        self.text_idle_s, self.text_delay_s = text_idle_s, text_delay_s
        self.checkpoint_idle_s = checkpoint_idle_s  # None: DuckDB checkpoints as it would
        self.text_layer = text_layer or _text_layer_on  # whether a cursor's workspace has the text layer on
        self.derive_lock = derive_lock or threading.Lock()
        self._cond = threading.Condition()
        self._tables: set[str] = set()
        self._requested = 0  # writes registered
        self._done = 0  # writes covered by a finished refresh
        self._waiting = 0
        self._writing = 0  # writes in progress, not registered yet
        self._version = 0  # hub version after the last refresh
        self._error: BaseException | None = None
        self._error_upto = 0
        self._closed = False
        self._text_behind_since: float | None = None  # the text facts lag the facts since then
        self._last_write = 0.0  # monotonic time of the last write registered or finished
        self._text_retry_at = 0.0  # after a failed text pass, not before then
        self._checkpoint_owed = False  # a refresh wrote since the last checkpoint
        self._text_con: Any = None  # the connection of a text part that a write may stop, while it runs
        self._text_stop = False  # a write stopped the running text part
        self.refreshes = 0
        self.text_refreshes = 0
        self.checkpoints = 0
        self.text_parts_stopped = 0
        if checkpoint_idle_s is not None:
            workspace.con.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
        self._thread = threading.Thread(target=self._run, name="cxmetrics-refresher", daemon=True)
        self._thread.start()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Around a write and its `wrote`: the next refresh waits for it (at most max_delay_s), and
        a text part that may be stopped is stopped first, so that the write need not wait for it."""
        with self._cond:
            self._writing += 1
            self._stop_text_part()
        try:
            yield
        finally:
            with self._cond:
                self._writing -= 1
                self._last_write = time.monotonic()
                self._cond.notify_all()

    def _stop_text_part(self) -> None:
        """Stop the running text part, if it may be stopped, and wait until it has ended (at most
        `STOP_WAIT_S`); called with the lock held. An interrupt between two of the part's
        statements does not stop it (the engine clears it when the next one starts), so it is
        repeated until the part ends: the part stops at its next statement, within a few
        milliseconds. A part that runs no statement for longer (it waits for the write lock
        behind a long upload) is left alone after `STOP_WAIT_S`: the write then waits for the
        lock as any write does, and is refused with 503 past the `write_wait` setting."""
        deadline = time.monotonic() + STOP_WAIT_S
        while self._text_con is not None and time.monotonic() < deadline:
            self._text_stop = True
            try:
                self._text_con.interrupt()
            except Exception:  # noqa: BLE001 - the part ended and closed its connection meanwhile
                pass
            self._cond.wait(0.005)

    def wrote(self, tables: list[str] | tuple[str, ...]) -> int:
        """Register a committed write to `tables`; returns its ticket for `wait`."""
        with self._cond:
            self._requested += 1
            self._tables.update(tables)
            self._last_write = time.monotonic()
            self._cond.notify_all()
            return self._requested

    def quiet_s(self) -> float:
        """How long the writes have paused: seconds since the last write was registered or
        its facts refreshed; 0 while a write is in progress or its facts are pending. (The
        survey sender waits for a pause, so as not to hold a stream of writes up.)"""
        with self._cond:
            if self._writing or self._requested > self._done:
                return 0.0
            return max(time.monotonic() - self._last_write, 0.0)

    def wait(self, ticket: int, timeout: float | None = 300.0) -> int:
        """Block until the facts include write `ticket`; returns the hub version then.
        Raises the refresh's error if it failed, TimeoutError after `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._waiting += 1
            self._cond.notify_all()
            try:
                while self._done < ticket:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        raise TimeoutError("the facts refresh is taking too long")
                    if self._closed and not self._thread.is_alive():
                        raise RuntimeError("the server is shutting down")
                    self._cond.wait(left)
                if self._error is not None and ticket <= self._error_upto:
                    raise self._error
                return self._version
            finally:
                self._waiting -= 1

    def _text_due(self) -> float | None:
        """When the text facts should be refreshed (monotonic time; None: they are not behind).
        Called with the lock held."""
        if self._text_behind_since is None:
            return None
        idle = self._last_write + self.text_idle_s if not self._writing else float("inf")
        return max(min(idle, self._text_behind_since + self.text_delay_s), self._text_retry_at)

    def _checkpoint_due(self) -> float | None:
        """When to checkpoint (monotonic time; None: nothing to, or a write is under way).
        Called with the lock held."""
        if not self._checkpoint_owed or self.checkpoint_idle_s is None or self._writing:
            return None
        return self._last_write + self.checkpoint_idle_s

    def _next_batch(self) -> tuple[int, set[str], bool, bool] | None:
        """(the writes to cover, the tables they wrote, whether the text facts come too,
        whether it is a checkpoint alone)."""
        with self._cond:
            while self._requested == self._done and not self._closed:
                now = time.monotonic()
                due = self._text_due()
                if due is not None and now >= due:
                    return self._requested, set(), True, False  # the text facts alone (and any write since)
                checkpoint = self._checkpoint_due()
                if checkpoint is not None and now >= checkpoint:
                    return self._requested, set(), False, True
                wake = min((t for t in (due, checkpoint) if t is not None), default=None)
                self._cond.wait(None if wake is None else max(wake - now, 0.001))
            if self._requested == self._done:
                return None  # closed with nothing left to do (the text facts catch up at the next refresh)
            first = time.monotonic()
            # as soon as someone waits, unless other writes are under way (then with them)
            while not self._closed and not (self._waiting and not self._writing):
                left = self.max_delay_s - (time.monotonic() - first)
                if left <= 0:
                    break
                self._cond.wait(left)
            target, tables = self._requested, self._tables
            self._tables = set()
            due = self._text_due()
            return target, tables, due is not None and time.monotonic() >= due, False

    def _checkpoint(self) -> None:
        """Checkpoint now, under the write lock (reads carry on); if it fails, after the next pause."""
        try:
            with self.derive_lock, self.workspace.cursor(auto_refresh=False) as cur, cur._write_lock:
                cur.con.execute("CHECKPOINT")
            done = True
        except Exception:  # noqa: BLE001 - the writes go on as they would without it
            log.warning("checkpointing the store failed (tried again after the next pause)", exc_info=True)
            done = False
        with self._cond:
            if done:
                self._checkpoint_owed = False
                self.checkpoints += 1
            else:
                self._last_write = time.monotonic()  # (after another pause)

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            target, tables, text, checkpoint = batch
            if checkpoint:
                self._checkpoint()
            elif target > self._done:
                self._facts(target, tables)
            if text:
                self._text_pass()

    def _facts(self, target: int, tables: set[str]) -> None:
        """The facts of every write up to `target`; its waiters get their answer (or its error)."""
        error: BaseException | None = None
        version = self._version
        behind = False
        try:
            with self.derive_lock, self.workspace.cursor(auto_refresh=False) as cur:
                # under the workspace's write lock, with its schedules
                refreshed = cur.refresh(text=False)
                behind = refreshed > 0 and self.text_layer(cur)
            version = self.publish(sorted(tables) + ["ticket_facts"])
            self.refreshes += 1
            if self.after is not None:
                self.after()
        except BaseException as exc:
            log.exception("refreshing the facts after a write failed")
            error = exc
        with self._cond:
            now = time.monotonic()
            if behind and self._text_behind_since is None:
                self._text_behind_since = now
            self._last_write = now  # its writers get their answers now: the quiet that lets the text pass in starts here
            self._checkpoint_owed = True
            self._done, self._version = target, version
            self._error, self._error_upto = error, target if error is not None else 0
            self._cond.notify_all()

    def _text_pass(self) -> None:
        """The text facts, part by part (`_refresh_text_part`: a few imports each, under the write
        lock): between parts, writes that came in go first; the text facts then stay behind,
        and the rest follows after their facts (one part after each refresh while the writes
        keep coming past `text_delay_s`, the whole rest at the next pause)."""
        parts, caught_up, failed = 0, False, False
        try:
            while True:
                with self.derive_lock, self.workspace.cursor(auto_refresh=False) as cur:
                    with self._cond:
                        behind = self._text_behind_since
                        if behind is not None and time.monotonic() - behind < self.text_delay_s:
                            if self._writing:  # a write is under way: it goes first
                                break
                            self._text_con = getattr(cur, "con", None)  # a write that comes now stops this part
                        self._text_stop = False
                    try:
                        more = cur._refresh_text_part()
                    except BaseException as exc:
                        with self._cond:
                            # a stop is the engine's interrupt, asked for by a write: any other
                            # failure is one (a write that gave up stopping the part leaves its
                            # ask standing)
                            if not (self._text_stop and _interrupted(exc)):
                                raise
                        self.text_parts_stopped += 1  # rolled back, taken again at the next pause
                        log.debug("a text part made way for a write")
                        break
                    finally:
                        with self._cond:
                            self._text_con = None
                            self._cond.notify_all()
                parts += 1
                if not more:
                    caught_up = True
                    break
                with self._cond:
                    if self._closed or self._requested > self._done:
                        break
        except BaseException:  # the writes' facts are in: their waiters are not told, the pass is tried again later
            log.exception("refreshing the text facts failed (tried again in %g s)", self.text_delay_s)
            failed = True
        version = None
        if parts:  # a part wrote
            try:
                version = self.publish(["ticket_text"])
            except Exception:  # noqa: BLE001 - the text facts are in; the next change tells the clients
                log.exception("publishing the text facts' change failed")
        with self._cond:
            if caught_up:
                self._text_behind_since = None
                self.text_refreshes += 1
            elif failed:
                self._text_retry_at = time.monotonic() + self.text_delay_s
            if parts:
                self._checkpoint_owed = True
            if version is not None:
                self._version = version
            self._cond.notify_all()

    def close(self, timeout: float = 60.0) -> None:
        """Finish the pending refresh (if any) and stop."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout)


def _text_layer_on(cur: Any) -> bool:
    from cxmetrics.text._store import enabled

    return enabled(cur.con)
