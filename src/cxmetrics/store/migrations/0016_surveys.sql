-- 0016: survey collection (cxmetrics.surveys, docs/surveys.md). The canonical tables gain the
-- columns a collected survey carries: the send an answer answers, the definition, trigger,
-- delivery, language, delay and reminder of a send, and a customer's e-mail, locale and name
-- (with `origin` = helpdesk on the rows a connector made from a ticket's requester).
-- Store-only tables hold what the server needs to send and collect: each send's request and
-- its deliveries (invite, reminder), the signing keys of survey links, and the answers' edit
-- state. A content hash covers every column, so the stored hashes are recomputed over the new
-- column lists: re-importing an unchanged file still reports its rows unchanged.
-- Frozen: later changes go in new numbered files, never here.
-- The three tables are rebuilt (not altered) so the bookkeeping columns stay last, as in every
-- canonical table; their rows are copied with their hashes recomputed.
CREATE TABLE _surveys_0016 (
    source VARCHAR NOT NULL,
    response_id VARCHAR NOT NULL,
    ticket_id VARCHAR,
    customer_id VARCHAR,
    agent_id VARCHAR,
    kind VARCHAR,
    scale VARCHAR,
    scale_min DOUBLE,
    scale_max DOUBLE,
    score DOUBLE,
    comment VARCHAR,
    sent_at TIMESTAMPTZ,
    responded_at TIMESTAMPTZ,
    origin VARCHAR,
    send_id VARCHAR,
    _hash UBIGINT NOT NULL,
    _import_id VARCHAR
);  -- key: (source, response_id)
INSERT INTO _surveys_0016
SELECT source, response_id, ticket_id, customer_id, agent_id, kind, scale, scale_min, scale_max, score, comment,
       sent_at, responded_at, origin, NULL,
       hash(ticket_id, customer_id, agent_id, kind, scale, scale_min, scale_max, score, comment, sent_at,
            responded_at, origin, NULL::VARCHAR), _import_id
FROM surveys;
DROP TABLE surveys;
ALTER TABLE _surveys_0016 RENAME TO surveys;

CREATE TABLE _survey_sends_0016 (
    source VARCHAR NOT NULL,
    send_id VARCHAR NOT NULL,
    ticket_id VARCHAR,
    customer_id VARCHAR,
    kind VARCHAR,
    sent_at TIMESTAMPTZ,
    channel VARCHAR,
    survey VARCHAR,
    agent_id VARCHAR,
    "trigger" VARCHAR,
    delivery VARCHAR,
    "language" VARCHAR,
    delay_s DOUBLE,
    reminded_at TIMESTAMPTZ,
    _hash UBIGINT NOT NULL,
    _import_id VARCHAR
);  -- key: (source, send_id)
INSERT INTO _survey_sends_0016
SELECT source, send_id, ticket_id, customer_id, kind, sent_at, channel, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       hash(ticket_id, customer_id, kind, sent_at, channel, NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR,
            NULL::VARCHAR, NULL::VARCHAR, NULL::DOUBLE, NULL::TIMESTAMPTZ), _import_id
FROM survey_sends;
DROP TABLE survey_sends;
ALTER TABLE _survey_sends_0016 RENAME TO survey_sends;

CREATE TABLE _customers_0016 (
    source VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL,
    created_at TIMESTAMPTZ,
    tier VARCHAR,
    region VARCHAR,
    segment VARCHAR,
    churned_at TIMESTAMPTZ,
    email VARCHAR,
    locale VARCHAR,
    "name" VARCHAR,
    origin VARCHAR,                     -- helpdesk: a connector's requester (contact details only)
    _hash UBIGINT NOT NULL,
    _import_id VARCHAR
);  -- key: (source, customer_id)
INSERT INTO _customers_0016
SELECT source, customer_id, created_at, tier, region, segment, churned_at, NULL, NULL, NULL, NULL,
       hash(created_at, tier, region, segment, churned_at, NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR,
            NULL::VARCHAR), _import_id
FROM customers;
DROP TABLE customers;
ALTER TABLE _customers_0016 RENAME TO customers;

-- one row per survey send cxmetrics makes: what to send to whom, decided once (send_id is
-- derived from the definition and the ticket or customer cycle, so a rule run twice plans nothing twice)
CREATE TABLE IF NOT EXISTS survey_requests (
    source VARCHAR NOT NULL,
    send_id VARCHAR NOT NULL,
    survey VARCHAR NOT NULL,            -- the definition's name in surveys.toml
    kind VARCHAR NOT NULL,              -- csat | ces | nps | esat
    scale VARCHAR NOT NULL,             -- 1-5, good/bad, 1-7, 0-10
    ticket_id VARCHAR,
    customer_id VARCHAR,
    agent_id VARCHAR,
    channel VARCHAR,                    -- the ticket's channel
    address VARCHAR,                    -- the e-mail address (delivery email)
    "language" VARCHAR NOT NULL,
    "trigger" VARCHAR NOT NULL,         -- solved | relationship | on_demand | embed
    delivery VARCHAR NOT NULL,          -- email | link | embed
    delay_s DOUBLE,
    due_at TIMESTAMPTZ NOT NULL,        -- when the invite is due
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, send_id)
);

-- the e-mails of a send: its invite and at most one reminder (the key makes "one reminder" hold)
CREATE TABLE IF NOT EXISTS survey_deliveries (
    source VARCHAR NOT NULL,
    send_id VARCHAR NOT NULL,
    purpose VARCHAR NOT NULL,           -- invite | reminder
    status VARCHAR NOT NULL,            -- pending | delivered | failed | cancelled
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_attempt_at TIMESTAMPTZ,
    last_error VARCHAR,
    delivered_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, send_id, purpose)
);

-- the keys survey links are signed with (HMAC-SHA256); retired keys still verify until their links expire
CREATE TABLE IF NOT EXISTS survey_keys (
    key_id VARCHAR PRIMARY KEY,
    secret VARCHAR NOT NULL,            -- hex, 32 random bytes
    created_at TIMESTAMPTZ NOT NULL,
    retired_at TIMESTAMPTZ
);

-- an answer's edit state: answered once, then editable for the edit window; `version` counts
-- the answers stored, and a form must carry the current one (a replayed or stale form stores nothing)
CREATE TABLE IF NOT EXISTS survey_answers (
    source VARCHAR NOT NULL,
    send_id VARCHAR NOT NULL,
    first_answered_at TIMESTAMPTZ NOT NULL,
    last_answered_at TIMESTAMPTZ NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (source, send_id)
);

-- when the rules first saw each enabled definition: the start of its "no flood" window (only
-- tickets solved after it, less one delay, are surveyed when a survey is switched on)
CREATE TABLE IF NOT EXISTS survey_rule_starts (
    survey VARCHAR PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL
);
