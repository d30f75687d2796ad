-- Leases are held in memory by the one process that owns the file
-- (store/sqlite/leases.go): a claim writes nothing.
ALTER TABLE deliveries DROP COLUMN lease_until;
