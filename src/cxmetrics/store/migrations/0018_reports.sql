-- 0018: scheduled reports (cxmetrics.reports, docs/reports.md): the delivery ledger.
-- Frozen: later changes go in new numbered files, never here.
--
-- One row per (schedule, period): the weekly report of schedule "weekly" for ISO week
-- 2026-W10 is one row, whichever server or cron job finds it due, however often restarted;
-- the primary key refuses a second. Before each SMTP attempt the row is leased (attempts + 1
-- and next_attempt_at moved to the retry time, committed), as the alerts' outbox does: a
-- process killed in mid-send retries after the backoff and never forgets the report.
CREATE TABLE IF NOT EXISTS report_deliveries (
    schedule VARCHAR NOT NULL,          -- the [[report]] name in reports.toml
    period VARCHAR NOT NULL,            -- the period reported, e.g. 2026-W10
    kind VARCHAR NOT NULL,              -- weekly
    period_start DATE NOT NULL,         -- first day reported (workspace time zone)
    period_end DATE NOT NULL,           -- the day after the last one
    due_at TIMESTAMPTZ NOT NULL,        -- when the schedule said to send it
    recipients VARCHAR[] NOT NULL,      -- the addresses it was (to be) sent to
    message_id VARCHAR NOT NULL,        -- the same on every attempt: a mail client shows a repeat as one
    status VARCHAR NOT NULL,            -- pending | delivered | failed
    attempts INTEGER NOT NULL,          -- attempts made so far
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_attempt_at TIMESTAMPTZ,
    last_error VARCHAR,
    delivered_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (schedule, period)
);
