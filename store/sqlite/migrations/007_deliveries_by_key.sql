-- The log finds a message or a case by its order key ("m:"+trxID,
-- "c:"+caseID): one range of this index, newest first, among all of an
-- organization's deliveries. deliveries_order holds only pending ones.
CREATE INDEX deliveries_key ON deliveries (organization_id, order_key, seq);
