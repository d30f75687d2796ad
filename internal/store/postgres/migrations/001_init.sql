-- The same tables as the SQLite driver's 001, in PostgreSQL's types.
-- Times are Unix milliseconds (BIGINT) in both, so the engine above sees
-- the same values whichever database it is on. seq columns are the
-- physical order; the text IDs are what the API shows.
CREATE TABLE organizations (
    id         BIGINT PRIMARY KEY,
    name       TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id              TEXT   PRIMARY KEY,
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    hash            BYTEA  NOT NULL UNIQUE,
    created_at      BIGINT NOT NULL,
    revoked_at      BIGINT
);

CREATE TABLE webhooks (
    organization_id       BIGINT  PRIMARY KEY REFERENCES organizations (id),
    enabled               BOOLEAN NOT NULL,
    url                   TEXT    NOT NULL,
    subscribed_events     TEXT[]  NOT NULL,
    state                 TEXT    NOT NULL,
    disabled_reason       TEXT    NOT NULL DEFAULT '',
    secret                BYTEA   NOT NULL,
    previous_secret       BYTEA,
    previous_secret_until BIGINT,
    last_success_at       BIGINT,
    failing_since         BIGINT, -- first failure since the last success
    created_at            BIGINT  NOT NULL,
    updated_at            BIGINT  NOT NULL
);

CREATE TABLE events (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT   NOT NULL UNIQUE,
    organization_id BIGINT NOT NULL,
    type            TEXT   NOT NULL,
    order_key       TEXT   NOT NULL,
    body            BYTEA  NOT NULL,
    idempotency_key TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX events_idempotency ON events (idempotency_key, created_at) WHERE idempotency_key IS NOT NULL;

CREATE TABLE deliveries (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,
    event_seq        BIGINT  NOT NULL REFERENCES events (seq),
    organization_id  BIGINT  NOT NULL,
    event_type       TEXT    NOT NULL,
    order_key        TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    attempt_count    INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT,
    lease_until      BIGINT,
    last_status_code INTEGER,
    last_error       TEXT    NOT NULL DEFAULT '',
    created_at       BIGINT  NOT NULL,
    succeeded_at     BIGINT
)
-- Room on each page, so that a claim's lease_until update (no index covers
-- that column) is a HOT update: one new row version on the same page and
-- no index entries, instead of one in each of the indexes below.
WITH (fillfactor = 70);
-- The claim walks each organization's pending deliveries by due time.
CREATE INDEX deliveries_due ON deliveries (organization_id, next_attempt_at, seq) WHERE status = 'pending';
-- The order rule asks for an earlier pending delivery of the same key.
CREATE INDEX deliveries_order ON deliveries (organization_id, order_key, seq) WHERE status = 'pending';
-- The log: newest first per organization, optionally by status or type.
CREATE INDEX deliveries_log ON deliveries (organization_id, seq);
CREATE INDEX deliveries_log_status ON deliveries (organization_id, status, seq);
CREATE INDEX deliveries_log_type ON deliveries (organization_id, event_type, seq);
CREATE INDEX deliveries_event ON deliveries (event_seq);

CREATE TABLE attempts (
    seq           BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_seq  BIGINT  NOT NULL REFERENCES deliveries (seq),
    n             INTEGER NOT NULL,
    started_at    BIGINT  NOT NULL,
    duration_ms   BIGINT  NOT NULL,
    status_code   INTEGER,
    error         TEXT    NOT NULL DEFAULT '',
    -- BYTEA, not TEXT: the first 4 KiB of a response may end mid-rune or
    -- hold bytes PostgreSQL's TEXT refuses (NUL, invalid UTF-8).
    response_body BYTEA   NOT NULL DEFAULT ''
);
CREATE INDEX attempts_delivery ON attempts (delivery_seq, n);
