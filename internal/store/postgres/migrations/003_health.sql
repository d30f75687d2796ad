-- One row that CheckWrite rewrites: a committed write that proves the
-- database takes writes, without touching the service's own tables.
CREATE TABLE health (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at BIGINT NOT NULL
);
