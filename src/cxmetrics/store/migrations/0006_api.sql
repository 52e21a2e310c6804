-- 0006: access to the REST API and dashboard (cxmetrics.api).
-- Frozen: later changes go in new numbered files, never here.

-- one row per API key; the key itself is never stored, only its SHA-256 (keys are
-- 256-bit random tokens, so a fast hash is enough: there is nothing to brute-force)
CREATE TABLE api_keys (
    key_id VARCHAR NOT NULL,        -- public id, also the token's middle part: cxm_<key_id>_<secret>
    name VARCHAR NOT NULL,
    role VARCHAR NOT NULL,          -- admin (read and write) or viewer (read only)
    token_sha256 VARCHAR NOT NULL,  -- hex SHA-256 of the whole token
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);  -- key: key_id

-- secrets of this workspace's server, e.g. the key that signs session cookies
CREATE TABLE api_secrets (
    name VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);  -- key: name
