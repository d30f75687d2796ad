-- The W3C traceparent of the publish that stored the event, so that the
-- delivery attempts, on whichever node and however late, join its trace.
-- Empty when tracing is off.
ALTER TABLE events ADD COLUMN trace_parent TEXT NOT NULL DEFAULT '';
