-- 0022: what the last full facts refresh changed (cxmetrics.facts.last_full_refresh): a full
-- refresh derives every ticket again and rewrites only the rows that differ from the stored
-- ones; this row says how many tickets that was, per table, so that after an upgrade or a
-- `refresh --full` a user sees whether any number moved. One row at most.
-- Frozen: later changes go in new numbered files, never here.
CREATE TABLE IF NOT EXISTS facts_full_refresh (
    refreshed_at TIMESTAMPTZ NOT NULL,
    tickets BIGINT NOT NULL,             -- tickets derived
    facts_changed BIGINT NOT NULL,       -- tickets whose ticket_facts row is new, gone or different
    replies_changed BIGINT NOT NULL,     -- tickets whose reply_intervals rows differ
    contacts_changed BIGINT NOT NULL,    -- tickets whose contacts rows differ
    sends_changed BIGINT NOT NULL,       -- survey sends whose fatigue ordinal differs
    first BOOLEAN NOT NULL               -- nothing was stored before: every row is new
);
