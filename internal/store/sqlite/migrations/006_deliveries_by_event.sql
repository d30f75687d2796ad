-- Retention removes an event with its delivery: it finds the delivery by
-- its event.
CREATE INDEX deliveries_event ON deliveries (event_seq);
