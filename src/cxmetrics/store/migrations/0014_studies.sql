-- 0014: benchmark studies and reviews (cxmetrics.studies, docs/studies.md): the companies of
-- a study and the channels they offer, the probes sent to them and their answers, and public
-- reviews with the company's replies.
-- Frozen: later changes go in new numbered files, never here.
CREATE TABLE IF NOT EXISTS companies (
    source VARCHAR NOT NULL,
    company VARCHAR NOT NULL,
    industry VARCHAR,
    region VARCHAR,
    size VARCHAR,
    channels VARCHAR[],
    _hash UBIGINT NOT NULL,
    _import_id VARCHAR
);  -- key: (source, company)
CREATE TABLE IF NOT EXISTS probes (
    source VARCHAR NOT NULL,
    probe_id VARCHAR NOT NULL,
    study VARCHAR NOT NULL,
    company VARCHAR NOT NULL,
    channel VARCHAR NOT NULL,
    sent_at TIMESTAMPTZ NOT NULL,
    question VARCHAR,
    first_response_at TIMESTAMPTZ,
    response_text VARCHAR,
    auto_reply BOOLEAN,
    resolved BOOLEAN,
    follow_up_at TIMESTAMPTZ,
    industry VARCHAR,
    region VARCHAR,
    company_size VARCHAR,
    rubric_personalised DOUBLE,
    rubric_relevant DOUBLE,
    rubric_thorough DOUBLE,
    rubric_empathetic DOUBLE,
    _hash UBIGINT NOT NULL,
    _import_id VARCHAR
);  -- key: (source, probe_id)
CREATE TABLE IF NOT EXISTS reviews (
    source VARCHAR NOT NULL,
    review_id VARCHAR NOT NULL,
    platform VARCHAR,
    company VARCHAR,
    rating BIGINT NOT NULL,
    text VARCHAR,
    author VARCHAR,
    created_at TIMESTAMPTZ NOT NULL,
    reply_text VARCHAR,
    replied_at TIMESTAMPTZ,
    edited_at TIMESTAMPTZ,
    app_version VARCHAR,
    helpful BIGINT,
    _hash UBIGINT NOT NULL,
    _import_id VARCHAR
);  -- key: (source, review_id)
