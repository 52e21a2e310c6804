-- 0008: business-time twins of the facts (see cxmetrics.facts._business), refreshed with
-- ticket_facts in the same transaction, for the same tickets; wholly when the schedules change.
-- Frozen: later changes go in new numbered files, never here.
-- Durations are business seconds (_bh_s): only the business hours of the ticket's schedule
-- (schedules.toml; without one, 24/7 UTC, so they equal the calendar durations).

-- one row per row of ticket_facts
CREATE TABLE ticket_facts_bh (
    source VARCHAR NOT NULL,
    ticket_id VARCHAR NOT NULL,
    schedule VARCHAR,
    frt_bh_s DOUBLE,
    frt_first_touch_bh_s DOUBLE,
    first_resolution_bh_s DOUBLE,
    full_resolution_bh_s DOUBLE,
    requester_wait_bh_s DOUBLE,
    agent_wait_bh_s DOUBLE,
    on_hold_bh_s DOUBLE,
    agent_work_bh_s DOUBLE,
    frt_after_handoff_bh_s DOUBLE
);  -- key: (source, ticket_id)

-- one row per row of reply_intervals
CREATE TABLE reply_intervals_bh (
    source VARCHAR NOT NULL,
    ticket_id VARCHAR NOT NULL,
    seq BIGINT NOT NULL,
    seconds_bh DOUBLE
);  -- key: (source, ticket_id, seq)

-- the last business-time pass: at most one row
CREATE TABLE business_facts_state (
    fingerprint VARCHAR NOT NULL,      -- of the schedules the twins were computed under
    refreshed_at TIMESTAMPTZ NOT NULL,
    tickets BIGINT NOT NULL,           -- tickets whose twins were recomputed
    changed BIGINT NOT NULL,           -- of those, tickets whose twins (or reply intervals') changed
    recomputed_all BOOLEAN NOT NULL    -- a pass over every ticket (a full refresh, or new schedules)
);
