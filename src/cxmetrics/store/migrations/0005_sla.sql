-- 0005: SLA targets and clocks (see cxmetrics.sla), refreshed by refresh_sla().
-- Frozen: later changes go in new numbered files, never here.
-- Durations are seconds: business seconds for business-hours targets, else calendar seconds.

-- one row per ticket, SLA metric (of the policy that applies) and cycle
CREATE TABLE sla_targets (
    source VARCHAR NOT NULL,
    ticket_id VARCHAR NOT NULL,
    policy VARCHAR NOT NULL,
    metric VARCHAR NOT NULL,
    cycle BIGINT NOT NULL,
    priority VARCHAR,
    channel VARCHAR,
    team VARCHAR,
    assignee_id VARCHAR,
    customer_tier VARCHAR,
    business BOOLEAN NOT NULL,
    schedule VARCHAR,
    target_s DOUBLE NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    due_at TIMESTAMPTZ,
    completed_at TIMESTAMPTZ,
    elapsed_s DOUBLE,
    seconds_left DOUBLE,
    state VARCHAR NOT NULL,
    breached_at TIMESTAMPTZ,
    settled_at TIMESTAMPTZ,
    evaluated_at TIMESTAMPTZ NOT NULL,
    -- bookkeeping of the clock: running seconds banked in closed spans, and the start of
    -- the span running now (NULL when paused or completed)
    _banked_s DOUBLE NOT NULL,
    _running_since TIMESTAMPTZ
);  -- key: (source, ticket_id, metric, cycle)

-- one row per ticket of ticket_facts as of the last SLA refresh: what its targets were derived from
CREATE TABLE sla_tickets (
    source VARCHAR NOT NULL,
    ticket_id VARCHAR NOT NULL,
    policy VARCHAR,
    fingerprint UBIGINT,
    _event_rows BIGINT NOT NULL,
    _ticket_row BOOLEAN NOT NULL,
    refreshed_at TIMESTAMPTZ NOT NULL
);  -- key: (source, ticket_id)

-- the imports whose rows sla_targets reflects: rows of any other import are new
CREATE TABLE sla_imports (
    import_id VARCHAR NOT NULL,
    refreshed_at TIMESTAMPTZ NOT NULL
);

-- digests and times of the last refresh: config (policies and schedules), evaluated_at
CREATE TABLE sla_meta (
    key VARCHAR NOT NULL,
    value VARCHAR
);
