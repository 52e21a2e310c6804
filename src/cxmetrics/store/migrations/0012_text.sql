-- 0012: the text layer's facts (docs/text.md). Every table is keyed by the canonical row it
-- was derived from, so a refresh rewrites only the tickets whose text changed.
-- text_models: models kept in the workspace: discovered topics (kind 'topics') and trained
--   sentiment (kind 'sentiment'); the active one of each kind is used from then on.
-- text_topics: the topics of each topic model: name, distinctive words, size and example.
-- ticket_text: one row per ticket: its discovered topic and its customers' sentiment (first
--   and last customer message, mean, change, whether it ended better or worse).
-- message_sentiment: one row per customer message (an events row) with text.
-- reply_signals: one row per public agent reply with text: the signals of a good answer.
-- resolution_answers: one row per solved ticket's resolving reply: how far it stands from its
--   topic's usual answer (consistency).
-- text_state: the imports whose rows the text facts already reflect (as facts_state does).
-- Frozen: later changes go in new numbered files, never here.
CREATE TABLE IF NOT EXISTS text_models (
    model_id VARCHAR NOT NULL PRIMARY KEY,
    kind VARCHAR NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    params VARCHAR,
    payload BLOB
);
CREATE TABLE IF NOT EXISTS text_topics (
    model_id VARCHAR NOT NULL,
    topic_id INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    words VARCHAR[],
    size BIGINT,
    example VARCHAR,
    example_source VARCHAR,
    example_ticket VARCHAR,
    PRIMARY KEY (model_id, topic_id)
);
CREATE TABLE IF NOT EXISTS ticket_text (
    source VARCHAR NOT NULL,
    ticket_id VARCHAR NOT NULL,
    topic_model VARCHAR,
    topic_id INTEGER,
    discovered_topic VARCHAR,
    sentiment_model VARCHAR,
    customer_messages INTEGER,
    sentiment_first DOUBLE,
    sentiment_last DOUBLE,
    sentiment_mean DOUBLE,
    label_first VARCHAR,
    label_last VARCHAR,
    sentiment_change DOUBLE,
    sentiment_shift VARCHAR,
    updated_at TIMESTAMPTZ
);  -- key: (source, ticket_id)
CREATE TABLE IF NOT EXISTS message_sentiment (
    source VARCHAR NOT NULL,
    event_id VARCHAR NOT NULL,
    ticket_id VARCHAR NOT NULL,
    ts TIMESTAMPTZ,
    seq INTEGER,
    score DOUBLE,
    label VARCHAR,
    model VARCHAR
);  -- key: (source, event_id)
CREATE TABLE IF NOT EXISTS reply_signals (
    source VARCHAR NOT NULL,
    event_id VARCHAR NOT NULL,
    ticket_id VARCHAR NOT NULL,
    agent_id VARCHAR,
    ts TIMESTAMPTZ,
    greets_by_name BOOLEAN,
    refers_specifics BOOLEAN,
    personalised BOOLEAN,
    empathetic BOOLEAN,
    questions INTEGER,
    questions_answered INTEGER,
    thorough BOOLEAN,
    relevance DOUBLE,
    relevant BOOLEAN
);  -- key: (source, event_id)
CREATE TABLE IF NOT EXISTS resolution_answers (
    source VARCHAR NOT NULL,
    ticket_id VARCHAR NOT NULL,
    event_id VARCHAR NOT NULL,
    agent_id VARCHAR,
    ts TIMESTAMPTZ,
    topic_model VARCHAR,
    topic_id INTEGER,
    similarity DOUBLE,
    usual_source VARCHAR,
    usual_event_id VARCHAR,
    apart BOOLEAN
);  -- key: (source, ticket_id)
CREATE TABLE IF NOT EXISTS text_state (
    import_id VARCHAR NOT NULL,
    refreshed_at TIMESTAMPTZ NOT NULL
);
-- the discovered topic is a ticket dimension like `topic`: kept on ticket_facts, where every
-- metric's rows find their dimensions (the facts refresh carries it over from ticket_text)
ALTER TABLE ticket_facts ADD COLUMN IF NOT EXISTS discovered_topic VARCHAR;
