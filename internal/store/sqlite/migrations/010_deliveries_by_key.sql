-- The log finds a message or a case by its order key ("m:"+trxID,
-- "c:"+caseID): one range of this index, newest first, among all of an
-- organization's deliveries. deliveries_order holds only pending ones;
-- the first-in-line probes name it (INDEXED BY), since this index, which
-- holds every delivery of the key, matches them too.
CREATE INDEX deliveries_key ON deliveries (organization_id, order_key, seq);
