-- A webhook's filters (otw.Filters) as JSON; NULL is none. The insert
-- reads them with the route, so a change holds from the next publish.
ALTER TABLE webhooks ADD COLUMN filters jsonb;
