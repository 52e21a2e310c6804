"""Inbound phone calls: queue, answer or abandon, hold, talk and wrap-up.

Queue waits are exponential with a mean that grows with how stretched the team is (so peaks and
the outage show longer ASA and more abandons); callers give up after an exponential patience,
and ~2.5% hang up within 5 seconds (the "short abandons" service level leaves out). Talk, hold
and wrap-up are lognormal, giving an AHT of about 7 minutes. About 6% of answered callers were cut
off or forgot something and call straight back on the same ticket: a second, shorter call of its
own (its own wait, agent and handling), so that per-call ASA and AHT differ from per-ticket ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxmetrics.demo._calendar import US
from cxmetrics.demo._context import Context, lognormal, seconds


@dataclass(frozen=True)
class Calls:
    """What happened to the calls of one chunk."""

    answered: np.ndarray  # rows
    agent: np.ndarray
    t_answer: np.ndarray
    t_end: np.ndarray
    wrap: np.ndarray  # microseconds
    callback: np.ndarray  # rows that abandoned long enough to be called back
    t_abandon: np.ndarray  # of the callback rows


def call_step(ctx: Context, rows: np.ndarray) -> Calls:
    """Queue every call of `rows`; emit call events; return who got through."""
    world, rng, buf, draw = ctx.world, ctx.rng, ctx.buf, ctx.draw
    n = rows.size
    t0 = draw.created[rows]
    caller = ctx.customer[rows]
    buf.add(rows, t0, "call_queued", "customer", 1, actor=caller)
    wait = 2.0 + rng.exponential(45.0 * world.load_at(t0).astype(np.float64) ** 1.5)
    short = rng.random(n) < 0.025
    patience = np.where(short, rng.uniform(1.0, 4.9, n), rng.exponential(900.0, n))
    gave_up = patience < wait

    # Abandoned: short ones are auto-solved as missed calls, the others get a callback.
    ab = rows[gave_up]
    t_ab = t0[gave_up] + seconds(patience[gave_up])
    buf.add(ab, t_ab, "call_abandoned", "customer", 3, actor=caller[gave_up], duration=patience[gave_up])
    quick = patience[gave_up] < 5.0
    auto = ab[quick]
    solved = t_ab[quick] + 30 * US
    buf.status(auto, solved, "new", "solved", "system", 5)
    ctx.close(auto, solved)
    ctx.facts["solved"][auto] = solved
    ctx.facts["first_solved"][auto] = solved
    ctx.facts["no_survey"][auto] = True
    ctx.facts["callback"][ab[~quick]] = True

    ok = ~gave_up
    got = rows[ok]
    m = got.size
    agent = world.roster.pick(draw.team[got], t0[ok], rng)
    t_answer = t0[ok] + seconds(wait[ok])
    buf.add(got, t_answer, "call_answered", "agent", 1, actor=agent)
    talk = lognormal(rng, 290.0, 0.55, m) * world.agents.speed[agent] ** 0.6
    held = rng.random(m) < 0.22
    hold = np.where(held, lognormal(rng, 70.0, 0.7, m), 0.0)
    hold_start = t_answer + seconds(rng.uniform(0.2, 0.7, m) * talk)
    hold_end = hold_start + seconds(hold)
    buf.add(got[held], hold_start[held], "hold_start", "agent", 4, actor=agent[held])
    buf.add(got[held], hold_end[held], "hold_end", "agent", 4, actor=agent[held], duration=hold[held])
    t_end = t_answer + seconds(talk + hold) + US
    buf.add(got, t_end, "call_ended", "agent", 1, actor=agent, duration=talk)
    wrap = lognormal(rng, 55.0, 0.6, m)
    buf.add(got, t_end + seconds(wrap), "wrap_up_end", "agent", 4, actor=agent, duration=wrap)
    _call_backs(ctx, got, t_end + seconds(wrap), caller[ok])
    return Calls(got, agent, t_answer, t_end, seconds(wrap), ab[~quick], t_ab[~quick])


def _call_backs(ctx: Context, rows: np.ndarray, after: np.ndarray, caller: np.ndarray) -> None:
    """Some answered callers call straight back (1-10 minutes after the first call's
    wrap-up): queued, answered by whoever is free, a short talk and wrap-up."""
    world, rng, buf, draw = ctx.world, ctx.rng, ctx.buf, ctx.draw
    again = rng.random(rows.size) < 0.06
    rows, caller = rows[again], caller[again]
    m = rows.size
    if not m:
        return
    t_queue = after[again] + seconds(rng.uniform(60.0, 600.0, m))
    buf.add(rows, t_queue, "call_queued", "customer", 1, actor=caller)
    t_answer = t_queue + seconds(2.0 + rng.exponential(30.0, m))
    agent = world.roster.pick(draw.team[rows], t_queue, rng)
    buf.add(rows, t_answer, "call_answered", "agent", 1, actor=agent)
    talk = lognormal(rng, 150.0, 0.5, m)
    t_end = t_answer + seconds(talk) + US
    buf.add(rows, t_end, "call_ended", "agent", 1, actor=agent, duration=talk)
    wrap = lognormal(rng, 40.0, 0.5, m)
    buf.add(rows, t_end + seconds(wrap), "wrap_up_end", "agent", 4, actor=agent, duration=wrap)
