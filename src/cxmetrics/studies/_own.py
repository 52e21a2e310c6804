"""The organisation's own tickets as a study's probes, so its SPI sits in the same table as
its competitors' (docs/studies.md, "Your own organisation").

Every ticket its customer created (not deleted, spam or merged) on one of the study's
channels in the period is a probe sent at its creation: the question is what the customer
wrote before the first reply (their public messages, one line each; NULL when they wrote nothing
before it, as on a call: its relevance and thoroughness cannot be judged from text; a ticket
without a reply keeps its first message, else its subject), the answer its first public agent reply
(`ticket_facts.first_reply_at`, the FRT metrics' reply) with that message's text; a ticket
that only a bot answered has the bot's first public message as an auto-reply. A channel with
tickets in the period is available; none is probed without tickets.

The first reply's signals of a good answer come with it from the text facts (`reply_signals`,
NULL where the text layer has not scored it), which read the reply against the same messages:
scoring 30,000 replies again would take seconds on every build of the Studies page.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING

import pyarrow as pa

from cxmetrics.text.signals import ReplySignals

if TYPE_CHECKING:
    from cxmetrics._workspace import Workspace

_QUERY = """
WITH t AS (
    SELECT f.source, f.ticket_id, f.channel, f.created_at, f.first_reply_at, f.solved
    FROM ticket_facts f
    WHERE NOT coalesce(f.excluded, false) AND coalesce(f.created_by, 'customer') = 'customer'
      AND f.created_at >= CAST(? AS TIMESTAMPTZ) AND f.created_at < CAST(? AS TIMESTAMPTZ)
      AND list_contains(?, f.channel)
),
msg AS (
    SELECT e.source, e.ticket_id, e.ts, e.kind, e.actor_type, e.body, e.event_id, t.first_reply_at
    FROM events e JOIN t USING (source, ticket_id)
    WHERE e.kind IN ('created', 'message') AND coalesce(e.public, true)
),
said AS (  -- (one pass over the messages: a second reference would copy them all; ltrim(body) <> ''
           -- is "has text", several times faster than trim)
    SELECT source, ticket_id,
           -- what the first reply answers: everything the customer wrote before it
           string_agg(body, chr(10) ORDER BY ts, event_id) FILTER (
               actor_type = 'customer' AND ltrim(body) <> '' AND ts < first_reply_at) AS asked,
           arg_min(body, (ts, event_id)) FILTER (actor_type = 'customer' AND ltrim(body) <> '')
               AS question,
           min(ts) FILTER (actor_type = 'bot' AND kind = 'message') AS bot_at,
           arg_min(body, (ts, event_id)) FILTER (actor_type = 'bot' AND kind = 'message') AS bot_text,
           arg_min(body, (ts, event_id)) FILTER (actor_type = 'agent' AND kind = 'message' AND ts = first_reply_at)
               AS reply_text,
           arg_min(event_id, (ts, event_id)) FILTER (actor_type = 'agent' AND kind = 'message'
                                                     AND ts = first_reply_at) AS reply_event_id
    FROM msg GROUP BY ALL
)
SELECT t.source || ':' || t.ticket_id AS probe_id, t.channel, t.created_at AS sent_at,
       -- an answer is read against what was asked before it, nothing else (a call's follow-up
       -- against the customer's later thanks would be judged on words it never answered)
       CASE WHEN t.first_reply_at IS NOT NULL THEN s.asked ELSE coalesce(s.question, k.subject) END AS question,
       coalesce(t.first_reply_at, s.bot_at) AS first_response_at,
       epoch(coalesce(t.first_reply_at, s.bot_at)) - epoch(t.created_at) AS response_s,
       CASE WHEN t.first_reply_at IS NOT NULL THEN s.reply_text ELSE s.bot_text END AS response_text,
       t.first_reply_at IS NULL AND s.bot_at IS NOT NULL AS auto_reply,
       t.solved AS resolved,
       {signals}
FROM t
LEFT JOIN said s USING (source, ticket_id)
LEFT JOIN tickets k USING (source, ticket_id)
LEFT JOIN reply_signals g ON g.source = t.source AND g.event_id = s.reply_event_id AND t.first_reply_at IS NOT NULL
ORDER BY t.created_at, t.source, t.ticket_id
"""


#: the columns of `reply_signals` a probe row carries, as `signal_<name>` (a ReplySignals' fields)
SIGNALS = tuple(f.name for f in fields(ReplySignals))


def own_probes(ws: Workspace, channels: list[str], start: str, end: str) -> pa.Table:
    """The organisation's tickets created in [start, end) on `channels`, as probe rows, with
    their first reply's signals (`signal_*`, NULL where not scored)."""
    if getattr(ws, "auto_refresh", False):
        ws.refresh()  # the replies come from the facts (the signals from the text facts): bring them up to date
    return ws.sql(_QUERY.format(signals=", ".join(f"g.{n} AS signal_{n}" for n in SIGNALS)), [start, end, channels])
