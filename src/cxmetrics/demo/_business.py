"""The business around support: product usage, the sales funnel, costs and the year's annotations.

These tables let the demo show the metrics that join support to the business: active users and
D1/D7/D30 retention (activity), conversion (funnel, whose conversions are the month's signups in
the customers table), cost per resolution (costs, with salaries following headcount), and the
dated changes that explain the charts (annotations).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cxmetrics.demo._arrow import build, codes, join, numbers, timestamps
from cxmetrics.demo._calendar import DAY, MINUTE, US
from cxmetrics.demo._channels import WEEKDAY_PROFILE
from cxmetrics.demo._org import SEGMENTS
from cxmetrics.demo._text import ACTION_SHARES, ACTIONS
from cxmetrics.demo._world import World

ACTIVITY_CAP = 2_000_000
_EARLY_DAYS = np.arange(1, 60)
_EARLY = 0.5 * np.exp(-_EARLY_DAYS / 6.0) + 0.2 * np.exp(-_EARLY_DAYS / 40.0)  # P(active) by day


def activity(world: World, n_tickets: int, rng: np.random.Generator) -> pa.Table:
    """Product usage: a burst after signup that fades, then a steady per-customer rhythm."""
    cal, cust = world.cal, world.customers
    budget = int(min(ACTIVITY_CAP, max(3.5 * n_tickets, 10_000)))
    begin = np.maximum(cust.created, cal.start)
    stop = np.minimum(cust.churned, cal.end)
    alive = np.flatnonzero(stop > begin)
    span = (stop[alive] - begin[alive]) / DAY
    new = cust.created[alive] >= cal.start
    engagement = (rng.lognormal(0.0, 0.8, alive.size) * np.array([0.7, 1.1, 1.5])[cust.tier[alive]]
                  * np.exp(-0.2 * cust.friction[alive]))
    per_day = 1.6  # rows per active day
    early_rows = new.sum() * (1.0 + _EARLY.sum()) * per_day
    early_scale = min(1.0, 0.5 * budget / max(early_rows, 1.0))
    steady = max(budget / per_day - early_rows * early_scale / per_day, 0.0) / max((engagement * span).sum(), 1e-9)

    # Active days: the signup day, the early burst, then the steady rhythm.
    signup = alive[new]
    n_early = rng.poisson(_EARLY.sum() * early_scale, signup.size)
    early_cdf = np.cumsum(_EARLY) / _EARLY.sum()
    early_day = np.searchsorted(early_cdf, rng.random(n_early.sum()), side="right") + 1
    n_steady = rng.poisson(steady * engagement * span)
    steady_owner = np.repeat(alive, n_steady)
    steady_offset = rng.random(steady_owner.size) * np.repeat(span, n_steady)
    owner = np.concatenate([signup, np.repeat(signup, n_early), steady_owner])
    day_of = ((np.maximum(cust.created[owner], cal.start) - cal.start) // DAY
              + np.concatenate([np.zeros(signup.size), early_day, steady_offset]).astype(np.int64))
    inside = day_of < cal.days  # activity past the window's end is not in the data
    day_of = np.clip(day_of, 0, cal.days - 1)
    profile = WEEKDAY_PROFILE / WEEKDAY_PROFILE.sum()
    hour = rng.choice(24, size=owner.size, p=profile)
    ts = cal.day_start[day_of] + hour * 60 * MINUTE + rng.integers(0, 60 * MINUTE, owner.size)
    ts[: signup.size] = cust.created[signup] + rng.integers(MINUTE, 120 * MINUTE, signup.size)

    # Each active day holds one to a few actions a few minutes apart, starting mostly with a login.
    count = 1 + rng.poisson(per_day - 1.0, owner.size)
    row = np.repeat(np.arange(owner.size), count)
    step = np.arange(row.size) - np.repeat(np.cumsum(count) - count, count)
    ts = ts[row] + step * rng.integers(MINUTE, 15 * MINUTE, row.size)
    ts -= ts % US  # whole seconds, so duplicates are real duplicates
    action = rng.choice(len(ACTIONS), size=row.size, p=ACTION_SHARES)
    action[(step == 0) & (rng.random(row.size) < 0.7)] = 0
    owner = owner[row]
    keep = inside[row] & (ts >= cust.created[owner]) & (ts < np.minimum(cust.churned[owner], cal.end))
    owner, ts, action = owner[keep], ts[keep], action[keep]
    order = np.lexsort((action, ts, owner))
    owner, ts, action = owner[order], ts[order], action[order]
    unique = np.r_[True, (owner[1:] != owner[:-1]) | (ts[1:] != ts[:-1]) | (action[1:] != action[:-1])]
    owner, ts, action = owner[unique], ts[unique], action[unique]
    if owner.size > ACTIVITY_CAP:
        pick = np.sort(rng.choice(owner.size, ACTIVITY_CAP, replace=False))
        owner, ts, action = owner[pick], ts[pick], action[pick]
    return build("activity", owner.size, {
        "customer_id": codes(cust.ids, owner),
        "ts": timestamps(ts),
        "action": codes(pa.array(ACTIONS), action),
    })


_RATE = np.array([0.032, 0.012, 0.004])  # visit -> signup conversion by segment
_ACV = np.array([600.0, 6000.0, 42000.0])  # first-year revenue of a new customer, EUR


def funnel(world: World, rng: np.random.Generator) -> pa.Table:
    """Monthly visits, conversions (= that month's signups) and revenue per segment."""
    cal, cust = world.cal, world.customers
    months = cal.months()
    bounds = np.array([start for _, start in months] + [cal.end])
    month = np.searchsorted(bounds, cust.created, side="right") - 1
    inside = (cust.created >= cal.start) & (cust.created < cal.end)
    conversions = np.zeros((len(months), len(SEGMENTS)), dtype=np.int64)
    np.add.at(conversions, (month[inside], cust.segment[inside]), 1)
    visits = np.round(conversions / _RATE * rng.lognormal(0.0, 0.08, conversions.shape)).astype(np.int64)
    visits = np.maximum(visits, conversions)
    revenue = np.round(conversions * _ACV * rng.lognormal(0.0, 0.1, conversions.shape), 2)
    periods = np.repeat([p for p, _ in months], len(SEGMENTS))
    return build("funnel", periods.size, {
        "period": pa.array(periods.tolist()),
        "segment": pa.array(list(SEGMENTS) * len(months)),
        "visits": pa.array(visits.ravel()),
        "conversions": pa.array(conversions.ravel()),
        "revenue": numbers(revenue.ravel()),
    })


COST_CATEGORIES = ("salaries", "tools", "overhead", "outsourcing")


def costs(world: World, rng: np.random.Generator) -> pa.Table:
    """Monthly cost lines in EUR; salaries follow the human headcount of each month."""
    cal, agents = world.cal, world.agents
    months = cal.months()
    humans = ~agents.bot
    rows: list[tuple[str, str, float]] = []
    for i, (period, start) in enumerate(months):
        stop = months[i + 1][1] if i + 1 < len(months) else cal.end
        days = cal.day_start[(cal.day_start >= start) & (cal.day_start < stop)]
        active = (agents.hired[humans][None, :] <= days[:, None]) & (agents.left[humans][None, :] > days[:, None])
        headcount = active.sum(axis=1).mean()
        salaries = headcount * 4100.0 * rng.lognormal(0.0, 0.01)
        tools = headcount * 95.0 + 1200.0 + (6500.0 if start >= cal.moments.bot_launch else 0.0)
        # Peak season (Black Friday, December) is partly outsourced.
        outsourcing = (22000.0 if period[-2:] in ("11", "12") else 3000.0) * rng.lognormal(0.0, 0.05)
        for category, amount in zip(COST_CATEGORIES, (salaries, tools, 0.18 * salaries, outsourcing)):
            rows.append((period, category, round(float(amount), 2)))
    period, category, amount = zip(*rows)
    return build("costs", len(rows), {
        "period": pa.array(period), "category": pa.array(category),
        "amount": pa.array(amount, pa.float64()), "currency": "EUR",
    })


def annotations(world: World) -> pa.Table:
    """The dated changes of the year, each matching an effect visible in the data."""
    m = world.cal.moments
    items = [
        (m.hire_wave, "Hiring wave: 12 new agents", "hire",
         "Six join Tier 1, three each join Technical and Billing; they ramp up over about two months."),
        (m.bot_launch, "Chat Assistant launched", "ai",
         "An AI assistant now answers chat and messaging first and hands off to a person when it can't help."),
        (m.pricing, "New pricing announced", "other",
         "Price change emailed to all customers: two days of billing and cancellation questions."),
        (m.outage_start, "Login outage", "outage",
         "Sign-in failed for most users from 09:00 to 13:00 local time; contact volume tripled that day."),
        (m.sla_policy, "Urgent tickets: 1-hour first reply target", "policy",
         "New SLA policy: urgent and high priority tickets jump the queue."),
        (m.release, "Mobile App 3.0 released", "launch",
         "Redesigned mobile app; a few days of bug reports and how-to questions followed."),
    ] + [(t, "Black Friday", "other", "Peak sales weekend: shipping and billing questions surge.")
         for t in m.black_friday]
    items.sort(key=lambda item: item[0])
    n = len(items)
    ts, label, kind, description = zip(*items)
    return build("annotations", n, {
        "annotation_id": join("AN", pa.array([f"{i:02d}" for i in range(1, n + 1)])),
        "ts": timestamps(np.array(ts, dtype=np.int64)),
        "label": pa.array(label), "kind": pa.array(kind), "description": pa.array(description),
    })
