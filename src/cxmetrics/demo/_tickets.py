"""What each ticket is about, and the tickets table that sums up where it ended.

A ticket's dimensions (requester, topic, product, priority, routed team, subject) are drawn here
before its timeline is simulated; its final status, assignee and team are then read back from the
events that survived the cut at the window's end, so the tickets table always agrees with the
events table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxmetrics.demo._arrow import build, codes, ids, tag_lists, timestamps
from cxmetrics.demo._channels import CHANNEL_NAMES, CHAT, MESSAGING, PHONE, SOCIAL, channel_column
from cxmetrics.demo._events import KIND, STATUS, last_per_ticket
from cxmetrics.demo._org import BILLING, REGIONS, TEAMS, TECHNICAL, TIER1, TIER2, TIERS, VIP
from cxmetrics.demo._org import SOCIAL as SOCIAL_TEAM
from cxmetrics.demo._text import PRODUCTS, SUBJECTS, TOPIC_PRODUCTS, TOPIC_SHARES, TOPICS
from cxmetrics.demo._world import World
from cxmetrics.model import CREATED_BY, PRIORITIES, TICKET_STATUSES

NORMAL, SPAM, DELETED, MERGED = range(4)
T = {t: i for i, t in enumerate(TOPICS)}

_SUBJECT_TOPIC = np.array([T[t] for t, subjects in SUBJECTS.items() for _ in subjects])
_SUBJECT_FIRST = {t: int(np.flatnonzero(T[t] == _SUBJECT_TOPIC)[0]) for t in SUBJECTS}
SUBJECT_PREFIX = pa.array([p for subjects in SUBJECTS.values() for p, _ in subjects])
SUBJECT_SUFFIX = pa.array([s or "" for subjects in SUBJECTS.values() for _, s in subjects])
SUBJECT_NUMBERED = np.array([s is not None for subjects in SUBJECTS.values() for _, s in subjects])

TAGS = (*TOPICS, "vip", "refund", "mobile", "black-friday", "outage-incident", "escalated",
        "chatbot", "callback", "urgent")
TAG = {t: i for i, t in enumerate(TAGS)}

# Cumulative priority mixes (low, normal, high, urgent) for ordinary, enterprise and outage tickets.
_PRIORITY_CUM = np.cumsum([[0.22, 0.57, 0.16, 0.05], [0.10, 0.50, 0.27, 0.13], [0.02, 0.28, 0.45, 0.25]], axis=1)


@dataclass
class TicketDraw:
    """The dimensions of one chunk's tickets (local index = position in the chunk)."""

    offset: int  # global index of the chunk's first ticket
    created: np.ndarray
    channel: np.ndarray
    spike: np.ndarray
    created_by: np.ndarray  # index into CREATED_BY
    requester: np.ndarray  # customer index
    priority: np.ndarray
    topic: np.ndarray
    product: np.ndarray
    team: np.ndarray  # routed team
    subject: np.ndarray
    number: np.ndarray  # the order or invoice number a subject may quote
    fate: np.ndarray  # NORMAL, SPAM, DELETED or MERGED
    merge_target: np.ndarray  # local index of the ticket a merged one joins, else -1

    @property
    def n(self) -> int:
        return len(self.created)


def draw_tickets(world: World, offset: int, created: np.ndarray, channel: np.ndarray,
                 spike: np.ndarray, rng: np.random.Generator) -> TicketDraw:
    """Draw requester, topic, priority, routing and subject for a chunk of arrivals."""
    n = len(created)
    spikes = world.cal.moments.spikes
    created_by = rng.choice(3, size=n, p=[0.92, 0.07, 0.01]).astype(np.int8)
    created_by[spike >= 0] = 0
    requester = world.customers.pick(created, rng)
    topic = rng.choice(len(TOPICS), size=n, p=TOPIC_SHARES).astype(np.int8)
    product = np.zeros(n, dtype=np.int8)
    for code, name in enumerate(TOPICS):
        rows = np.flatnonzero(topic == code)
        product[rows] = rng.choice(len(PRODUCTS), size=rows.size, p=TOPIC_PRODUCTS[name])
    for k, sp in enumerate(spikes):
        rows = np.flatnonzero(spike == k)
        names, shares = zip(*sp.topics)
        topic[rows] = np.array([T[t] for t in names])[rng.choice(len(names), size=rows.size, p=shares)]
        for code in np.unique(topic[rows]):
            sub = rows[topic[rows] == code]
            product[sub] = rng.choice(len(PRODUCTS), size=sub.size, p=TOPIC_PRODUCTS[TOPICS[code]])
        if sp.product:
            product[rows] = PRODUCTS.index(sp.product)

    # Priority and routing, then the special fates (spam, deleted, merged duplicates).
    fate, merge_target = _fates(channel, created_by, rng)
    merged = np.flatnonzero(merge_target >= 0)
    requester[merged] = requester[merge_target[merged]]
    topic[merged] = topic[merge_target[merged]]
    product[merged] = product[merge_target[merged]]
    tier = world.customers.tier[requester]
    outage = [k for k, sp in enumerate(spikes) if sp.label == "outage"]
    kind = np.where((topic == T["outage"]) | np.isin(spike, outage), 2, np.where(tier == 2, 1, 0))
    priority = (rng.random(n)[:, None] > _PRIORITY_CUM[kind]).sum(axis=1).clip(0, 3).astype(np.int8)
    team = _route(channel, topic, tier, rng)
    first = np.array([_SUBJECT_FIRST[t] for t in TOPICS])[topic]
    per_topic = np.bincount(_SUBJECT_TOPIC, minlength=len(TOPICS))[topic]
    subject = first + (rng.random(n) * per_topic).astype(np.int64)
    subject[merged] = subject[merge_target[merged]]
    number = rng.integers(1000, 99999, n)
    number[merged] = number[merge_target[merged]]
    return TicketDraw(offset, created, channel, spike, created_by, requester, priority, topic,
                      product, team, subject, number, fate, merge_target)


def _fates(channel: np.ndarray, created_by: np.ndarray, rng: np.random.Generator
           ) -> tuple[np.ndarray, np.ndarray]:
    """Spam, deleted and merged tickets (a merged one joins an earlier ticket of the chunk)."""
    n = len(channel)
    u = rng.random(n)
    spam = channel_column("spam")[channel]
    inbound = created_by == 0
    fate = np.full(n, NORMAL, dtype=np.int8)
    fate[inbound & (u < spam)] = SPAM
    fate[inbound & (u >= spam) & (u < spam + 0.003)] = DELETED
    can_merge = inbound & (u >= 0.5) & (u < 0.512) & (channel != PHONE) & (np.arange(n) > 0)
    fate[can_merge] = MERGED
    back = np.minimum(rng.integers(1, 40, n), np.arange(n))
    merge_target = np.where(can_merge, np.arange(n) - back, -1)
    return fate, merge_target


def _route(channel: np.ndarray, topic: np.ndarray, tier: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The first team: live channels go to Tier 1, written ones by topic; VIPs and social apart."""
    team = np.full(len(channel), TIER1, dtype=np.int8)
    written = ~np.isin(channel, [CHAT, MESSAGING, PHONE])
    team[written & np.isin(topic, [T["billing"], T["cancellation"]])] = BILLING
    team[written & np.isin(topic, [T["bug"], T["outage"]])] = TECHNICAL
    team[written & (topic == T["feature_request"])] = TIER2
    team[channel == SOCIAL] = SOCIAL_TEAM
    team[(tier == 2) & (rng.random(len(channel)) < 0.85)] = VIP
    return team


def ticket_ids(offset: int, n: int, total: int) -> pa.Array:
    """Ticket ids T0000001..., wide enough for the whole demo."""
    return ids("T", np.arange(offset + 1, offset + n + 1), max(7, len(str(total))))


def tickets_table(world: World, draw: TicketDraw, tids: pa.Array, ev: dict[str, np.ndarray],
                  facts: dict[str, np.ndarray]) -> pa.Table:
    """The tickets of a chunk, their current state read from their (cut) events."""
    n = draw.n
    last_status = last_per_ticket(ev, ev["kind"] == KIND["status"], n)
    status = np.where(last_status >= 0, ev["status_to"][last_status], STATUS["new"])
    status = np.select([draw.fate == SPAM, draw.fate == DELETED], [6, 7], status)
    last_assign = last_per_ticket(ev, ev["kind"] == KIND["assign"], n)
    assignee = np.where(last_assign >= 0, ev["assignee"][last_assign], -1)
    bot_solved = (facts["contained"] & (facts["solved"] < facts["horizon"]))
    assignee = np.where(bot_solved, facts["solver"], assignee)
    assignee = world.agents.hand_over(assignee, np.minimum(facts["solved"], facts["horizon"]))
    team = np.where(last_assign >= 0, ev["team"][last_assign], draw.team)
    last_priority = last_per_ticket(ev, ev["priority"] >= 0, n)
    priority = np.where(last_priority >= 0, ev["priority"][last_priority], draw.priority)
    agent_type = np.where(assignee < 0, -1, world.agents.bot[np.maximum(assignee, 0)].astype(np.int8))
    customers = world.customers
    tier = customers.tier[draw.requester]
    numbered = SUBJECT_NUMBERED[draw.subject]
    number = pa.array(draw.number, mask=~numbered).cast(pa.string())
    subject = pc.binary_join_element_wise(codes(SUBJECT_PREFIX, draw.subject), number,
                                          codes(SUBJECT_SUFFIX, draw.subject), "",
                                          null_handling="replace", null_replacement="")
    return build("tickets", n, {
        "ticket_id": tids,
        "created_at": timestamps(draw.created),
        "channel": codes(pa.array(CHANNEL_NAMES), draw.channel),
        "priority": codes(pa.array(PRIORITIES), priority),
        "status": codes(pa.array(TICKET_STATUSES), status),
        "requester_id": codes(customers.ids, draw.requester),
        "assignee_id": codes(world.agents.ids, assignee),
        "agent_type": codes(pa.array(["human", "bot"]), agent_type),
        "team": codes(pa.array(TEAMS), team),
        "topic": codes(pa.array(TOPICS), draw.topic),
        "tags": _tags(world, draw, facts, priority, tier),
        "product": codes(pa.array(PRODUCTS), draw.product),
        "customer_tier": codes(pa.array(TIERS), tier),
        "region": codes(pa.array(REGIONS), customers.region[draw.requester]),
        "created_by": codes(pa.array(CREATED_BY), draw.created_by),
        "subject": subject,
    })


def _tags(world: World, draw: TicketDraw, facts: dict[str, np.ndarray], priority: np.ndarray,
          tier: np.ndarray) -> pa.Array:
    n = draw.n
    labels = [s.label for s in world.cal.moments.spikes]
    present = np.zeros((n, len(TAGS)), dtype=bool)
    present[np.arange(n), draw.topic] = True
    present[:, TAG["vip"]] = tier == 2
    present[:, TAG["refund"]] = (draw.topic == T["billing"]) & (draw.number % 3 == 0)
    present[:, TAG["mobile"]] = draw.product == PRODUCTS.index("Mobile App")
    present[:, TAG["black-friday"]] = np.isin(draw.spike, [i for i, s in enumerate(labels) if s == "black_friday"])
    present[:, TAG["outage-incident"]] = draw.spike == labels.index("outage")
    present[:, TAG["escalated"]] = facts["escalated"] < facts["horizon"]
    present[:, TAG["chatbot"]] = facts["bot"] >= 0
    present[:, TAG["callback"]] = facts["callback"]
    present[:, TAG["urgent"]] = priority == 3
    return tag_lists(pa.array(TAGS), present)
