-- 0017: ticket_facts keeps when a ticket open now, although solved before, was reopened (its
-- first status event back to new/open/pending/on-hold after its latest solve), so the backlog
-- reads one table instead of looking the tickets' status events up on every request. The
-- next refresh is made a full one (no import recorded as reflected) to fill it for every ticket.
-- Frozen: later changes go in new numbered files, never here.
ALTER TABLE ticket_facts ADD COLUMN IF NOT EXISTS reopened_at TIMESTAMPTZ;
DELETE FROM facts_state;
