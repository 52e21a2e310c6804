-- 0009: sessions live on the server; the cookie-signing secret leaves the database.
-- Frozen: later changes go in new numbered files, never here.

-- the secret sat here in plain text in a world-readable file, so it must be taken as
-- known: it is dropped, not moved (a new one is made in the 0600 file `session.key`,
-- and cookies signed with the old one stop working: everyone signs in again once)
DROP TABLE api_secrets;

-- one row per sign-in; the cookie carries a random session id whose SHA-256 only is
-- stored here, so reading this table gives nothing a cookie can be made of. The server
-- decides how long a session lasts (expires_at), never the cookie; signing out sets ended_at.
CREATE TABLE api_sessions (
    session_sha256 VARCHAR NOT NULL,  -- hex SHA-256 of the session id in the cookie
    key_id VARCHAR NOT NULL,          -- the key that signed in (its revocation ends the session)
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ
);  -- key: session_sha256
