-- A webhook's rate limit in deliveries per second; NULL is none. The
-- dispatcher reads it with each claim, so a change holds from the next one.
ALTER TABLE webhooks ADD COLUMN rate_limit INTEGER CHECK (rate_limit > 0);
