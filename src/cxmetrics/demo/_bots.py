"""The bot step: Answer Bot on email and web all year, the Chat Assistant after its launch.

The Chat Assistant is the demo's "AI" story: before its launch no chat or messaging conversation
sees a bot; afterwards it answers about 40% of them first, in seconds, and resolves a growing
share alone (containment rising from ~30% to ~45% as it is tuned), handing the rest to humans.
"""

from __future__ import annotations

import numpy as np

from cxmetrics.demo._calendar import DAY, US
from cxmetrics.demo._channels import CHANNEL_SPECS
from cxmetrics.demo._context import Context, lognormal, seconds
from cxmetrics.demo._events import body
from cxmetrics.demo._org import ANSWER_BOT, CHAT_BOT

_BOT_KIND = np.array([{"answer": 1, "chat": 2}.get(c.bot, 0) for c in CHANNEL_SPECS])


def bot_step(ctx: Context, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run bots on eligible inbound tickets; returns the handed-off rows and their hand-off times."""
    world, rng, buf, facts = ctx.world, ctx.rng, ctx.buf, ctx.facts
    moments, end = world.cal.moments, world.cal.end
    t0 = ctx.draw.created[rows]
    kind = _BOT_KIND[ctx.draw.channel[rows]]
    since = (t0 - moments.bot_launch).astype(np.float64)
    chat_share = 0.28 + 0.14 * np.clip(since / (56 * DAY), 0, 1)
    involvement = np.select([kind == 1, (kind == 2) & (since >= 0)], [0.10, chat_share], 0.0)
    involved = rng.random(rows.size) < involvement
    rows, t0, kind, since = rows[involved], t0[involved], kind[involved], since[involved]
    chat = kind == 2
    bot = np.where(chat, world.agents.first_bot + CHAT_BOT, world.agents.first_bot + ANSWER_BOT).astype(np.int32)
    facts["bot"][rows] = bot

    t_bot = t0 + US + seconds(np.where(chat, lognormal(rng, 3.0, 0.4, rows.size),
                                       lognormal(rng, 60.0, 0.5, rows.size)))
    texts = buf.texts
    buf.add(rows, t_bot, "message", "bot", 4, actor=bot, public=1, body=texts.bot(rows))
    t_answer = t_bot + US + seconds(np.where(chat, lognormal(rng, 35.0, 0.8, rows.size),
                                             lognormal(rng, 900.0, 1.2, rows.size)))
    tuning = np.clip(since / max(end - moments.bot_launch, 1), 0, 1)
    contain = rng.random(rows.size) < np.where(chat, 0.30 + 0.15 * tuning, 0.15)

    ok, no = rows[contain], rows[~contain]
    buf.add(ok, t_answer[contain], "message", "customer", 1, actor=ctx.customer[ok], public=1,
            body=body("customer_bot_ok", texts.rng, ok.size))
    solved = t_answer[contain] + 2 * US
    buf.status(ok, solved, "new", "solved", "bot", 5, actor=bot[contain])
    ctx.close(ok, solved)
    facts["contained"][ok] = True
    facts["solver"][ok] = bot[contain]
    facts["solved"][ok] = solved
    facts["first_solved"][ok] = solved

    buf.add(no, t_answer[~contain], "message", "customer", 1, actor=ctx.customer[no], public=1,
            body=body("customer_bot_no", texts.rng, no.size))
    handoff = t_answer[~contain] + 2 * US
    buf.add(no, handoff, "handoff", "bot", 6, actor=bot[~contain])
    return no, handoff
