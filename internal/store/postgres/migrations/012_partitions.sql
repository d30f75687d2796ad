-- events, deliveries and attempts become range partitions on the creation
-- time of the event they belong to (events.created_at, and its copy
-- event_created_at in deliveries and attempts), so that retention drops
-- whole partitions instead of deleting rows one by one. All three are
-- keyed on the event's time, not each on its own: a delivery is created a
-- few milliseconds after its event (the insert's clock, not the publish's)
-- and its attempts days later, and keyed so, an event's rows always share
-- one slot of time and go together (see partitions.go).
--
-- The tables are converted in place, rows and all, in this one
-- transaction: renamed, made again partitioned, copied, dropped. The
-- partitions made here are a day wide (the default width), one for each
-- day that holds events; the node that migrates then makes those of now
-- and ahead in its configured width, around these (partitions.go).
--
-- The primary keys include the partition key, as PostgreSQL requires, and
-- so do the unique keys of the text IDs: an ID is unique with its time,
-- which an event stored twice in one batch still repeats (the batch fails
-- whole), and the IDs are random (otw.NewID), never relied on to be unique
-- across times. The foreign keys
-- (deliveries to events, attempts to deliveries) are gone: a partition of a
-- referenced table cannot be dropped while the reference stands, and the
-- driver removes an event's rows together in any case.
ALTER TABLE attempts RENAME TO attempts_unpartitioned;
ALTER TABLE deliveries RENAME TO deliveries_unpartitioned;
ALTER TABLE events RENAME TO events_unpartitioned;

CREATE TABLE events (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY,
    id              TEXT   NOT NULL,
    organization_id BIGINT NOT NULL,
    type            TEXT   NOT NULL,
    order_key       TEXT   NOT NULL,
    body            BYTEA  NOT NULL,
    idempotency_key TEXT,
    created_at      BIGINT NOT NULL,
    trace_parent    TEXT   NOT NULL DEFAULT ''
) PARTITION BY RANGE (created_at);

-- Each partition of deliveries is made with fillfactor 70 (see 001): a
-- partitioned table has no storage of its own to set it on.
CREATE TABLE deliveries (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY,
    id               TEXT    NOT NULL,
    event_seq        BIGINT  NOT NULL,
    event_created_at BIGINT  NOT NULL,
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
    succeeded_at     BIGINT,
    CONSTRAINT deliveries_pending_has_next_attempt CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL))
) PARTITION BY RANGE (event_created_at);

CREATE TABLE attempts (
    seq              BIGINT  GENERATED ALWAYS AS IDENTITY,
    delivery_seq     BIGINT  NOT NULL,
    event_created_at BIGINT  NOT NULL,
    n                INTEGER NOT NULL,
    started_at       BIGINT  NOT NULL,
    duration_ms      BIGINT  NOT NULL,
    status_code      INTEGER,
    error            TEXT    NOT NULL DEFAULT '',
    response_body    BYTEA   NOT NULL DEFAULT '',
    url              TEXT    NOT NULL DEFAULT ''
) PARTITION BY RANGE (event_created_at);

-- Partitions are named <table>_<start>, the start in Unix milliseconds, as
-- partitions.go names those it makes. The DEFAULT partitions take what no
-- range covers, so that an insert never fails for want of a partition.
DO $$
DECLARE
    width CONSTANT BIGINT := 86400000;
    start BIGINT;
    t TEXT;
BEGIN
    FOR start IN
        SELECT DISTINCT floor(created_at::NUMERIC / width)::BIGINT * width FROM events_unpartitioned
    LOOP
        FOREACH t IN ARRAY ARRAY['events', 'deliveries', 'attempts'] LOOP
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)%s',
                t || '_' || start, t, start, start + width,
                CASE WHEN t = 'deliveries' THEN ' WITH (fillfactor = 70)' ELSE '' END);
        END LOOP;
    END LOOP;
END
$$;
CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE TABLE deliveries_default PARTITION OF deliveries DEFAULT WITH (fillfactor = 70);
CREATE TABLE attempts_default PARTITION OF attempts DEFAULT;

INSERT INTO events (seq, id, organization_id, type, order_key, body, idempotency_key, created_at, trace_parent)
OVERRIDING SYSTEM VALUE
SELECT seq, id, organization_id, type, order_key, body, idempotency_key, created_at, trace_parent
FROM events_unpartitioned;

INSERT INTO deliveries (seq, id, event_seq, event_created_at, organization_id, event_type, order_key, status, attempt_count,
                        next_attempt_at, lease_until, last_status_code, last_error, created_at, succeeded_at)
OVERRIDING SYSTEM VALUE
SELECT d.seq, d.id, d.event_seq, e.created_at, d.organization_id, d.event_type, d.order_key, d.status, d.attempt_count,
       d.next_attempt_at, d.lease_until, d.last_status_code, d.last_error, d.created_at, d.succeeded_at
FROM deliveries_unpartitioned d JOIN events_unpartitioned e ON e.seq = d.event_seq;

INSERT INTO attempts (seq, delivery_seq, event_created_at, n, started_at, duration_ms, status_code, error, response_body, url)
OVERRIDING SYSTEM VALUE
SELECT a.seq, a.delivery_seq, e.created_at, a.n, a.started_at, a.duration_ms, a.status_code, a.error, a.response_body, a.url
FROM attempts_unpartitioned a
JOIN deliveries_unpartitioned d ON d.seq = a.delivery_seq
JOIN events_unpartitioned e ON e.seq = d.event_seq;

-- The seqs go on from where the old tables' left off: the order rule
-- compares them.
SELECT setval(pg_get_serial_sequence('events', 'seq'), coalesce((SELECT max(seq) FROM events_unpartitioned), 0) + 1, false);
SELECT setval(pg_get_serial_sequence('deliveries', 'seq'), coalesce((SELECT max(seq) FROM deliveries_unpartitioned), 0) + 1, false);
SELECT setval(pg_get_serial_sequence('attempts', 'seq'), coalesce((SELECT max(seq) FROM attempts_unpartitioned), 0) + 1, false);

DROP TABLE attempts_unpartitioned;
DROP TABLE deliveries_unpartitioned;
DROP TABLE events_unpartitioned;

-- The keys and indexes, built once the rows are in, under the names the
-- old ones had (see 001, 002 and 010 for why each exists).
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (seq, created_at);
ALTER TABLE events ADD CONSTRAINT events_id_key UNIQUE (id, created_at);
CREATE INDEX events_idempotency ON events (idempotency_key, created_at) WHERE idempotency_key IS NOT NULL;

ALTER TABLE deliveries ADD CONSTRAINT deliveries_pkey PRIMARY KEY (seq, event_created_at);
ALTER TABLE deliveries ADD CONSTRAINT deliveries_id_key UNIQUE (id, event_created_at);
CREATE INDEX deliveries_due ON deliveries (organization_id, next_attempt_at, seq) WHERE status = 'pending';
CREATE INDEX deliveries_order ON deliveries (organization_id, order_key, seq) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX deliveries_log ON deliveries (organization_id, seq);
CREATE INDEX deliveries_log_status ON deliveries (organization_id, status, seq);
CREATE INDEX deliveries_log_type ON deliveries (organization_id, event_type, seq);
CREATE INDEX deliveries_event ON deliveries (event_seq);
CREATE INDEX deliveries_key ON deliveries (organization_id, (order_key COLLATE "C"), seq);

ALTER TABLE attempts ADD CONSTRAINT attempts_pkey PRIMARY KEY (seq, event_created_at);
CREATE INDEX attempts_delivery ON attempts (delivery_seq, n);
