-- The URL each attempt went to: the webhook's URL may change between
-- attempts, and the log must say where each one went. Attempts made
-- before this column have ''.
ALTER TABLE attempts ADD COLUMN url TEXT NOT NULL DEFAULT '';

-- Web UI sessions that were signed out before they expired. Sessions are
-- signed cookies that any node accepts, so signing out must be written
-- where every node looks: each request checks its session's ID here (one
-- primary-key lookup). A row is needed only until the session would have
-- expired anyway; signing out deletes the rows past their expiry.
CREATE TABLE revoked_sessions (
    id         BLOB    PRIMARY KEY,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX revoked_sessions_expiry ON revoked_sessions (expires_at);
