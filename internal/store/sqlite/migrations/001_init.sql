-- Times are Unix milliseconds. seq columns are the physical order; the
-- text IDs are what the API shows.
CREATE TABLE organizations (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id              TEXT    PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    hash            BLOB    NOT NULL UNIQUE,
    created_at      INTEGER NOT NULL,
    revoked_at      INTEGER
);

CREATE TABLE webhooks (
    organization_id       INTEGER PRIMARY KEY REFERENCES organizations (id),
    enabled               INTEGER NOT NULL,
    url                   TEXT    NOT NULL,
    subscribed_events     TEXT    NOT NULL, -- comma separated event types
    state                 TEXT    NOT NULL,
    disabled_reason       TEXT    NOT NULL DEFAULT '',
    secret                BLOB    NOT NULL,
    previous_secret       BLOB,
    previous_secret_until INTEGER,
    last_success_at       INTEGER,
    failing_since         INTEGER, -- first failure since the last success
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);

CREATE TABLE events (
    seq             INTEGER PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    organization_id INTEGER NOT NULL,
    type            TEXT    NOT NULL,
    order_key       TEXT    NOT NULL,
    body            BLOB    NOT NULL,
    idempotency_key TEXT,
    created_at      INTEGER NOT NULL
);
CREATE INDEX events_idempotency ON events (idempotency_key, created_at) WHERE idempotency_key IS NOT NULL;

CREATE TABLE deliveries (
    seq              INTEGER PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,
    event_seq        INTEGER NOT NULL REFERENCES events (seq),
    organization_id  INTEGER NOT NULL,
    event_type       TEXT    NOT NULL,
    order_key        TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    attempt_count    INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER,
    lease_until      INTEGER,
    last_status_code INTEGER,
    last_error       TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    succeeded_at     INTEGER
);
-- The claim walks each organization's pending deliveries by due time.
CREATE INDEX deliveries_due ON deliveries (organization_id, next_attempt_at, seq) WHERE status = 'pending';
-- The order rule asks for an earlier pending delivery of the same key.
CREATE INDEX deliveries_order ON deliveries (organization_id, order_key, seq) WHERE status = 'pending';
-- The log: newest first per organization, optionally by status or type.
CREATE INDEX deliveries_log ON deliveries (organization_id, seq);
CREATE INDEX deliveries_log_status ON deliveries (organization_id, status, seq);
CREATE INDEX deliveries_log_type ON deliveries (organization_id, event_type, seq);

CREATE TABLE attempts (
    seq           INTEGER PRIMARY KEY,
    delivery_seq  INTEGER NOT NULL REFERENCES deliveries (seq),
    n             INTEGER NOT NULL,
    started_at    INTEGER NOT NULL,
    duration_ms   INTEGER NOT NULL,
    status_code   INTEGER,
    error         TEXT    NOT NULL DEFAULT '',
    response_body TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX attempts_delivery ON attempts (delivery_seq, n);
