"""Survey sends and answers: CSAT and CES after solves, monthly NPS waves, monthly ESAT.

Scores come from an ordered-logit style latent: good agents, fast resolutions and first-time
fixes push it up; reopens, slow tickets, bot-only answers and high-friction customers push it
down, so CSAT cut by agent, channel or reopen shows the differences an analyst would expect.
About 80% of CSAT answers are 4-5; only ~15-25% of surveys get an answer.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cxmetrics.demo import _text
from cxmetrics.demo._arrow import build, codes, join, numbers, timestamps
from cxmetrics.demo._calendar import DAY, HOUR
from cxmetrics.demo._channels import CHANNEL_NAMES
from cxmetrics.demo._context import Context, lognormal, seconds
from cxmetrics.demo._tickets import NORMAL
from cxmetrics.demo._world import World
from cxmetrics.model import SURVEY_KINDS

COMMENTS = _text.Vocabulary({
    "slow": _text.COMMENT_SLOW, "reopened": _text.COMMENT_REOPENED, "bot": _text.COMMENT_BOT,
    "bad": _text.COMMENT_BAD, "neutral": _text.COMMENT_NEUTRAL, "good": _text.COMMENT_GOOD,
    "nps_low": _text.COMMENT_NPS_LOW, "nps_high": _text.COMMENT_NPS_HIGH,
    "esat_low": _text.COMMENT_ESAT_LOW, "esat_high": _text.COMMENT_ESAT_HIGH,
})
COMMENT_VOCAB = pa.array(COMMENTS.words)
KINDS = pa.array(SURVEY_KINDS)
SCALES = {"csat": ("1-5", 1.0, 5.0), "ces": ("1-7", 1.0, 7.0), "nps": ("0-10", 0.0, 10.0),
          "esat": ("1-5", 1.0, 5.0)}

# Per channel (CHANNEL_NAMES order): answer rate, and the resolution time (hours) that feels normal.
_RESPONSE = np.array([0.18, 0.25, 0.12, 0.22, 0.12, 0.18])
_TYPICAL_H = np.array([24.0, 0.3, 0.3, 3.0, 4.0, 24.0])
_CSAT_CUTS = np.array([-1.5, -0.8, 0.0, 1.2])
_CES_CUTS = np.array([-2.0, -1.3, -0.6, 0.1, 0.8, 1.7])


def _ordinal(latent: np.ndarray, cuts: np.ndarray, low: int) -> np.ndarray:
    return low + (latent[:, None] > cuts[None, :]).sum(axis=1)


def _pick_comment(rng: np.random.Generator, groups: list[tuple[np.ndarray, str]], n: int) -> np.ndarray:
    """A comment code per row from the first matching (mask, group); -1 where none matches."""
    out = np.full(n, -1, dtype=np.int64)
    for mask, group in reversed(groups):
        out = np.where(mask, COMMENTS.pick(group, rng, n), out)
    return out


def ticket_surveys(ctx: Context, tids: pa.Array) -> tuple[pa.Table, pa.Table]:
    """CSAT (and on a third, CES) sent after solve; the answers that came back before the end."""
    world, draw, facts, rng = ctx.world, ctx.draw, ctx.facts, ctx.rng
    end = world.cal.end
    solved = facts["solved"]
    eligible = (solved < facts["horizon"]) & (draw.fate == NORMAL) & (draw.created_by == 0) & ~facts["no_survey"]
    rows = np.flatnonzero(eligible & (rng.random(draw.n) < 0.7))
    sent = solved[rows] + seconds(rng.uniform(600, 86400, rows.size))
    rows, sent = rows[sent < end], sent[sent < end]
    n = rows.size
    channel = draw.channel[rows]
    agent = facts["solver"][rows]
    hours = (solved[rows] - draw.created[rows]) / HOUR
    slow = np.log1p(hours / _TYPICAL_H[channel])
    reopened = facts["reopened"][rows]
    bot_only = facts["contained"][rows]
    friction = world.customers.friction[draw.requester[rows]]
    latent = (2.0 + 0.9 * world.agents.quality[agent] - 0.45 * slow - 1.4 * reopened - 0.8 * bot_only
              - 0.5 * friction + rng.logistic(0.0, 0.6, n))
    answered = rng.random(n) < _RESPONSE[channel] * np.where(latent < 0, 1.2, 1.0)
    responded = sent + seconds(np.maximum(lognormal(rng, 7200.0, 1.5, n), 30.0))
    answered &= responded < end
    csat = _ordinal(latent, _CSAT_CUTS, 1)
    is_slow = hours > 2 * _TYPICAL_H[channel]
    talk = rng.random(n) < np.where(csat <= 2, 0.5, 0.3)
    comment = np.where(talk, _pick_comment(rng, [
        (csat >= 4, "good"), (csat == 3, "neutral"), (reopened, "reopened"), (bot_only, "bot"),
        (is_slow, "slow"), (np.ones(n, bool), "bad")], n), -1)
    # CES goes out with a third of the CSAT surveys; who answers one mostly answers both.
    ces = rng.random(n) < 1 / 3
    ces_answered = ces & np.where(answered, rng.random(n) < 0.8, rng.random(n) < 0.02) & (responded < end)
    ces_score = _ordinal(0.8 * latent + rng.normal(0.0, 0.6, n), _CES_CUTS, 1)

    tid = codes(tids, rows)
    customer = codes(world.customers.ids, draw.requester[rows])
    sends = [_sends("csat", tid, customer, sent, channel, np.ones(n, bool)),
             _sends("ces", tid, customer, sent, channel, ces)]
    answers = [
        _answers(world, "csat", tid, customer, agent, csat, comment, sent, responded, answered),
        _answers(world, "ces", tid, customer, agent, ces_score, np.full(n, -1), sent, responded + seconds(20),
                 ces_answered),
    ]
    return pa.concat_tables(answers), pa.concat_tables(sends)


def _sends(kind: str, tid: pa.Array, customer: pa.Array, sent: np.ndarray, channel: np.ndarray,
           keep: np.ndarray) -> pa.Table:
    rows = np.flatnonzero(keep)
    n = rows.size
    return build("survey_sends", n, {
        "send_id": join("S-", tid.take(rows), f"-{kind}"),
        "ticket_id": tid.take(rows),
        "customer_id": customer.take(rows),
        "kind": kind,
        "sent_at": timestamps(sent[rows]),
        "channel": codes(pa.array(CHANNEL_NAMES), channel[rows]),
    })


def _answers(world: World, kind: str, key: pa.Array, customer: pa.Array | None, agent: np.ndarray | None,
             score: np.ndarray, comment: np.ndarray, sent: np.ndarray, responded: np.ndarray,
             keep: np.ndarray, ticket: bool = True) -> pa.Table:
    rows = np.flatnonzero(keep)
    n = rows.size
    scale, low, high = SCALES[kind]
    return build("surveys", n, {
        "response_id": join("R-", key.take(rows), f"-{kind}"),
        "ticket_id": key.take(rows) if ticket else None,
        "customer_id": customer.take(rows) if customer is not None else None,
        "agent_id": codes(world.agents.ids, agent[rows]) if agent is not None else None,
        "kind": kind,
        "scale": scale,
        "scale_min": numbers(np.full(n, low)),
        "scale_max": numbers(np.full(n, high)),
        "score": numbers(score[rows].astype(np.float64)),
        "comment": codes(COMMENT_VOCAB, comment[rows]),
        "sent_at": timestamps(sent[rows]),
        "responded_at": timestamps(responded[rows]),
        "origin": "events",
    })


def org_surveys(world: World, rng: np.random.Generator) -> tuple[pa.Table, pa.Table]:
    """Monthly relationship NPS to a rolling sample of customers (a third of the quarterly
    sample each month, so every month has its answers: an always-on programme) and monthly
    ESAT to every working human agent."""
    cal, customers, agents = world.cal, world.customers, world.agents
    answers, sends = [], []
    months = cal.months()
    for period, month_start in months:
        sent_at = month_start + 9 * DAY + 10 * HOUR
        if sent_at >= cal.end:  # the window ends before this month's send ("now")
            continue
        alive = np.flatnonzero((customers.created < sent_at) & (customers.churned > sent_at))
        size = min(alive.size, max(100, alive.size // 15), 100_000)
        rows = np.sort(rng.choice(alive, size=size, replace=False))
        friction = customers.friction[rows]
        latent = 0.5 * (customers.tier[rows] == 2) - 0.7 * friction + rng.normal(0.0, 1.0, size)
        score = np.clip(np.round(8.0 + 1.6 * latent), 0, 10)
        sent = np.full(size, sent_at, dtype=np.int64)
        responded = sent + seconds(np.maximum(lognormal(rng, 20 * 3600.0, 1.2, size), 60.0))
        answered = (rng.random(size) < 0.22) & (responded < cal.end)
        comment = np.where(rng.random(size) < 0.35, _pick_comment(
            rng, [(score <= 6, "nps_low"), (score >= 9, "nps_high")], size), -1)
        key = join(f"NPS-{period}-", customers.ids.take(rows))
        customer = customers.ids.take(rows)
        answers.append(_answers(world, "nps", key, customer, None, score, comment, sent, responded,
                                answered, ticket=False))
        sends.append(build("survey_sends", size, {
            "send_id": join("S-", key, "-nps"), "customer_id": customer, "kind": "nps",
            "sent_at": timestamps(sent), "channel": "email"}))
    for period, month_start in months:
        sent_at = month_start + 2 * DAY + 10 * HOUR
        if sent_at >= cal.end:
            continue
        rows = np.flatnonzero(~agents.bot & (agents.hired <= sent_at) & (agents.left > sent_at))
        size = rows.size
        leaving = agents.left[rows] < sent_at + 90 * DAY
        latent = 0.6 * agents.quality[rows] - 1.0 * leaving + rng.normal(0.0, 0.9, size)
        score = _ordinal(latent, np.array([-1.8, -1.1, -0.4, 0.7]), 1)
        sent = np.full(size, sent_at, dtype=np.int64)
        responded = sent + seconds(np.maximum(lognormal(rng, 6 * 3600.0, 1.0, size), 60.0))
        answered = (rng.random(size) < 0.7) & (responded < cal.end)
        comment = np.where(rng.random(size) < 0.25, _pick_comment(
            rng, [(score <= 2, "esat_low"), (score >= 4, "esat_high")], size), -1)
        key = join(f"ESAT-{period}-", agents.ids.take(rows))
        answers.append(_answers(world, "esat", key, None, rows, score, comment, sent, responded,
                                answered, ticket=False))
        sends.append(build("survey_sends", size, {
            "send_id": join("S-", key, "-esat"), "kind": "esat", "sent_at": timestamps(sent)}))
    return pa.concat_tables(answers), pa.concat_tables(sends)

