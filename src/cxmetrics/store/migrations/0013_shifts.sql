-- 0013: shifts, the agents' working spans and what they did in them (cxmetrics.workforce,
-- docs/workforce.md): `available` spans are staffed time (the denominator of occupancy and
-- the "staffed" of staffed vs required); other activities are paid time off the queues.
-- Frozen: later changes go in new numbered files, never here.
CREATE TABLE IF NOT EXISTS shifts (
    source VARCHAR NOT NULL,
    agent_id VARCHAR NOT NULL,
    start_at TIMESTAMPTZ NOT NULL,
    end_at TIMESTAMPTZ NOT NULL,
    activity VARCHAR NOT NULL,
    team VARCHAR,
    channel VARCHAR,
    _hash UBIGINT NOT NULL,
    _import_id VARCHAR
);  -- key: (source, agent_id, start_at, activity)
