-- 0011: state of help-desk connectors (docs/connectors.md).
-- connector_state: where each sync stream of a vendor continues (its cursor), written in
--   the same transaction as the pages fetched up to it, so a killed sync resumes exactly.
-- connector_pages: API pages fetched but not yet landed in the canonical tables; landing
--   deletes them in the transaction that records the landing (landing is idempotent, so a
--   crash between the two only lands them again, unchanged).
-- connector_objects: vendor objects kept as the vendor sent them, by kind and id: lookups a
--   later page is read against (users, groups, teams), the vendor's own per-ticket numbers
--   (Zendesk ticket_metrics, Freshdesk stats, Intercom statistics) that `cxmetrics reconcile`
--   compares with ours, and configuration (schedules, SLA policies).
-- webhook_deliveries: the deliveries already accepted, so a replayed one is refused.
-- Frozen: later changes go in new numbered files, never here.
CREATE TABLE IF NOT EXISTS connector_state (
    vendor VARCHAR NOT NULL,
    stream VARCHAR NOT NULL,
    cursor VARCHAR,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (vendor, stream)
);
CREATE TABLE IF NOT EXISTS connector_pages (
    vendor VARCHAR NOT NULL,
    stream VARCHAR NOT NULL,
    seq BIGINT NOT NULL,
    body VARCHAR NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (vendor, seq)
);
CREATE TABLE IF NOT EXISTS connector_objects (
    vendor VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    object_id VARCHAR NOT NULL,
    body VARCHAR NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (vendor, kind, object_id)
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    vendor VARCHAR NOT NULL,
    delivery_id VARCHAR NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (vendor, delivery_id)
);
