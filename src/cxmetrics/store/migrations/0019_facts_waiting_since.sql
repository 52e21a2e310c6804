-- 0019: ticket_facts keeps, for each ticket open now, since when its customer waits for a reply
-- (their first public message after the last public agent reply; the ticket's creation when
-- they created it and nobody replied yet), so the live queue reads one column instead of every
-- open ticket's messages on each request. The next refresh is made a full one (no import
-- recorded as reflected) to fill it for every ticket.
-- Frozen: later changes go in new numbered files, never here.
ALTER TABLE ticket_facts ADD COLUMN IF NOT EXISTS waiting_since TIMESTAMPTZ;
DELETE FROM facts_state;
