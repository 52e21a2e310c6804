-- 0007: the SLA alert ledger and its delivery outbox.
-- Frozen: later changes go in new numbered files, never here.
--
-- An alert is one state change of one SLA target (at risk, breached), recorded once
-- ever: its id is derived from the target and the kind, and the primary key refuses a
-- second row. Its deliveries (one per destination that wants it) are written in the
-- same transaction, so an alert is never recorded without its deliveries, nor sent
-- without being recorded. Both tables are small (one row per state change), so keys
-- are enforced by the engine here.

-- one row per (SLA target, kind): what the watcher saw when the state changed
CREATE TABLE alerts (
    alert_id VARCHAR PRIMARY KEY,        -- 'sla-' + md5 of source|ticket_id|metric|cycle|kind
    kind VARCHAR NOT NULL,               -- at_risk | breached
    source VARCHAR NOT NULL,
    ticket_id VARCHAR NOT NULL,
    metric VARCHAR NOT NULL,             -- the SLA metric (first_reply_time, ...)
    cycle INTEGER NOT NULL,              -- which occurrence of the metric on the ticket (1 = first)
    policy VARCHAR,
    priority VARCHAR,
    channel VARCHAR,
    team VARCHAR,
    assignee_id VARCHAR,
    subject VARCHAR,
    business_hours BOOLEAN,              -- the target counts business time (else calendar)
    due_at TIMESTAMPTZ,
    breached_at TIMESTAMPTZ,
    seconds_left DOUBLE,                 -- calendar seconds from detected_at to due_at (negative: late)
    timezone VARCHAR NOT NULL,           -- the zone due times are shown in
    detected_at TIMESTAMPTZ NOT NULL,    -- the watcher's clock when it saw the change
    recorded_at TIMESTAMPTZ NOT NULL     -- wall clock when the row was written
);

-- one row per (alert, destination): the outbox
CREATE TABLE alert_deliveries (
    alert_id VARCHAR NOT NULL,
    destination VARCHAR NOT NULL,        -- the destination's name in alerts.toml
    destination_type VARCHAR NOT NULL,   -- webhook | slack | email
    status VARCHAR NOT NULL,             -- pending | delivered | failed
    attempts INTEGER NOT NULL,           -- attempts made so far
    next_attempt_at TIMESTAMPTZ NOT NULL,
    held_until TIMESTAMPTZ,              -- set when quiet hours held the delivery
    last_attempt_at TIMESTAMPTZ,
    last_error VARCHAR,
    delivered_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (alert_id, destination)
);

-- one row: the watcher's clock at its last evaluation (breaches since then are new)
CREATE TABLE alert_watch (
    id INTEGER PRIMARY KEY,
    first_now TIMESTAMPTZ NOT NULL,
    last_now TIMESTAMPTZ NOT NULL,
    runs BIGINT NOT NULL
);
