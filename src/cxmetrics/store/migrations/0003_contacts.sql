-- 0003: contacts derived from events (see cxmetrics.facts), refreshed with ticket_facts.
-- Frozen: later changes go in new numbered files, never here.

-- one row per call of a ticket (a call starts at each call_queued event), per chat
-- offered to agents, and per other ticket with reported handle time
CREATE TABLE contacts (
    source VARCHAR NOT NULL,
    ticket_id VARCHAR NOT NULL,
    contact_no BIGINT NOT NULL,
    kind VARCHAR NOT NULL,
    contact_at TIMESTAMPTZ,
    offered_at TIMESTAMPTZ,
    answered_at TIMESTAMPTZ,
    abandoned BOOLEAN,
    abandoned_at TIMESTAMPTZ,
    wait_s DOUBLE,
    short_abandon BOOLEAN,
    talk_s DOUBLE,
    hold_s DOUBLE,
    wrap_s DOUBLE,
    handle_s DOUBLE,
    agent_id VARCHAR
);  -- key: (source, ticket_id, contact_no)
