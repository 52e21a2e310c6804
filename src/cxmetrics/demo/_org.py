"""The people of the demo: agents in teams, two bots, and the customers who write in.

Agents differ in speed and quality, and those two numbers drive their reply times, reopens and
CSAT, so an agent leaderboard built on the demo has something real to rank. Customers carry a
hidden "friction" that makes them write more, rate lower and churn sooner, which gives
support-retention analyses a signal to find.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cxmetrics.demo._arrow import build, codes, ids, timestamps
from cxmetrics.demo._calendar import DAY, HOUR, NEVER, Calendar
from cxmetrics.demo._text import FIRST_NAMES, LAST_NAMES

TEAMS: tuple[str, ...] = ("Tier 1", "Tier 2", "Billing", "Technical", "VIP", "Social", "Automation")
TIER1, TIER2, BILLING, TECHNICAL, VIP, SOCIAL, AUTOMATION = range(len(TEAMS))
TEAM_SIZES: tuple[int, ...] = (50, 12, 16, 14, 18, 10)  # humans at the window start
BOT_NAMES: tuple[str, ...] = ("Answer Bot", "Chat Assistant")
ANSWER_BOT, CHAT_BOT = 0, 1  # index among the bots

TIERS: tuple[str, ...] = ("free", "pro", "enterprise")
REGIONS: tuple[str, ...] = ("EMEA", "NA", "APAC", "LATAM")
SEGMENTS: tuple[str, ...] = ("smb", "mid-market", "enterprise")

NOTICE_DAYS = 21  # leavers get no new tickets in their last weeks
AGENT_TYPES_VOCAB = pa.array(["human", "bot"])


@dataclass(frozen=True)
class Agents:
    """Every agent, humans first (in hiring order), then the bots."""

    ids: pa.Array
    names: list[str]
    team: np.ndarray  # int8 index into TEAMS
    hired: np.ndarray  # int64 UTC microseconds
    left: np.ndarray  # int64, NEVER if still employed
    speed: np.ndarray  # delay multiplier (< 1 is faster)
    quality: np.ndarray  # ~N(0, 0.5): better answers, fewer reopens, higher CSAT
    bot: np.ndarray  # bool
    handover: np.ndarray  # who takes over a leaver's tickets (the team's most senior stayer)

    @property
    def first_bot(self) -> int:
        return int(np.flatnonzero(self.bot)[0])

    def hand_over(self, agent: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The agent acting at `t`: a leaver's colleague once they have gone; non-agents unchanged."""
        agent = np.asarray(agent)
        valid = (agent >= 0) & (agent < len(self.names))
        safe = np.where(valid, agent, 0)
        return np.where(valid & (t >= self.left[safe]), self.handover[safe], agent).astype(agent.dtype)

    def table(self) -> pa.Table:
        n = len(self.names)
        return build("agents", n, {
            "agent_id": self.ids,
            "name": pa.array(self.names),
            "type": codes(AGENT_TYPES_VOCAB, self.bot.astype(np.int64)),
            "team": codes(pa.array(TEAMS), self.team),
            "hired_at": timestamps(self.hired),
            "left_at": timestamps(self.left),
        })


def build_agents(cal: Calendar, rng: np.random.Generator) -> Agents:
    """About 120 humans at the start, ~15% leaving during the year, replacements and a hiring wave."""
    window = cal.end - cal.start
    team = np.repeat(np.arange(len(TEAM_SIZES)), TEAM_SIZES)
    n0 = len(team)
    tenure_days = np.clip(rng.lognormal(np.log(500), 0.9, n0), 20, 2500).astype(np.int64)
    hired = cal.start - tenure_days * DAY + 9 * HOUR
    left = np.full(n0, NEVER, dtype=np.int64)
    speed = np.exp(rng.normal(0.0, 0.25, n0))
    quality = rng.normal(0.0, 0.45, n0) - 0.4 * np.log(speed) + 0.12 * np.log(tenure_days / 500)
    # Weaker agents are likelier to leave.
    p_leave = np.exp(-1.2 * quality)
    leavers = rng.choice(n0, size=round(0.15 * n0), replace=False, p=p_leave / p_leave.sum())
    left[leavers] = cal.start + (rng.uniform(0.05, 0.95, leavers.size) * window).astype(np.int64)
    # Replacements join the leaver's team a few weeks later; the wave adds 12 in the busiest teams.
    rep_hired = left[leavers] + rng.integers(14, 45, leavers.size) * DAY
    keep = rep_hired < cal.end - 7 * DAY
    wave_team = np.array([TIER1] * 6 + [TECHNICAL] * 3 + [BILLING] * 3)
    wave_hired = cal.moments.hire_wave + rng.integers(0, 4, wave_team.size) * DAY
    new_team = np.concatenate([team[leavers][keep], wave_team])
    new_hired = np.concatenate([rep_hired[keep], wave_hired])
    n1 = new_team.size
    new_speed = np.exp(rng.normal(0.05, 0.25, n1))
    new_quality = rng.normal(-0.1, 0.45, n1) - 0.4 * np.log(new_speed)

    team = np.concatenate([team, new_team])
    hired = np.concatenate([hired, new_hired])
    left = np.concatenate([left, np.full(n1, NEVER, dtype=np.int64)])
    speed = np.concatenate([speed, new_speed])
    quality = np.concatenate([quality, new_quality])
    order = np.argsort(hired, kind="stable")
    n = order.size
    combos = rng.choice(len(FIRST_NAMES) * len(LAST_NAMES), size=n, replace=False)
    names = [f"{FIRST_NAMES[c // len(LAST_NAMES)]} {LAST_NAMES[c % len(LAST_NAMES)]}" for c in combos]
    bot_hired = np.array([cal.start - 400 * DAY, cal.moments.bot_launch], dtype=np.int64)
    agent_ids = pa.concat_arrays([ids("A", np.arange(1, n + 1), 4), pa.array(["B001", "B002"])])
    team = np.concatenate([team[order], [AUTOMATION, AUTOMATION]]).astype(np.int8)
    hired = np.concatenate([hired[order], bot_hired])
    left = np.concatenate([left[order], [NEVER, NEVER]]).astype(np.int64)
    handover = np.arange(n + 2)
    for code in np.unique(team):
        members = np.flatnonzero(team == code)
        stayers = members[left[members] == NEVER]
        handover[members[left[members] != NEVER]] = stayers[np.argmin(hired[stayers])]
    return Agents(
        ids=agent_ids,
        names=names + list(BOT_NAMES),
        team=team,
        hired=hired,
        left=left,
        speed=np.concatenate([speed[order], [1.0, 1.0]]),
        quality=np.concatenate([quality[order], [-0.3, -0.3]]),
        bot=np.concatenate([np.zeros(n, bool), [True, True]]),
        handover=handover,
    )


class Roster:
    """Who can take a new ticket on each day, weighted by how much work they get through."""

    def __init__(self, agents: Agents, cal: Calendar) -> None:
        self.cal = cal
        self.agents = agents
        day_start = cal.start + np.arange(cal.days, dtype=np.int64)[:, None] * DAY
        active = (agents.hired[None, :] <= day_start) & (
            agents.left[None, :] > day_start + NOTICE_DAYS * DAY) & ~agents.bot[None, :]
        tenure = (day_start - agents.hired[None, :]) / DAY
        weight = active * np.clip(0.35 + 0.65 * tenure / 60.0, 0.35, 1.0) / agents.speed[None, :]
        self.capacity = weight.sum(axis=1)
        self.members: list[np.ndarray] = []
        self.cum: list[np.ndarray] = []
        for t in range(len(TEAMS)):
            members = np.flatnonzero((agents.team == t) & ~agents.bot)
            self.members.append(members)
            self.cum.append(np.cumsum(weight[:, members], axis=1).astype(np.float32))

    def pick(self, team: np.ndarray, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A working agent of each row's team on the day of each row's time."""
        out = np.full(team.shape, -1, dtype=np.int32)
        day = self.cal.window_day(t)
        for code in range(len(TEAMS)):
            rows = np.flatnonzero(team == code)
            if rows.size == 0 or self.members[code].size == 0:
                continue
            cum = self.cum[code][day[rows]]
            r = rng.random(rows.size, dtype=np.float32) * cum[:, -1]
            k = np.minimum((cum <= r[:, None]).sum(axis=1), cum.shape[1] - 1)
            out[rows] = self.members[code][k]
        return out

    def slowness(self, agent: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Delay multiplier of each agent at a time: their speed, slower in their first weeks."""
        tenure = np.maximum(t - self.agents.hired[agent], 0) / DAY
        return self.agents.speed[agent] * (1.0 + 0.6 * np.exp(-tenure / 40.0))


@dataclass(frozen=True)
class Customers:
    """Customers sorted by signup, with cumulative contact weights for drawing requesters."""

    ids: pa.Array
    created: np.ndarray  # int64, ascending
    churned: np.ndarray  # int64, NEVER if not churned in the window
    tier: np.ndarray  # int8 index into TIERS
    region: np.ndarray
    segment: np.ndarray
    friction: np.ndarray  # float32, ~N(0, 1)
    cum_weight: np.ndarray  # cumulative contact weight
    cum_weight_loyal: np.ndarray  # the same over customers that never churn

    def table(self) -> pa.Table:
        return build("customers", len(self.created), {
            "customer_id": self.ids,
            "created_at": timestamps(self.created),
            "tier": codes(pa.array(TIERS), self.tier),
            "region": codes(pa.array(REGIONS), self.region),
            "segment": codes(pa.array(SEGMENTS), self.segment),
            "churned_at": timestamps(self.churned),
        })

    def pick(self, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A requester for each ticket: signed up before it and not yet churned."""
        k = np.maximum(np.searchsorted(self.created, t, side="right"), 1)
        out = self._draw(self.cum_weight, k, rng)
        for _ in range(4):
            bad = np.flatnonzero(self.churned[out] <= t)
            if bad.size == 0:
                return out
            out[bad] = self._draw(self.cum_weight, k[bad], rng)
        bad = np.flatnonzero(self.churned[out] <= t)
        out[bad] = self._draw(self.cum_weight_loyal, k[bad], rng)
        return out

    @staticmethod
    def _draw(cum: np.ndarray, k: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        r = rng.random(k.size) * cum[k - 1]
        return np.minimum(np.searchsorted(cum, r, side="right"), k - 1)


def build_customers(cal: Calendar, n: int, rng: np.random.Generator) -> Customers:
    """Signups over the two years before the window and during it; ~10-15% churn in the window."""
    n_before = round(0.55 * n)
    # Growth: the signup rate before the window rises linearly, so draw with a square root.
    ago = (1.0 - np.sqrt(rng.random(n_before))) * 730 * DAY
    before = cal.start - ago.astype(np.int64)
    base, _ = cal.arrival_weights(0)
    cum = np.cumsum(base)
    slots = np.searchsorted(cum, rng.random(n - n_before) * cum[-1], side="right")
    during = cal.slot_start[slots] + rng.integers(0, 15 * 60 * 10**6, slots.size)
    during = np.minimum(during, cal.end - 1)  # a window ending "now" has no signups after it
    created = np.sort(np.concatenate([before, during]))
    tier = rng.choice(3, size=n, p=[0.57, 0.35, 0.08]).astype(np.int8)
    region = rng.choice(4, size=n, p=[0.45, 0.30, 0.15, 0.10]).astype(np.int8)
    u = rng.random(n)
    segment = np.select([tier == 0, tier == 1], [0, np.where(u < 0.6, 0, 1)],
                        np.where(u < 0.75, 2, 1)).astype(np.int8)
    friction = rng.normal(0.0, 1.0, n).astype(np.float32)
    hazard = np.array([0.22, 0.10, 0.045])[tier] * np.exp(0.6 * friction)  # churns per year
    exposed = np.maximum(created, cal.start)
    churned = exposed + (rng.exponential(1.0, n) / hazard * 365 * DAY).astype(np.int64)
    churned = np.where(churned < cal.end, churned, NEVER)
    weight = np.array([0.5, 1.2, 1.8])[tier] * np.exp(0.5 * friction) * rng.gamma(0.8, 1.0, n)
    return Customers(
        ids=ids("C", np.arange(1, n + 1), max(6, len(str(n)))),
        created=created,
        churned=churned,
        tier=tier,
        region=region,
        segment=segment,
        friction=friction,
        cum_weight=np.cumsum(weight),
        cum_weight_loyal=np.cumsum(weight * (churned == NEVER)),
    )
