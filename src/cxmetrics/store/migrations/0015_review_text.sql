-- 0015: the text facts of reviews (cxmetrics.studies, docs/studies.md "Reviews"): written by the
-- reviews import for every review of the imported source, so review metrics read them in SQL.
-- Frozen: later changes go in new numbered files, never here.
CREATE TABLE IF NOT EXISTS review_text (
    source VARCHAR NOT NULL,
    review_id VARCHAR NOT NULL,
    sentiment_score DOUBLE,     -- the review's text, -1..1 (the shipped sentiment model)
    sentiment_label VARCHAR,    -- negative | neutral | positive
    greets_by_name BOOLEAN,     -- the reply's signals (NULL without reply text)
    refers_specifics BOOLEAN,
    personalised BOOLEAN
);  -- key: (source, review_id)
