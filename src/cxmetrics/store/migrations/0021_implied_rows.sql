-- 0021: what a flat ticket implies is derived when read, not stored.
-- A flat ticket row (`import tickets`) implies its created, first-reply and solved events and
-- its survey answers (csat, ces, nps). They were written as rows of events and surveys (origin
-- 'tickets'), 3.2 rows per ticket in the benchmark's file, most of a flat import's time. The
-- ticket now keeps the values they are made of (first_reply_at, solved_at, the scores and their
-- scales, and _flat: the row came from a flat import), and `events` and `surveys` become views: the
-- rows given (tables events_stored and surveys_stored, which every write goes to) and the
-- rows the flat tickets imply, computed as the import computed them (cxmetrics.store._implied
-- defines them, at the first open after this migration). Readers see the same
-- rows as before. The tickets' content hashes are unchanged (the new columns are not content
-- of their own: they come from the flat row's inputs, which the hash covered already).
-- Implied rows that a flat ticket no longer reproduces (none is expected) stay stored.
-- Frozen: later changes go in new numbered files, never here.
CREATE TABLE _tickets_0021 (
    source VARCHAR NOT NULL,
    ticket_id VARCHAR NOT NULL,
    created_at TIMESTAMPTZ,
    channel VARCHAR,
    priority VARCHAR,
    status VARCHAR,
    requester_id VARCHAR,
    assignee_id VARCHAR,
    agent_type VARCHAR,
    team VARCHAR,
    topic VARCHAR,
    tags VARCHAR[],
    product VARCHAR,
    customer_tier VARCHAR,
    region VARCHAR,
    created_by VARCHAR,
    subject VARCHAR,
    reopens_reported BIGINT,
    replies_reported BIGINT,
    handle_s_reported DOUBLE,
    first_reply_at TIMESTAMPTZ,
    solved_at TIMESTAMPTZ,
    csat_score DOUBLE,
    csat_scale VARCHAR,
    ces_score DOUBLE,
    ces_scale VARCHAR,
    nps DOUBLE,
    _flat BOOLEAN,
    _hash UBIGINT NOT NULL,
    _import_id VARCHAR
);  -- key: (source, ticket_id)

INSERT INTO _tickets_0021
SELECT t.source, t.ticket_id, t.created_at, t.channel, t.priority, t.status, t.requester_id, t.assignee_id,
       t.agent_type, t.team, t.topic, t.tags, t.product, t.customer_tier, t.region, t.created_by, t.subject,
       t.reopens_reported, t.replies_reported, t.handle_s_reported,
       e.first_reply_at, e.solved_at,
       s.csat_score, s.csat_scale, s.ces_score, s.ces_scale, s.nps,
       coalesce(e.flat, false), t._hash, t._import_id
FROM tickets t
LEFT JOIN (
    SELECT source, ticket_id,
           max(ts) FILTER (WHERE event_id = ticket_id || ':first_reply') AS first_reply_at,
           max(ts) FILTER (WHERE event_id = ticket_id || ':solved') AS solved_at,
           bool_or(event_id = ticket_id || ':created') AS flat
    FROM events WHERE origin = 'tickets' GROUP BY source, ticket_id
) e ON e.source = t.source AND e.ticket_id = t.ticket_id
LEFT JOIN (
    SELECT source, ticket_id,
           max(score) FILTER (WHERE response_id = ticket_id || ':csat') AS csat_score,
           max(scale) FILTER (WHERE response_id = ticket_id || ':csat') AS csat_scale,
           max(score) FILTER (WHERE response_id = ticket_id || ':ces') AS ces_score,
           max(scale) FILTER (WHERE response_id = ticket_id || ':ces') AS ces_scale,
           max(score) FILTER (WHERE response_id = ticket_id || ':nps') AS nps
    FROM surveys WHERE origin = 'tickets' GROUP BY source, ticket_id
) s ON s.source = t.source AND s.ticket_id = t.ticket_id;
DROP TABLE tickets;
ALTER TABLE _tickets_0021 RENAME TO tickets;

-- the implied rows the views now give (a flat ticket's own ids), and nothing else
DELETE FROM events e USING tickets t
WHERE e.origin = 'tickets' AND t._flat AND e.source = t.source AND e.ticket_id = t.ticket_id
  AND e.event_id IN (t.ticket_id || ':created', t.ticket_id || ':first_reply', t.ticket_id || ':solved');
DELETE FROM surveys s USING tickets t
WHERE s.origin = 'tickets' AND t._flat AND s.source = t.source AND s.ticket_id = t.ticket_id
  AND s.response_id IN (t.ticket_id || ':csat', t.ticket_id || ':ces', t.ticket_id || ':nps');
ALTER TABLE events RENAME TO events_stored;
ALTER TABLE surveys RENAME TO surveys_stored;

-- The views as a workspace without flat tickets has them: the rows given. Opening the
-- workspace makes them derive the implied rows when a flat ticket is stored
-- (cxmetrics.store._implied, which owns their definition).
CREATE VIEW events AS
SELECT source, event_id, ticket_id, ts, kind, actor_type, actor_id, public, status_from, status_to, body,
       channel, duration_s, assignee_id, team, priority, origin, _hash, _import_id
FROM events_stored;
CREATE VIEW surveys AS
SELECT source, response_id, ticket_id, customer_id, agent_id, kind, scale, scale_min, scale_max, score,
       comment, sent_at, responded_at, origin, send_id, _hash, _import_id
FROM surveys_stored;
