-- 0001: the canonical tables, quarantine and the import log.
-- Frozen: later changes go in new numbered files, never here.
-- Keys are kept unique by the import's merge, not by indexes: an ART index on
-- hundreds of millions of events costs more memory than the table itself.

-- one row per ticket or conversation
CREATE TABLE tickets (
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
    _hash UBIGINT NOT NULL,
    _import_id VARCHAR
);  -- key: (source, ticket_id)

-- one row per thing that happened to a ticket
CREATE TABLE events (
    source VARCHAR NOT NULL,
    event_id VARCHAR NOT NULL,
    ticket_id VARCHAR,
    ts TIMESTAMPTZ,
    kind VARCHAR,
    actor_type VARCHAR,
    actor_id VARCHAR,
    public BOOLEAN,
    status_from VARCHAR,
    status_to VARCHAR,
    body VARCHAR,
    channel VARCHAR,
    duration_s DOUBLE,
    assignee_id VARCHAR,
    team VARCHAR,
    priority VARCHAR,
    origin VARCHAR,
    _hash UBIGINT NOT NULL,
    _import_id VARCHAR
);  -- key: (source, event_id)

-- one row per survey answer
CREATE TABLE surveys (
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
    _hash UBIGINT NOT NULL,
    _import_id VARCHAR
);  -- key: (source, response_id)

-- one row per survey sent (the denominator of response rates)
CREATE TABLE survey_sends (
    source VARCHAR NOT NULL,
    send_id VARCHAR NOT NULL,
    ticket_id VARCHAR,
    customer_id VARCHAR,
    kind VARCHAR,
    sent_at TIMESTAMPTZ,
    channel VARCHAR,
    _hash UBIGINT NOT NULL,
    _import_id VARCHAR
);  -- key: (source, send_id)

-- one row per agent, human or bot
CREATE TABLE agents (
    source VARCHAR NOT NULL,
    agent_id VARCHAR NOT NULL,
    name VARCHAR,
    type VARCHAR,
    team VARCHAR,
    hired_at TIMESTAMPTZ,
    left_at TIMESTAMPTZ,
    _hash UBIGINT NOT NULL,
    _import_id VARCHAR
);  -- key: (source, agent_id)

-- one row per customer
CREATE TABLE customers (
    source VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL,
    created_at TIMESTAMPTZ,
    tier VARCHAR,
    region VARCHAR,
    segment VARCHAR,
    churned_at TIMESTAMPTZ,
    _hash UBIGINT NOT NULL,
    _import_id VARCHAR
);  -- key: (source, customer_id)

-- one row per product-usage event (identical rows are one event)
CREATE TABLE activity (
    source VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    action VARCHAR NOT NULL,
    _hash UBIGINT NOT NULL,
    _import_id VARCHAR
);  -- key: (source, customer_id, ts, action)

-- one row per period and segment
CREATE TABLE funnel (
    source VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    period_start DATE,
    period_end DATE,
    segment VARCHAR,
    visits BIGINT,
    conversions BIGINT,
    revenue DOUBLE,
    _hash UBIGINT NOT NULL,
    _import_id VARCHAR
);  -- key: (source, period, segment)

-- one row per period and cost line
CREATE TABLE costs (
    source VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    period_start DATE,
    period_end DATE,
    category VARCHAR NOT NULL,
    amount DOUBLE,
    currency VARCHAR,
    _hash UBIGINT NOT NULL,
    _import_id VARCHAR
);  -- key: (source, period, category)

-- one row per change worth marking on a chart
CREATE TABLE annotations (
    source VARCHAR NOT NULL,
    annotation_id VARCHAR NOT NULL,
    ts TIMESTAMPTZ,
    label VARCHAR,
    kind VARCHAR,
    description VARCHAR,
    _hash UBIGINT NOT NULL,
    _import_id VARCHAR
);  -- key: (source, annotation_id)

-- rows an import could not read, with where they were and why
CREATE TABLE quarantine (
    import_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    file VARCHAR,
    line BIGINT,
    raw VARCHAR,
    reason VARCHAR NOT NULL,
    quarantined_at TIMESTAMPTZ NOT NULL
);

-- one row per import run
CREATE TABLE imports (
    import_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    file VARCHAR,
    format VARCHAR,
    checksum VARCHAR,
    source VARCHAR,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    "read" BIGINT,
    inserted BIGINT,
    updated BIGINT,
    unchanged BIGINT,
    quarantined BIGINT
);
