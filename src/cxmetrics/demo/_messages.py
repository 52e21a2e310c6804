"""Composing a chunk's message bodies from phrases, still as codes and Arrow joins.

A body is six parts in a fixed order: greeting, opener, reference, main text, extra and
sign-off, each a code into `PARTS` (-1 for none), plus the ticket's customer name and quoted
number for the phrases with a `{name}` or `{number}`. `Texts` keeps the parts of every body
the timeline asks for and hands back body codes that follow the shared vocabulary and the
chunk's merge notes; `render` then builds all the strings at once with Arrow string joins, so
there is no Python string building per message.

Who writes what (the variation the text layer measures, docs/text.md):
- customers write about their ticket's subject and sign with their first name;
- each agent has a style drawn once per seed: how often they greet by name and refer to the
  ticket's number, apologise, and answer a second question; a few agents give a discrepant
  answer on one topic (`DISCREPANT`);
- text choices come from their own random stream, so changing a phrase never moves the
  simulated numbers (CSAT, FRT, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxmetrics.demo._arrow import codes
from cxmetrics.demo._calendar import NEVER
from cxmetrics.demo._channels import CHANNEL_NAMES, CHAT, MESSAGING, SOCIAL
from cxmetrics.demo._events import BODY_VOCAB
from cxmetrics.demo._org import BILLING, TECHNICAL, TIER1
from cxmetrics.demo._phrases import GROUPS, REFER
from cxmetrics.demo._text import CUSTOMER_NAMES, SUBJECTS, TOPICS, Vocabulary
from cxmetrics.demo._world import rng_for

if TYPE_CHECKING:
    from cxmetrics.demo._context import Context
    from cxmetrics.demo._world import World

PARTS = Vocabulary(GROUPS)
GREET, OPEN, REFERENCE, MAIN, EXTRA, END = range(6)
_SENTENCES = (OPEN, REFERENCE, MAIN, EXTRA)  # joined with a space; greeting and sign-off bring their own breaks

# Streams after _world's (1-5): the texts of each chunk, and the agents' styles.
STREAM_TEXT, STREAM_STYLES = 6, 7

# (team, topic): one agent of the team, drawn per seed, gives the topic's discrepant answer.
DISCREPANT: tuple[tuple[int, str], ...] = ((BILLING, "billing"), (TIER1, "shipping"), (TECHNICAL, "bug"))

# channels whose customers write short, mostly unsigned messages (phone follow-ups are emails)
_LIVE = np.zeros(len(CHANNEL_NAMES), dtype=bool)
_LIVE[[CHAT, MESSAGING, SOCIAL]] = True

# Each phrase split at its placeholder (at most one): head, slot (0 none, 1 name, 2 number), tail.
_PLACEHOLDER = re.compile(r"\{(name|number)\}")


def _split(words: list[str]) -> tuple[pa.Array, np.ndarray, pa.Array]:
    heads, slots, tails = [], [], []
    for word in words:
        pieces = _PLACEHOLDER.split(word)
        if len(pieces) > 3:
            raise AssertionError(f"a demo phrase may hold one placeholder: {word!r}")
        heads.append(pieces[0])
        slots.append(0 if len(pieces) == 1 else 1 + ("name", "number").index(pieces[1]))
        tails.append(pieces[2] if len(pieces) == 3 else "")
    return pa.array(heads), np.array(slots, dtype=np.int8), pa.array(tails)


_HEADS, _SLOTS, _TAILS = _split(PARTS.words)
_NAMES = pa.array(CUSTOMER_NAMES)
_TOPIC_GROUPS = {prefix: [f"{prefix}:{t}" for t in TOPICS]
                 for prefix in ("context", "ask2", "answer2", "answer", "clarify", "bot")}
_WRONG_GROUPS = [f"wrong:{t}" for t in TOPICS if f"wrong:{t}" in PARTS.groups]
# the position of each topic among the topics that have a discrepant answer (-1: none)
_WRONG_INDEX = np.array([_WRONG_GROUPS.index(f"wrong:{t}") if f"wrong:{t}" in _WRONG_GROUPS else -1 for t in TOPICS])
_FIRST_GROUPS = [f"first:{i}" for i in range(sum(len(s) for s in SUBJECTS.values()))]
# The reference phrase for each subject that quotes a number ("I've looked up order #..."), else -1.
_REFER_OF_SUBJECT = np.array([
    PARTS.groups["refer"][0] + list(REFER).index(prefix.rstrip("# ").split()[-1].lower()) if suffix is not None else -1
    for subjects in SUBJECTS.values() for prefix, suffix in subjects])


def customer_names(customer: np.ndarray) -> np.ndarray:
    """Each customer's first name (a code into CUSTOMER_NAMES), the same on all their tickets."""
    mixed = (np.asarray(customer, dtype=np.uint64) * np.uint64(2654435761)) >> np.uint64(7)
    return (mixed % np.uint64(len(CUSTOMER_NAMES))).astype(np.int32)


@dataclass(frozen=True)
class Styles:
    """How each agent writes (indexed by agent): probabilities, and the topic they answer
    discrepantly (-1 for none)."""

    named: np.ndarray  # greets the customer by name, and refers to the number they quoted
    empathy: np.ndarray  # acknowledges or apologises unprompted
    thorough: np.ndarray  # answers a second question too
    wrong: np.ndarray


def agent_styles(world: World) -> Styles:
    """Drawn once per seed; better agents (higher quality) are a little more personal and thorough."""
    agents = world.agents
    rng = rng_for(world.config.seed, STREAM_STYLES)
    n = len(agents.names)
    quality = agents.quality

    def share(base: float, slope: float, spread: float) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(base + slope * quality + rng.normal(0.0, spread, n))))

    named, empathy, thorough = share(0.4, 1.5, 0.9), share(-0.7, 1.0, 0.8), share(1.2, 1.5, 0.7)
    wrong = np.full(n, -1, dtype=np.int8)
    for team, topic in DISCREPANT:
        # an agent who stays all year, likelier a fast one (more tickets, so it shows)
        pool = np.flatnonzero((agents.team == team) & ~agents.bot & (agents.left == NEVER)
                              & (agents.hired <= world.cal.start) & (wrong < 0))
        weight = 1.0 / agents.speed[pool]
        wrong[rng.choice(pool, p=weight / weight.sum())] = TOPICS.index(topic)
    return Styles(named, empathy, thorough, wrong)


class Texts:
    """The composed bodies of one chunk (see the module docstring)."""

    def __init__(self, ctx: Context) -> None:
        world, draw = ctx.world, ctx.draw
        # after the shared vocabulary and the chunk's merge notes ("Merged into ...", one per ticket)
        self.base = len(BODY_VOCAB) + draw.n
        self.rng = rng_for(world.config.seed, STREAM_TEXT, draw.offset)
        self.styles = agent_styles(world)
        self.topic = draw.topic.astype(np.int64)
        self.subject = draw.subject
        self.live = _LIVE[draw.channel]
        self.friction = world.customers.friction[draw.requester]
        self.name = customer_names(draw.requester)
        self.number = np.where(_REFER_OF_SUBJECT[draw.subject] >= 0, draw.number, -1)
        self.ask2 = np.full(draw.n, -1, dtype=np.int64)  # which second question the customer asked
        self._parts: list[np.ndarray] = []
        self._rows: list[np.ndarray] = []
        self._count = 0

    # -- building blocks ----------------------------------------------------------------------

    def _compose(self, rows: np.ndarray, parts: dict[int, np.ndarray]) -> np.ndarray:
        block = np.full((rows.size, 6), -1, dtype=np.int32)
        for position, part in parts.items():
            block[:, position] = part
        self._parts.append(block)
        self._rows.append(rows)
        start = self.base + self._count
        self._count += rows.size
        return np.arange(start, start + rows.size, dtype=np.int64)

    def _maybe(self, codes_: np.ndarray, p: np.ndarray | float) -> np.ndarray:
        return np.where(self.rng.random(len(codes_)) < p, codes_, -1)

    def _pick(self, group: str, n: int) -> np.ndarray:
        return PARTS.pick(group, self.rng, n)

    def _by_topic(self, prefix: str, rows: np.ndarray) -> np.ndarray:
        return PARTS.pick_from(_TOPIC_GROUPS[prefix], self.topic[rows], self.rng)

    # -- customers ----------------------------------------------------------------------------

    def first_message(self, rows: np.ndarray) -> np.ndarray:
        """The message a customer opens a ticket with: about its subject, signed."""
        n, rng = rows.size, self.rng
        live = self.live[rows]
        opening = np.where(live, self._maybe(self._pick("open_live", n), 0.5),
                           self._maybe(self._pick("open_written", n), 0.85))
        outage = self.topic[rows] == TOPICS.index("outage")
        upset = self.friction[rows] > 1.0
        opener = np.select([outage & (rng.random(n) < 0.4), upset & (rng.random(n) < 0.5)],
                           [self._pick("urgent", n), self._pick("upset", n)], -1)
        ask2 = np.where(rng.random(n) < 0.3, (rng.random(n) < 0.5).astype(np.int64), -1)
        self.ask2[rows] = ask2
        extra = np.where(ask2 >= 0, self._topic_phrase("ask2", rows, ask2), -1)
        signed = np.where(live, 0.3, 0.9)
        return self._compose(rows, {
            GREET: opening, OPEN: opener, REFERENCE: self._maybe(self._by_topic("context", rows), 0.6),
            MAIN: PARTS.pick_from(_FIRST_GROUPS, self.subject[rows], rng),
            EXTRA: extra, END: self._maybe(self._pick("sign", n), signed)})

    def customer(self, rows: np.ndarray, group: np.ndarray, groups: tuple[str, ...]) -> np.ndarray:
        """A follow-up of each row in the tone `groups[group[row]]`, sometimes signed."""
        n = rows.size
        signed = np.where(self.live[rows], 0.1, 0.5)
        return self._compose(rows, {MAIN: PARTS.pick_from(groups, group, self.rng),
                                    END: self._maybe(self._pick("sign", n), signed)})

    # -- agents -------------------------------------------------------------------------------

    def _topic_phrase(self, prefix: str, rows: np.ndarray, index: np.ndarray) -> np.ndarray:
        offsets = np.array([PARTS.groups[f"{prefix}:{t}"][0] for t in TOPICS])
        return offsets[self.topic[rows]] + np.maximum(index, 0)

    def answer(self, rows: np.ndarray, agent: np.ndarray) -> np.ndarray:
        """The resolution of each row's topic: the usual one, or the agent's discrepant one."""
        out = self._by_topic("answer", rows)
        wrong = np.flatnonzero(self.styles.wrong[agent] == self.topic[rows])
        if wrong.size:
            out[wrong] = PARTS.pick_from(_WRONG_GROUPS, _WRONG_INDEX[self.topic[rows[wrong]]], self.rng)
        return out

    def reply(self, rows: np.ndarray, agent: np.ndarray, stage: str, *, tone: np.ndarray | None = None,
              resolves: np.ndarray | None = None) -> np.ndarray:
        """An agent's public reply. `stage` is one of: first (answers the opening message, and
        its second question if the agent is thorough), attempt (an answer later on), clarify
        (asks back), middle (a holding reply), final (resolves; `tone` 0-2 is how the customer's
        last message sounded: fed up, neutral, pleased), update (resolves after on-hold),
        reopen (after the customer reopened), call and callback (sum up a call: the answer
        where `resolves`, else what happens next)."""
        n, rng, st = rows.size, self.rng, self.styles
        agent = np.asarray(agent)
        named = rng.random(n) < st.named[agent]
        greeting = np.where(named, self._pick("greet_name", n), self._pick("greet_generic", n))
        empathy = self._pick("empathy", n)
        opener = self._maybe(empathy, st.empathy[agent])
        main = self.answer(rows, agent)
        extra = np.full(n, -1, dtype=np.int64)
        refer = np.full(n, -1, dtype=np.int64)
        if stage not in ("middle", "update", "reopen"):  # personal agents name the order or invoice
            refer = np.where(named & (rng.random(n) < 0.8), _REFER_OF_SUBJECT[self.subject[rows]], -1)
        if stage == "first":
            asked = self.ask2[rows]
            extra = np.where((asked >= 0) & (rng.random(n) < st.thorough[agent]),
                             self._topic_phrase("answer2", rows, asked), -1)
        elif stage == "clarify":
            main = self._by_topic("clarify", rows)
        elif stage == "middle":
            main = self._pick("middle", n)
        elif stage == "final" and tone is not None:
            opener = np.select([tone == 2, tone == 0],
                               [self._maybe(self._pick("glad", n), 0.7),
                                self._maybe(empathy, np.minimum(st.empathy[agent] + 0.4, 1.0))], opener)
        elif stage in ("update", "reopen"):
            opener = self._pick("patience" if stage == "update" else "sorry_again", n)
        elif stage in ("call", "callback"):
            opener = self._pick(f"{stage}_open", n)
            main = np.where(resolves if resolves is not None else True, main, self._pick("call_later", n))
        return self._compose(rows, {GREET: greeting, OPEN: opener, REFERENCE: refer, MAIN: main,
                                    EXTRA: extra, END: self._maybe(self._pick("close", n), 0.8)})

    def bot(self, rows: np.ndarray) -> np.ndarray:
        """A bot's first answer: the help-centre article of the row's topic."""
        return self._compose(rows, {MAIN: self._by_topic("bot", rows)})

    # -- the strings --------------------------------------------------------------------------

    def render(self) -> pa.Array:
        """Every composed body, in code order (code - base is the position here)."""
        if not self._parts:
            return pa.array([], pa.string())
        parts = np.concatenate(self._parts)
        rows = np.concatenate(self._rows)
        m = rows.size
        names = pc.fill_null(codes(_NAMES, self.name[rows]), "")
        number = self.number[rows]
        numbers = pc.fill_null(pa.array(number, mask=number < 0).cast(pa.string()), "")
        empty = pa.array([""]).take(pa.array(np.zeros(m, dtype=np.int64)))
        values = pa.concat_arrays([empty, names, numbers])  # slot 0, 1, 2: row i's value is at slot * m + i
        texts = []
        for position in range(6):
            part = parts[:, position]
            slot = np.where(part >= 0, _SLOTS[np.maximum(part, 0)], 0).astype(np.int64)
            value = values.take(pa.array(slot * m + np.arange(m)))
            texts.append(pc.binary_join_element_wise(codes(_HEADS, part), value, codes(_TAILS, part), "",
                                                     null_handling="emit_null"))
        middle = pc.binary_join_element_wise(*(texts[p] for p in _SENTENCES), " ", null_handling="skip")
        whole = pc.binary_join_element_wise(texts[GREET], middle, texts[END], "", null_handling="replace",
                                            null_replacement="")
        return pc.utf8_trim_whitespace(whole)

