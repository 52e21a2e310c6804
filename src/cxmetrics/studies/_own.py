"""The organisation's own tickets as a study's probes, so its SPI sits in the same table as
its competitors' (docs/studies.md, "Your own organisation").

Every ticket its customer created (not deleted, spam or merged) on one of the study's
channels in the period is a probe sent at its creation: the question is the customer's
first message (else the ticket's subject), the answer its first public agent reply
(`ticket_facts.first_reply_at`, the FRT metrics' reply) with that message's text; a ticket
that only a bot answered has the bot's first public message as an auto-reply. A channel with
tickets in the period is available; none is probed without tickets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

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
    SELECT e.source, e.ticket_id, e.ts, e.kind, e.actor_type, e.body, e.event_id
    FROM events e JOIN t USING (source, ticket_id)
    WHERE e.kind IN ('created', 'message') AND coalesce(e.public, true)
),
said AS (
    SELECT source, ticket_id,
           arg_min(body, (ts, event_id)) FILTER (actor_type = 'customer' AND nullif(trim(body), '') IS NOT NULL)
               AS question,
           min(ts) FILTER (actor_type = 'bot' AND kind = 'message') AS bot_at,
           arg_min(body, (ts, event_id)) FILTER (actor_type = 'bot' AND kind = 'message') AS bot_text
    FROM msg GROUP BY ALL
),
reply AS (
    SELECT m.source, m.ticket_id, arg_min(m.body, (m.ts, m.event_id)) AS text
    FROM msg m JOIN t USING (source, ticket_id)
    WHERE m.actor_type = 'agent' AND m.kind = 'message' AND m.ts = t.first_reply_at
    GROUP BY ALL
)
SELECT t.source || ':' || t.ticket_id AS probe_id, t.channel, t.created_at AS sent_at,
       coalesce(s.question, k.subject) AS question,
       coalesce(t.first_reply_at, s.bot_at) AS first_response_at,
       CASE WHEN t.first_reply_at IS NOT NULL THEN r.text ELSE s.bot_text END AS response_text,
       t.first_reply_at IS NULL AND s.bot_at IS NOT NULL AS auto_reply,
       t.solved AS resolved
FROM t
LEFT JOIN said s USING (source, ticket_id)
LEFT JOIN reply r USING (source, ticket_id)
LEFT JOIN tickets k USING (source, ticket_id)
ORDER BY t.created_at, t.source, t.ticket_id
"""


def own_probes(ws: Workspace, channels: list[str], start: str, end: str) -> pa.Table:
    """The organisation's tickets created in [start, end) on `channels`, as probe rows."""
    if getattr(ws, "auto_refresh", False):
        ws.refresh()  # the replies come from the facts: bring them up to date first
    return ws.sql(_QUERY, [start, end, channels])
