"""Collecting a chunk's events as NumPy column blocks and turning them into the events table.

The timeline code adds one block per step (all first replies, all call answers, ...), each a few
arrays for a subset of tickets. Here the blocks are concatenated, cut at each ticket's horizon
(the end of the window, or the moment a stale ticket stalls), sorted by ticket and time, and
numbered, so that an event id is `{ticket_id}-{n}` in the order things happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxmetrics.demo import _text
from cxmetrics.demo._arrow import build, codes, flags, join, numbers, timestamps
from cxmetrics.model import ACTOR_TYPES, EVENT_KINDS, STATUSES

if TYPE_CHECKING:
    from cxmetrics.demo._messages import Texts

KIND = {k: i for i, k in enumerate(EVENT_KINDS)}
ACTOR = {a: i for i, a in enumerate(ACTOR_TYPES)}
STATUS = {s: i for i, s in enumerate(STATUSES)}

# The fixed message bodies in one vocabulary; most messages are composed per event (_messages.Texts).
BODIES = _text.Vocabulary({
    "customer_bot_ok": _text.CUSTOMER_AFTER_BOT_OK,
    "customer_bot_no": _text.CUSTOMER_AFTER_BOT_NO,
    "agent_note": _text.AGENT_NOTE,
    "agent_outbound": _text.AGENT_OUTBOUND,
    "system_created": _text.SYSTEM_CREATED,
})
BODY_VOCAB: list[str] = BODIES.words
body = BODIES.pick

# (field, dtype, null value); `seq` orders events that share a timestamp.
FIELDS: tuple[tuple[str, type, object], ...] = (
    ("ticket", np.int32, 0),
    ("ts", np.int64, 0),
    ("kind", np.int8, -1),
    ("actor_type", np.int8, -1),
    ("actor", np.int64, -1),
    ("public", np.int8, -1),
    ("status_from", np.int8, -1),
    ("status_to", np.int8, -1),
    ("body", np.int32, -1),
    ("channel", np.int8, -1),
    ("duration", np.float64, np.nan),
    ("assignee", np.int32, -1),
    ("team", np.int8, -1),
    ("priority", np.int8, -1),
    ("seq", np.int8, 0),
)


@dataclass
class EventBuffer:
    """Blocks of events for one chunk; scalars in a block apply to all its rows. `texts` holds
    the chunk's composed bodies (their codes follow the shared vocabulary and the merge notes)."""

    blocks: list[dict[str, object]] = field(default_factory=list)
    texts: Texts | None = None

    def add(self, ticket: np.ndarray, ts: np.ndarray, kind: str, by: str | None,
            seq: int, **columns: object) -> None:
        """Events of one kind for some tickets; `by` is the actor type (or pass `actor_type` codes)."""
        if len(ticket) == 0:
            return
        block: dict[str, object] = {"ticket": ticket, "ts": ts, "kind": KIND[kind], "seq": seq, **columns}
        if by is not None:
            block["actor_type"] = ACTOR[by]
        self.blocks.append(block)

    def status(self, ticket: np.ndarray, ts: np.ndarray, old: str, new: str, actor_type: str,
               seq: int, actor: object = -1) -> None:
        """A status change event."""
        self.add(ticket, ts, "status", actor_type, seq, actor=actor,
                 status_from=STATUS[old], status_to=STATUS[new])

    def assemble(self, horizon: np.ndarray) -> dict[str, np.ndarray]:
        """All events before their ticket's horizon, sorted by ticket, time and seq."""
        sizes = [len(b["ticket"]) for b in self.blocks]  # type: ignore[arg-type]
        total = int(sum(sizes))
        cols = {name: np.full(total, null, dtype=dtype) for name, dtype, null in FIELDS}
        start = 0
        for block, size in zip(self.blocks, sizes):
            for name, value in block.items():
                cols[name][start:start + size] = value
            start += size
        keep = cols["ts"] < horizon[cols["ticket"]]
        order = np.lexsort((cols["seq"][keep], cols["ts"][keep], cols["ticket"][keep]))
        kept = np.flatnonzero(keep)[order]
        return {name: col[kept] for name, col in cols.items()}


def last_per_ticket(ev: dict[str, np.ndarray], mask: np.ndarray, n: int) -> np.ndarray:
    """Index of each ticket's last event matching `mask` (events sorted by ticket), -1 if none."""
    idx = np.flatnonzero(mask)
    out = np.full(n, -1, dtype=np.int64)
    if idx.size:
        ticket = ev["ticket"][idx]
        is_last = np.r_[ticket[1:] != ticket[:-1], True]
        out[ticket[is_last]] = idx[is_last]
    return out


def events_table(ev: dict[str, np.ndarray], ticket_ids: pa.Array, actor_ids: pa.Array,
                 agent_ids: pa.Array, body_vocab: pa.Array, channels: pa.Array,
                 teams: pa.Array, priorities: pa.Array) -> pa.Table:
    """The events table of one chunk; ids number each ticket's events from 1 in time order."""
    ticket = ev["ticket"]
    n = len(ticket)
    first = np.r_[True, ticket[1:] != ticket[:-1]] if n else np.zeros(0, bool)
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0)) if n else np.zeros(0, np.int64)
    number = np.arange(n) - start + 1
    tid = codes(ticket_ids, ticket)
    return build("events", n, {
        # zero-padded, so ids sort in time order as text too
        "event_id": join(tid, pc.utf8_lpad(pa.array(number).cast(pa.string()), 3, "0"), sep="-"),
        "ticket_id": tid,
        "ts": timestamps(ev["ts"]),
        "kind": codes(pa.array(EVENT_KINDS), ev["kind"]),
        "actor_type": codes(pa.array(ACTOR_TYPES), ev["actor_type"]),
        "actor_id": codes(actor_ids, ev["actor"]),
        "public": flags(ev["public"]),
        "status_from": codes(pa.array(STATUSES), ev["status_from"]),
        "status_to": codes(pa.array(STATUSES), ev["status_to"]),
        "body": codes(body_vocab, ev["body"]),
        "channel": codes(channels, ev["channel"]),
        "duration_s": numbers(ev["duration"]),
        "assignee_id": codes(agent_ids, ev["assignee"]),
        "team": codes(teams, ev["team"]),
        "priority": codes(priorities, ev["priority"]),
        "origin": "events",
    })
