"""Everything the demo draws once: calendar, agents, customers, and every ticket's arrival time.

Tickets are then simulated chunk by chunk against this shared world, so memory stays bounded by
the chunk size (10M arrival times are 80 MB) while the year is covered evenly: arrivals are drawn
for the whole window up front, sorted, and cut into consecutive slices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from cxmetrics.demo._calendar import SLOT, Calendar
from cxmetrics.demo._channels import channel_column
from cxmetrics.demo._org import Agents, Customers, Roster, build_agents, build_customers

if TYPE_CHECKING:
    from cxmetrics.demo._generator import DemoConfig

# Independent random streams, so that changing one part of the demo leaves the others alone.
STREAM_AGENTS, STREAM_CUSTOMERS, STREAM_ARRIVALS, STREAM_BUSINESS, STREAM_SURVEYS = range(1, 6)
STREAM_CHUNK = 1000


def rng_for(seed: int, stream: int, index: int = 0) -> np.random.Generator:
    """The random generator of one stream (and chunk) of a seed."""
    return np.random.default_rng([seed, stream, index])


@dataclass(frozen=True)
class World:
    """The shared, read-only state every chunk is simulated against."""

    config: DemoConfig
    cal: Calendar
    agents: Agents
    roster: Roster
    customers: Customers
    load: np.ndarray  # per slot: how stretched the humans are (1 = a normal hour)
    actor_ids: pa.Array  # agent ids, then customer ids: an event's actor is an index into it

    @property
    def n_agents(self) -> int:
        return len(self.agents.names)

    def load_at(self, t: np.ndarray) -> np.ndarray:
        return self.load[self.cal.slot(t)]


def build_world(config: DemoConfig) -> World:
    """Draw the calendar, the org and the customers of a demo."""
    cal = Calendar(config.start, config.months, config.timezone, config.end)
    agents = build_agents(cal, rng_for(config.seed, STREAM_AGENTS))
    roster = Roster(agents, cal)
    customers = build_customers(cal, max(1000, config.tickets // 4),
                                rng_for(config.seed, STREAM_CUSTOMERS))
    # Demand per human: volume over capacity, lighter after the bot launch takes some chats.
    demand = cal.day_factor.copy()
    launch_day = int(cal.window_day(np.array([cal.moments.bot_launch]))[0])
    demand[launch_day:] *= 0.93
    per_head = demand / np.maximum(roster.capacity, 1e-9)
    per_head /= per_head.mean()
    day = np.clip(cal.day, 0, cal.days - 1)
    load = np.clip(cal.pressure() * per_head[day] ** 1.5, 0.5, 5.0).astype(np.float32)
    return World(config, cal, agents, roster, customers, load,
                 pa.concat_arrays([agents.ids, customers.ids]))


def draw_arrivals(cal: Calendar, n: int, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Creation time, channel and spike (-1 for none) of every ticket, sorted by time."""
    shares = channel_column("share").astype(float)
    counts = rng.multinomial(n, shares / shares.sum())
    times, channels, spikes = [], [], []
    for channel, count in enumerate(counts):
        base, extras = cal.arrival_weights(channel)
        total = base + extras.sum(axis=0)
        cum = np.cumsum(total)
        slot = np.minimum(np.searchsorted(cum, rng.random(count) * cum[-1], side="right"), len(cum) - 1)
        # within its slot; the last slot may be cut short by the window's end ("now")
        span = np.minimum(SLOT, cal.end - cal.slot_start[slot])
        times.append(cal.slot_start[slot] + rng.integers(0, SLOT, count) * span // SLOT)
        # Which component (normal or a spike) produced each arrival, in proportion to its weight.
        pick = rng.random(count) * total[slot]
        spike = np.full(count, -1, dtype=np.int8)
        edge = base[slot].copy()
        for k in range(extras.shape[0]):
            upper = edge + extras[k, slot]
            spike[(pick >= edge) & (pick < upper)] = k
            edge = upper
        channels.append(np.full(count, channel, dtype=np.int8))
        spikes.append(spike)
    created = np.concatenate(times)
    order = np.argsort(created, kind="stable")
    return created[order], np.concatenate(channels)[order], np.concatenate(spikes)[order]

