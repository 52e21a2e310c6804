-- 0010: agent-created tickets are measured as Zendesk documents it (their opening comment is
-- not a reply, and first reply time runs to the agent's next public comment). Facts stored
-- under the old rule would keep it until their tickets change, so the next refresh is made a
-- full one: with no import recorded as reflected, every ticket's facts are rebuilt.
-- Frozen: later changes go in new numbered files, never here.
DELETE FROM facts_state;
