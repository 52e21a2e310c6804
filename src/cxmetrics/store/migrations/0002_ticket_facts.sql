-- 0002: facts derived from events (see cxmetrics.facts), refreshed by refresh_facts().
-- Frozen: later changes go in new numbered files, never here.
-- Durations are calendar seconds and end in _s (a business-time twin will be _bh_s).

-- one row per (source, ticket_id) found in tickets or events
CREATE TABLE ticket_facts (
    source VARCHAR NOT NULL,
    ticket_id VARCHAR NOT NULL,
    created_at TIMESTAMPTZ,
    channel VARCHAR,
    priority VARCHAR,
    team VARCHAR,
    assignee_id VARCHAR,
    topic VARCHAR,
    tags VARCHAR[],
    product VARCHAR,
    customer_tier VARCHAR,
    region VARCHAR,
    requester_id VARCHAR,
    created_by VARCHAR,
    status VARCHAR,
    excluded BOOLEAN,
    first_reply_at TIMESTAMPTZ,
    frt_s DOUBLE,
    first_touch_at TIMESTAMPTZ,
    frt_first_touch_s DOUBLE,
    unanswered BOOLEAN,
    first_solved_at TIMESTAMPTZ,
    last_solved_at TIMESTAMPTZ,
    first_resolution_s DOUBLE,
    full_resolution_s DOUBLE,
    solved BOOLEAN,
    reopens BIGINT,
    public_agent_replies BIGINT,
    one_touch BOOLEAN,
    two_touch BOOLEAN,
    multi_touch BOOLEAN,
    requester_wait_s DOUBLE,
    agent_wait_s DOUBLE,
    on_hold_s DOUBLE,
    agent_work_s DOUBLE,
    assignee_changes BIGINT,
    team_changes BIGINT,
    escalated BOOLEAN,
    bot_involved BOOLEAN,
    handed_off BOOLEAN,
    bot_contained BOOLEAN,
    frt_after_handoff_s DOUBLE,
    resolved_by_type VARCHAR,
    resolver_id VARCHAR,
    call_queued_at TIMESTAMPTZ,
    call_answered_at TIMESTAMPTZ,
    asa_s DOUBLE,
    call_abandoned BOOLEAN,
    abandon_wait_s DOUBLE,
    short_abandon BOOLEAN,
    talk_s DOUBLE,
    hold_s DOUBLE,
    wrap_s DOUBLE,
    handle_s DOUBLE,
    fcr BOOLEAN,
    n_events BIGINT,
    last_event_at TIMESTAMPTZ,
    -- bookkeeping of the incremental refresh: stored events of the ticket (every
    -- origin) and whether it has a tickets row, as of the last refresh
    _event_rows BIGINT NOT NULL,
    _ticket_row BOOLEAN NOT NULL
);  -- key: (source, ticket_id)

-- one row per agent response interval of a ticket created by its customer
CREATE TABLE reply_intervals (
    source VARCHAR NOT NULL,
    ticket_id VARCHAR NOT NULL,
    seq BIGINT NOT NULL,
    started_at TIMESTAMPTZ,
    replied_at TIMESTAMPTZ,
    seconds DOUBLE
);  -- key: (source, ticket_id, seq)

-- the imports whose rows the facts reflect: rows of any other import are new
CREATE TABLE facts_state (
    import_id VARCHAR NOT NULL,
    refreshed_at TIMESTAMPTZ NOT NULL
);
