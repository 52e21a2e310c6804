"""The per-chunk simulation state shared by the timeline steps (bots, calls, human handling).

Each step works on a subset of the chunk's tickets at once, reads per-ticket parameters from here
and writes its events into one buffer and its outcomes into `facts` (which the tickets table and
the surveys read afterwards).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cxmetrics.demo._calendar import NEVER, US
from cxmetrics.demo._channels import channel_column, schedule_codes
from cxmetrics.demo._events import EventBuffer
from cxmetrics.demo._org import VIP
from cxmetrics.demo._tickets import TicketDraw
from cxmetrics.demo._world import World

# Delay multipliers by priority (low, normal, high, urgent), and after the SLA policy.
PRIORITY_FACTOR = np.array([1.35, 1.0, 0.75, 0.45])
POLICY_FACTOR = np.array([1.0, 1.0, 0.75, 0.5])

_SCHEDULE = schedule_codes()
_PARAMS = ("frt_s", "frt_sigma", "reply_s", "reply_sigma", "customer_s", "customer_sigma", "rounds")
_COLUMNS = {name: channel_column(name).astype(float) for name in _PARAMS}


def seconds(x: np.ndarray | float) -> np.ndarray:
    """Seconds to whole microseconds."""
    return (np.asarray(x, dtype=np.float64) * US).astype(np.int64)


def lognormal(rng: np.random.Generator, median: np.ndarray | float, sigma: np.ndarray | float,
              size: int) -> np.ndarray:
    """Heavy-tailed durations around a median."""
    return np.asarray(median) * np.exp(np.asarray(sigma) * rng.standard_normal(size))


@dataclass
class Context:
    """One chunk being simulated."""

    world: World
    draw: TicketDraw
    rng: np.random.Generator
    buf: EventBuffer = field(default_factory=EventBuffer)
    facts: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = self.draw.n
        self.schedule = _SCHEDULE[self.draw.channel]
        self.customer = self.world.n_agents + self.draw.requester  # actor index of the requester
        self.facts = {
            "horizon": np.full(n, self.world.cal.end, dtype=np.int64),
            "solved": np.full(n, NEVER, dtype=np.int64),  # latest solve
            "first_solved": np.full(n, NEVER, dtype=np.int64),
            "first_reply": np.full(n, NEVER, dtype=np.int64),  # first public human reply
            "escalated": np.full(n, NEVER, dtype=np.int64),
            "solver": np.full(n, -1, dtype=np.int32),
            "bot": np.full(n, -1, dtype=np.int32),
            "contained": np.zeros(n, dtype=bool),
            "reopened": np.zeros(n, dtype=bool),
            "callback": np.zeros(n, dtype=bool),
            "no_survey": np.zeros(n, dtype=bool),
            "rounds": np.zeros(n, dtype=np.int16),
        }

    def param(self, name: str, rows: np.ndarray) -> np.ndarray:
        """A channel parameter for some tickets."""
        return _COLUMNS[name][self.draw.channel[rows]]

    def slowness(self, rows: np.ndarray, agent: np.ndarray, t: np.ndarray) -> np.ndarray:
        """How much slower than the channel's median this agent replies now on these tickets."""
        world = self.world
        priority = self.draw.priority[rows]
        factor = world.roster.slowness(agent, t) * PRIORITY_FACTOR[priority] * world.load_at(t)
        factor = np.where(t >= world.cal.moments.sla_policy, factor * POLICY_FACTOR[priority], factor)
        return np.where(world.agents.team[agent] == VIP, factor * 0.6, factor)

    def reply_after(self, rows: np.ndarray, agent: np.ndarray, t: np.ndarray, median: np.ndarray,
                    sigma: np.ndarray) -> np.ndarray:
        """When the agent answers a message that arrived at `t`, in the channel's open hours."""
        delay = lognormal(self.rng, median, sigma, rows.size) * self.slowness(rows, agent, t)
        reply = self.world.cal.advance(t, seconds(delay), self.schedule[rows])
        return np.maximum(reply, t + US)

    def close(self, rows: np.ndarray, solved: np.ndarray) -> None:
        """The automatic solved -> closed four days after the last solve."""
        self.buf.status(rows, solved + seconds(4 * 86400), "solved", "closed", "system", 6)
