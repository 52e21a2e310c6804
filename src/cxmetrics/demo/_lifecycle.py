"""A chunk's ticket timelines: creation, bots, calls, then human handling until solved and closed.

Every step is vectorised over the tickets it applies to; the only loops are over the handful of
conversation rounds. Human handling is one routine for every way a ticket reaches a person (a new
email, a bot hand-off, an answered call, a missed-call callback, an outbound message), each
described by when the agent is assigned and when the first public reply goes out.
"""

from __future__ import annotations

import numpy as np

from cxmetrics.demo._bots import bot_step
from cxmetrics.demo._calendar import HOUR, NEVER, US
from cxmetrics.demo._calls import call_step
from cxmetrics.demo._channels import CHANNEL_SPECS, PHONE
from cxmetrics.demo._context import Context, lognormal, seconds
from cxmetrics.demo._events import ACTOR, BODY_VOCAB, body
from cxmetrics.demo._messages import Texts
from cxmetrics.demo._org import BILLING, TECHNICAL, TIER1, TIER2
from cxmetrics.demo._tickets import MERGED, NORMAL, T

_LIVE_CHANNEL = np.array([c.schedule == "extended" and c.name != "social" for c in CHANNEL_SPECS])
_HOLD_SHARE = np.array([0.03, 0.10, 0.06, 0.14, 0.05, 0.03, 0.0])  # per team: on-hold episodes
STALE_SHARE = 0.012  # tickets that stall and stay open (the long tail of the backlog)
PENDING = -2  # a first reply whose body is composed once the conversation's length is known
# Per channel: the resolution time (hours) that feels normal, as the CSAT surveys weigh it.
_TYPICAL_H = np.array([24.0, 0.3, 0.3, 3.0, 4.0, 24.0])
# How a customer's follow-up sounds: the last one by how the ticket went (fed up, neutral,
# pleased, as CSAT will), earlier ones by how long they waited and what the agent last said.
_FOLLOW_UPS = ("bad", "okay", "good", "impatient", "info", "tried", "waiting")
BAD, OKAY, GOOD, IMPATIENT = range(4)
ASKED_BACK, ANSWERED, HELD = range(3)  # the agent's latest reply; the customer then writes 4 + it
_SECOND = ("impatient", "nudge", "thanks_again")  # a second message in a row: after a long wait, else by tone
_LONG_WAIT = 6.0  # times the channel's median reply delay: the customer chases


def simulate(ctx: Context) -> None:
    """Write every event of the chunk into ctx.buf and its outcomes into ctx.facts."""
    draw, rng, buf = ctx.draw, ctx.rng, ctx.buf
    n = draw.n
    texts = buf.texts = Texts(ctx)  # message bodies: their own random stream (texts.rng)
    t0 = draw.created
    everyone = np.arange(n, dtype=np.int32)
    agent0 = ctx.world.roster.pick(draw.team, t0, rng)
    by = draw.created_by
    creator_type = np.array([ACTOR["customer"], ACTOR["agent"], ACTOR["system"]])[by]
    creator = np.select([by == 0, by == 1], [ctx.customer, agent0], -1)
    buf.add(everyone, t0, "created", None, 0, actor_type=creator_type, actor=creator,
            channel=draw.channel, team=draw.team, priority=draw.priority)
    inbound = np.flatnonzero((by == 0) & (draw.channel != PHONE))
    buf.add(inbound, t0[inbound], "message", "customer", 1, actor=ctx.customer[inbound], public=1,
            body=texts.first_message(inbound))
    system = np.flatnonzero(by == 2)
    buf.add(system, t0[system], "message", "system", 1, public=1,
            body=body("system_created", texts.rng, system.size))

    merged = np.flatnonzero(draw.fate == MERGED)
    t_merge = ctx.world.cal.advance(t0[merged] + US, seconds(lognormal(rng, 1800.0, 1.0, merged.size)),
                                    ctx.schedule[merged])
    # Merge notes are chunk-specific bodies, numbered after the shared vocabulary.
    buf.add(merged, t_merge, "merged", "agent", 6, actor=agent0[merged],
            body=len(BODY_VOCAB) + draw.merge_target[merged])
    buf.status(merged, t_merge, "new", "closed", "agent", 7, actor=agent0[merged])

    live = draw.fate == NORMAL
    written = np.flatnonzero(live & (by == 0) & (draw.channel != PHONE))
    handed, t_handoff = bot_step(ctx, written)
    direct = np.setdiff1d(written, np.flatnonzero(ctx.facts["bot"] >= 0), assume_unique=True)
    calls = call_step(ctx, np.flatnonzero(live & (by == 0) & (draw.channel == PHONE)))
    outbound = np.flatnonzero(live & (by == 1))
    system = system[live[system]]

    # Every way into human hands: written tickets, hand-offs and callbacks; outbound; answered calls.
    waiting = np.concatenate([direct, handed, system, calls.callback])
    start = np.concatenate([t0[direct], t_handoff, t0[system], calls.t_abandon])
    parts = (
        _async_entry(ctx, waiting, start, calls.callback.size),
        _entry(outbound, t0[outbound], agent0[outbound], t0[outbound], t0[outbound],
               body("agent_outbound", texts.rng, outbound.size), US, 2),
        _entry(calls.answered, calls.t_answer, calls.agent, calls.t_answer, calls.t_end,
               np.full(calls.answered.size, PENDING), calls.wrap, 3),
    )
    _human(ctx, *(np.concatenate(column) for column in zip(*parts)))


def _entry(rows: np.ndarray, start: np.ndarray, agent: np.ndarray, assign: np.ndarray, first: np.ndarray,
           bodies: np.ndarray, gap: np.ndarray | int, kind: np.ndarray | int) -> tuple[np.ndarray, ...]:
    """One way into human hands, as equally long arrays (see `_human`)."""
    size = rows.size
    return (rows, start, agent.astype(np.int32), assign, first, bodies,
            np.broadcast_to(np.asarray(gap, dtype=np.int64), size), np.broadcast_to(kind, size))


def _async_entry(ctx: Context, rows: np.ndarray, start: np.ndarray, n_callbacks: int
                 ) -> tuple[np.ndarray, ...]:
    """Written tickets, hand-offs and callbacks: assigned, then answered in open hours."""
    rng = ctx.rng
    agent = ctx.world.roster.pick(ctx.draw.team[rows], start, rng)
    callback = np.zeros(rows.size, dtype=bool)
    if n_callbacks:
        callback[-n_callbacks:] = True
    median = np.where(callback, 2400.0, ctx.param("frt_s", rows))
    sigma = np.where(callback, 1.0, ctx.param("frt_sigma", rows))
    first = ctx.reply_after(rows, agent, start, median, sigma)
    live = _LIVE_CHANNEL[ctx.draw.channel[rows]] & ~callback
    span = (first - start).astype(np.float64)
    routing = np.minimum(seconds(lognormal(rng, 15.0, 0.6, rows.size)), 0.5 * span)
    pickup = np.minimum(seconds(lognormal(rng, 480.0, 0.8, rows.size)), 0.5 * span)
    assign = np.where(live, start + routing.astype(np.int64), first - pickup.astype(np.int64))
    return _entry(rows, start, agent, assign, first, np.full(rows.size, PENDING), US, np.where(callback, 1, 0))


def _human(ctx: Context, rows: np.ndarray, start: np.ndarray, agent: np.ndarray, assign: np.ndarray,
           first: np.ndarray, first_body: np.ndarray, gap: np.ndarray, kind: np.ndarray) -> None:
    """Assignment, first reply, rounds of conversation, on-hold, solve, reopen and close.

    `kind` is 0 for written tickets, 1 callbacks, 2 outbound, 3 answered calls.
    """
    world, draw, rng, buf, facts = ctx.world, ctx.draw, ctx.rng, ctx.buf, ctx.facts
    m = rows.size
    agent = agent.astype(np.int32)
    team = draw.team[rows].astype(np.int8)
    by_system = (kind == 3) | ((kind == 0) & _LIVE_CHANNEL[draw.channel[rows]])
    buf.add(rows, assign, "assign", None, 2, actor_type=np.where(by_system, ACTOR["system"], ACTOR["agent"]),
            actor=np.where(by_system, -1, agent), assignee=agent, team=team)
    buf.status(rows, assign, "new", "open", "agent", 3, actor=agent)
    facts["first_reply"][rows] = first

    mean_rounds = ctx.param("rounds", rows)
    rounds = rng.geometric(1.0 / (1.0 + mean_rounds)) - 1
    rounds = np.select([kind == 3, kind == 1, kind == 2],
                       [np.where(rng.random(m) < 0.78, 0, rng.geometric(0.6, m)),
                        np.where(rng.random(m) < 0.7, 0, rounds), np.where(rng.random(m) < 0.5, 0, rounds)],
                       rounds)
    facts["rounds"][rows] = rounds
    texts = buf.texts
    first_body, latest = _first_replies(texts, rows, agent, kind, rounds, first_body)
    answered = latest == ANSWERED  # an answer was tried
    buf.add(rows, first, "message", "agent", 4, actor=agent, public=1, body=first_body)
    asked = start.copy()  # when the customer last wrote: how long they have waited for a reply
    stale = (rng.random(m) < STALE_SHARE) & (kind == 0)
    stall = np.where(stale & (rounds == 0), start + 1, NEVER)
    escalate = _escalations(ctx, rows, team, rounds)
    after = first + gap  # when the status after the latest agent reply is set
    more = rounds > 0
    buf.status(rows[more], after[more], "open", "pending", "agent", 5, actor=agent[more])

    for r in range(1, int(rounds.max(initial=0)) + 1):
        i = np.flatnonzero(rounds >= r)
        R = rows[i]
        t_c = after[i] + seconds(lognormal(rng, ctx.param("customer_s", R), ctx.param("customer_sigma", R), i.size))
        last = rounds[i] == r
        waited = (after[i] - asked[i]) > _LONG_WAIT * seconds(ctx.param("reply_s", R))
        tone = _tone(ctx, R, agent[i], t_c)
        said = np.select([last, waited], [tone, IMPATIENT], 4 + latest[i])
        buf.add(R, t_c, "message", "customer", 1, actor=ctx.customer[R], public=1,
                body=texts.customer(R, said, _FOLLOW_UPS))
        asked[i] = t_c
        buf.status(R, t_c, "pending", "open", "customer", 2, actor=ctx.customer[R])
        old = agent[i].copy()
        if r == 1:
            esc = escalate[i] >= 0
            team[i[esc]] = escalate[i[esc]]
            agent[i[esc]] = world.roster.pick(team[i[esc]], t_c[esc], rng)
        t_a = ctx.reply_after(R, agent[i], t_c, ctx.param("reply_s", R), ctx.param("reply_sigma", R))
        span = (t_a - t_c).astype(np.float64)
        if r == 1:
            e = np.flatnonzero(esc)
            t_esc = t_c[e] + (0.3 * span[e]).astype(np.int64)
            buf.add(R[e], t_esc, "assign", "agent", 2, actor=old[e], assignee=agent[i[e]], team=team[i[e]])
            facts["escalated"][R[e]] = t_esc
            bump = np.flatnonzero((rng.random(i.size) < 0.04) & (draw.priority[R] < 3))
            buf.add(R[bump], t_c[bump] + (0.1 * span[bump]).astype(np.int64), "priority", "agent", 2,
                    actor=agent[i[bump]], priority=draw.priority[R[bump]] + 1)
        double = np.flatnonzero(rng.random(i.size) < 0.12)
        buf.add(R[double], t_c[double] + (0.15 * span[double]).astype(np.int64), "message", "customer", 1,
                actor=ctx.customer[R[double]], public=1,
                body=texts.customer(R[double], np.select([waited[double], last[double]],
                                                         [0, tone[double]], 1), _SECOND))
        note = np.flatnonzero(rng.random(i.size) < 0.12)
        buf.add(R[note], t_c[note] + (0.6 * span[note]).astype(np.int64), "message", "agent", 3,
                actor=agent[i[note]], public=0, body=body("agent_note", texts.rng, note.size))
        buf.add(R, t_a, "message", "agent", 4, actor=agent[i], public=1,
                body=_round_replies(texts, R, agent[i], last, tone, answered, latest, i))
        buf.status(R[~last], t_a[~last], "open", "pending", "agent", 5, actor=agent[i[~last]])
        stall[i[last & stale[i]]] = t_c[last & stale[i]] + 1
        after[i] = t_a

    # On-hold episodes (waiting on engineering or a third party), then the solve.
    solve = after.copy()
    held = np.flatnonzero(rng.random(m) < _HOLD_SHARE[team])
    buf.status(rows[held], solve[held], "open", "on-hold", "agent", 5, actor=agent[held])
    back = world.cal.advance(solve[held] + seconds(lognormal(rng, 1.2 * 86400, 0.8, held.size)), 0,
                             ctx.schedule[rows[held]])
    buf.status(rows[held], back, "on-hold", "open", "agent", 2, actor=agent[held])
    buf.add(rows[held], back, "message", "agent", 4, actor=agent[held], public=1,
            body=texts.reply(rows[held], agent[held], "update"))
    solve[held] = back
    buf.status(rows, solve, "open", "solved", "agent", 5, actor=agent)

    # Reopens: likelier after many rounds and with weaker agents; the same agent answers again.
    quality = world.agents.quality[agent]
    p_reopen = 0.055 * np.exp(-0.9 * quality) * np.where(rounds >= 2, 1.3, 1.0) * (kind != 2)
    ro = np.flatnonzero(rng.random(m) < p_reopen)
    t_ro = solve[ro] + seconds(np.clip(lognormal(rng, 20 * 3600.0, 1.0, ro.size), 900, 3.5 * 86400))
    buf.add(rows[ro], t_ro, "message", "customer", 1, actor=ctx.customer[rows[ro]], public=1,
            body=texts.customer(rows[ro], np.zeros(ro.size, dtype=np.int64), ("reopen",)))
    buf.status(rows[ro], t_ro, "solved", "open", "customer", 2, actor=ctx.customer[rows[ro]])
    t_again = ctx.reply_after(rows[ro], agent[ro], t_ro, ctx.param("reply_s", rows[ro]),
                              ctx.param("reply_sigma", rows[ro]))
    buf.add(rows[ro], t_again, "message", "agent", 4, actor=agent[ro], public=1,
            body=texts.reply(rows[ro], agent[ro], "reopen"))
    buf.status(rows[ro], t_again, "open", "solved", "agent", 5, actor=agent[ro])
    final = solve.copy()
    final[ro] = t_again
    ctx.close(rows, final)

    facts["horizon"][rows] = np.minimum(facts["horizon"][rows], stall)
    facts["solver"][rows] = agent
    facts["first_solved"][rows] = solve
    facts["solved"][rows] = final
    facts["reopened"][rows[ro]] = True


def _first_replies(texts: Texts, rows: np.ndarray, agent: np.ndarray, kind: np.ndarray, rounds: np.ndarray,
                   bodies: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first human reply of each row, and what it did (ASKED_BACK, ANSWERED or HELD). A
    written ticket that goes no further is answered outright; one that goes on is answered
    (40%) or asked back (60%) first. Calls and callbacks sum up the call: the answer, or what
    happens next. Outbound messages (composed already) count as asking."""
    bodies = bodies.copy()
    latest = np.full(rows.size, ASKED_BACK, dtype=np.int64)
    pending = bodies == PENDING
    once = rounds == 0
    clarify = (texts.rng.random(rows.size) < 0.6) & ~once
    for stage, mask in (("first", pending & (kind == 0) & ~clarify), ("clarify", pending & (kind == 0) & clarify),
                        ("call", pending & (kind == 3)), ("callback", pending & (kind == 1))):
        k = np.flatnonzero(mask)
        bodies[k] = texts.reply(rows[k], agent[k], stage, resolves=once[k])
        latest[k] = np.where((stage == "first") | once[k], ANSWERED, ASKED_BACK if stage == "clarify" else HELD)
    return bodies, latest


def _round_replies(texts: Texts, rows: np.ndarray, agent: np.ndarray, last: np.ndarray, tone: np.ndarray,
                   answered: np.ndarray, latest: np.ndarray, i: np.ndarray) -> np.ndarray:
    """An agent's reply in a round: the resolution in the last round (opened by how the customer
    sounded), else an answer if none was tried yet, else a holding reply. Updates `answered`
    and `latest` of the rows `i`."""
    bodies = np.empty(rows.size, dtype=np.int64)
    attempt = ~last & ~answered[i]
    for stage, mask in (("final", last), ("attempt", attempt), ("middle", ~last & ~attempt)):
        k = np.flatnonzero(mask)
        bodies[k] = texts.reply(rows[k], agent[k], stage, tone=tone[k])
    answered[i[attempt]] = True
    latest[i] = np.where(last | attempt, ANSWERED, HELD)
    return bodies


def _tone(ctx: Context, rows: np.ndarray, agent: np.ndarray, t: np.ndarray) -> np.ndarray:
    """How a customer's last follow-up sounds (BAD, OKAY or GOOD): from the drivers of CSAT
    (the agent's quality, how slow the ticket has been, the customer's friction), plus noise."""
    world, draw = ctx.world, ctx.draw
    hours = (t - draw.created[rows]) / HOUR
    slow = np.log1p(np.maximum(hours, 0.0) / _TYPICAL_H[draw.channel[rows]])
    mood = (2.0 + 0.9 * world.agents.quality[agent] - 0.45 * slow
            - 0.5 * world.customers.friction[draw.requester[rows]] + ctx.buf.texts.rng.logistic(0.0, 0.6, rows.size))
    return np.select([mood > 1.2, mood > 0.0], [GOOD, OKAY], BAD)


def _escalations(ctx: Context, rows: np.ndarray, team: np.ndarray, rounds: np.ndarray) -> np.ndarray:
    """The team each Tier 1 ticket is escalated to at its first follow-up, or -1."""
    topic = ctx.draw.topic[rows]
    u = ctx.rng.random(rows.size)
    target = np.select(
        [np.isin(topic, [T["bug"], T["outage"]]), np.isin(topic, [T["billing"], T["cancellation"]]),
         topic == T["feature_request"]],
        [np.where(u < 0.45, TECHNICAL, -1), np.where(u < 0.45, BILLING, -1), np.where(u < 0.5, TIER2, -1)],
        np.where(u < 0.07, TIER2, -1))
    return np.where((team == TIER1) & (rounds > 0), target, -1).astype(np.int8)

