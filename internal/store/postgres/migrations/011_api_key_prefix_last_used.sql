-- A key's first characters, so a person can tell keys apart, and when it
-- was last used (recorded at most every few minutes).
ALTER TABLE api_keys ADD COLUMN prefix TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT;
