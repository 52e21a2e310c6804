-- 0020: each survey send's ordinal among its customer's sends (the fatigue band
-- surveys_received), kept by the facts refresh instead of a window over every send on every
-- request. The next refresh is made a full one (no import recorded as reflected) to fill it.
-- Frozen: later changes go in new numbered files, never here.
CREATE TABLE IF NOT EXISTS survey_fatigue (
    source VARCHAR NOT NULL,
    send_id VARCHAR NOT NULL,
    customer VARCHAR NOT NULL,
    nth BIGINT NOT NULL
);  -- key: (source, send_id)
DELETE FROM facts_state;
