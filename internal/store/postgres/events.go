package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/sqlstore"
)

// insertEventsQuery stores a whole batch in one statement: the columns
// arrive as arrays, one element per event, the delivery's columns NULL for
// an event without one. Delivery seqs are handed out in event order (the
// ORDER BY), because the order rule compares seqs.
//
// The statement carries out what store.Take.Candidates leaves of the
// hand-off rule (store.Take): a candidate ($13) is leased until $14 when
// no delivery of its order key was pending (the statement's snapshot holds
// none of the batch's own rows), in order, up to its organization's room
// (the arrays $15 and $16); the taken ones come back, and so do the
// candidates that wait behind a pending delivery of their key (taken
// false), which the insert does not announce (see Store.Listen).
const insertEventsQuery = `
WITH input AS (
	SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bytea[], $6::text[], $7::bigint[],
	                     $8::text[], $9::text[], $10::bigint[], $11::text[], $13::bool[], $17::text[]) WITH ORDINALITY
		AS i(id, organization_id, type, order_key, body, idempotency_key, created_at,
		     delivery_id, status, next_attempt_at, last_error, take, trace_parent, n)
), ev AS (
	INSERT INTO events (id, organization_id, type, order_key, body, idempotency_key, created_at, trace_parent)
	SELECT id, organization_id, type, order_key, body, idempotency_key, created_at, coalesce(trace_parent, '')
	FROM input ORDER BY n
	RETURNING seq, id
), probed AS (
	-- One probe of deliveries_order per candidate, whatever the plan
	-- (TestInsertProbesTheOrderIndex).
	SELECT i.n, i.organization_id, i.delivery_id, w.waits IS NOT NULL AS waits
	FROM (SELECT * FROM input WHERE take) AS i
	LEFT JOIN LATERAL (
		SELECT true AS waits FROM deliveries p
		WHERE p.organization_id = i.organization_id AND p.order_key = i.order_key
		  AND p.next_attempt_at IS NOT NULL -- pending; see migration 002
		LIMIT 1
	) AS w ON i.order_key <> ''
), first_in_line AS (
	SELECT n, row_number() OVER (PARTITION BY organization_id ORDER BY n) AS k, organization_id
	FROM probed WHERE NOT waits
), taken AS (
	SELECT f.n FROM first_in_line f
	JOIN unnest($15::bigint[], $16::int[]) AS r(org, room) ON r.org = f.organization_id
	WHERE f.k <= r.room
), dl AS (
	INSERT INTO deliveries (id, event_seq, event_created_at, organization_id, event_type, order_key, status, next_attempt_at, last_error, created_at, lease_until)
	SELECT i.delivery_id, ev.seq, i.created_at, i.organization_id, i.type, i.order_key, i.status, i.next_attempt_at, i.last_error, $12,
	       CASE WHEN t.n IS NOT NULL THEN $14::bigint END
	FROM input i JOIN ev ON ev.id = i.id LEFT JOIN taken t ON t.n = i.n
	WHERE i.delivery_id IS NOT NULL
	ORDER BY ev.seq
	RETURNING id, seq, lease_until
)
SELECT id, seq, lease_until IS NOT NULL FROM dl
WHERE lease_until IS NOT NULL OR id IN (SELECT delivery_id FROM probed WHERE waits)`

func (s *Store) InsertEvents(ctx context.Context, events []otw.Event, now time.Time, take store.Take) ([]store.Inserted, []store.Claimed, error) {
	out := make([]store.Inserted, len(events))
	var taken []store.Claimed
	if !slices.ContainsFunc(events, func(e otw.Event) bool { return e.IdempotencyKey != "" }) {
		// Nothing to read under a lock: the routes are read first and the
		// events and deliveries written by one statement, a transaction of
		// its own, in two round trips instead of four (no BEGIN, no
		// COMMIT). Read inside a transaction the routes would be no
		// fresher: in READ COMMITTED each statement takes its own snapshot.
		fresh := make([]int, len(events))
		for i := range fresh {
			fresh[i] = i
		}
		var err error
		if taken, err = insertRows(ctx, s.pool, events, fresh, out, now, take); err != nil {
			return nil, nil, s.failed(err)
		}
	} else {
		err := s.tx(ctx, func(tx pgx.Tx) (err error) {
			taken, err = insertTx(ctx, tx, events, out, now, take)
			return err
		})
		if err != nil {
			return nil, nil, err
		}
	}
	s.faults.Clear() // a publish commits again
	s.announceInserted(ctx, events, out)
	return out, taken, nil
}

// stillWaitsQuery asks, after an insert's commit, whether every delivery
// it made that waited ($3, by ID) still waits: whether the first pending
// delivery of its key ($1, $2) is another (or none is pending: it was
// sent meanwhile). One probe of deliveries_order per key, by a plan made
// once per connection (plannedByIndex, TestStillWaitsProbesTheOrderIndex):
// planned anew it cost 0.6 ms of the server's time per insert.
const stillWaitsQuery = `
SELECT coalesce(bool_and(coalesce((
	SELECT p.id FROM deliveries p
	WHERE p.organization_id = k.org AND p.order_key = k.key AND p.next_attempt_at IS NOT NULL -- pending; see migration 002
	ORDER BY p.seq LIMIT 1), '') <> k.id), true)
FROM unnest($1::bigint[], $2::text[], $3::text[]) AS k(org, key, id)`

// announceInserted announces an insert's pending deliveries for any
// node's claim (store.Announces). Those that waited behind a pending
// delivery of their key are not announced: the write that ends that one
// hands them over. But that write may have read the key before this insert
// committed, and committed after the insert read it as pending: then
// neither saw the other, and nothing would announce them. So they are
// asked about once more, now that the insert has committed, and announced
// unless all still wait (or if the question fails).
func (s *Store) announceInserted(ctx context.Context, events []otw.Event, out []store.Inserted) {
	if store.Announces(out) {
		s.announce(ctx)
		return
	}
	var orgs []int64
	var keys, ids []string
	for i := range out {
		if out[i].Waits {
			orgs, keys, ids = append(orgs, events[i].OrganizationID), append(keys, events[i].OrderKey), append(ids, out[i].DeliveryID)
		}
	}
	if len(ids) == 0 {
		return
	}
	var wait bool
	b := &pgx.Batch{} // one round trip, one implicit transaction
	b.Queue(plannedByIndex)
	b.Queue(stillWaitsQuery, orgs, keys, ids).QueryRow(func(row pgx.Row) error { return row.Scan(&wait) })
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil || !wait {
		s.announce(ctx)
	}
}

// insertTx is InsertEvents within tx, for the inserts that need one (an
// idempotency key to resolve, or a completion's events): it fills out and
// returns the deliveries it took.
func insertTx(ctx context.Context, tx pgx.Tx, events []otw.Event, out []store.Inserted, now time.Time, take store.Take) ([]store.Claimed, error) {
	fresh, err := resolveIdempotency(ctx, tx, events, out, now)
	if err != nil {
		return nil, err
	}
	if err := explainExisting(ctx, tx, events, out, now); err != nil || len(fresh) == 0 {
		return nil, err
	}
	return insertRows(ctx, tx, events, fresh, out, now, take)
}

// insertRows stores events[fresh] with their deliveries in one statement,
// fills out for them, and returns the deliveries it took.
func insertRows(ctx context.Context, q querier, events []otw.Event, fresh []int, out []store.Inserted, now time.Time, take store.Take) (taken []store.Claimed, err error) {
	routes, err := loadRoutes(ctx, q, events, fresh, now)
	if err != nil {
		return nil, err
	}
	statuses := make([]string, len(events))
	for _, i := range fresh {
		statuses[i], out[i].NotDelivered = routes[events[i].OrganizationID].Decide(&events[i])
	}
	pending := func(i int) bool { return statuses[i] == otw.DeliveryPending }
	want := take.Candidates(events, pending)
	store.MarkWaitsInCall(events, out, pending)
	roomOrgs, rooms := make([]int64, 0, len(take.Room)), make([]int32, 0, len(take.Room))
	for org, n := range take.Room {
		roomOrgs, rooms = append(roomOrgs, org), append(rooms, int32(n))
	}
	n := len(fresh)
	var (
		ids, types, orderKeys = make([]string, n), make([]string, n), make([]string, n)
		orgs, created         = make([]int64, n), make([]int64, n)
		bodies                = make([][]byte, n)
		keys                  = make([]*string, n)
		dlvIDs, dlvStatuses   = make([]*string, n), make([]*string, n)
		nexts                 = make([]*int64, n)
		lastErrors            = make([]*string, n)
		takes                 = make([]bool, n)
		byDelivery            = make(map[string]int) // event index by delivery ID, of the candidates
		// traceParents stays nil (NULL, stored as '') unless an event
		// has one: tracing off costs nothing.
		traceParents []string
	)
	nowMs := ms(now)
	for j, i := range fresh {
		e := &events[i]
		ids[j], orgs[j], types[j], orderKeys[j], bodies[j], created[j] = e.ID, e.OrganizationID, e.Type, e.OrderKey, e.Body, ms(e.CreatedAt)
		if k := store.IdempotencyKey(e); k != "" {
			keys[j] = &k
		}
		if e.TraceParent != "" {
			if traceParents == nil {
				traceParents = make([]string, n)
			}
			traceParents[j] = e.TraceParent
		}
		out[i].EventID = e.ID
		if statuses[i] == "" {
			continue
		}
		id, lastError := otw.NewID("dlv_", now), ""
		if statuses[i] == otw.DeliveryFailed {
			lastError = routes[e.OrganizationID].Webhook.DisabledReason
		} else {
			nexts[j] = &nowMs
		}
		out[i].DeliveryID = id
		dlvIDs[j], dlvStatuses[j], lastErrors[j] = &id, &statuses[i], &lastError
		if want != nil && want[i] {
			takes[j] = true
			byDelivery[id] = i
		}
	}
	rows, err := q.Query(ctx, insertEventsQuery, ids, orgs, types, orderKeys, bodies, keys, created,
		dlvIDs, dlvStatuses, nexts, lastErrors, nowMs, takes, ms(take.LeaseUntil), roomOrgs, rooms, traceParents)
	if err != nil {
		return nil, err
	}
	var id string
	var seq int64
	var took bool
	if _, err := pgx.ForEachRow(rows, []any{&id, &seq, &took}, func() error {
		i := byDelivery[id]
		if !took {
			out[i].Waits = true
			return nil
		}
		out[i].Taken = true
		taken = append(taken, routes[events[i].OrganizationID].Taken(&events[i], id, seq, take.LeaseUntil, now))
		return nil
	}); err != nil {
		return nil, err
	}
	return taken, nil
}

// resolveIdempotency fills out[i] for events whose key was used within the
// window and returns the indexes of the events still to insert.
//
// Two nodes may take the same key at the same moment. Each first takes a
// transaction-scoped advisory lock on every key of the batch, so the second
// waits until the first commits and then finds its event: the lookup is a
// later statement, and in READ COMMITTED each statement sees what was
// committed before it began. The locks are taken in one sorted pass so two
// batches sharing keys cannot deadlock.
func resolveIdempotency(ctx context.Context, tx pgx.Tx, events []otw.Event, out []store.Inserted, now time.Time) ([]int, error) {
	fresh := make([]int, 0, len(events))
	var keys []string
	for i := range events {
		if k := store.IdempotencyKey(&events[i]); k != "" {
			keys = append(keys, k)
		} else {
			fresh = append(fresh, i)
		}
	}
	if len(keys) == 0 {
		return fresh, nil
	}
	if _, err := tx.Exec(ctx, `SELECT count(pg_advisory_xact_lock($1, h))
		FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) AS k ORDER BY 1) AS sorted`, lockIdempotency, keys); err != nil {
		return nil, err
	}
	found := make(map[string]store.FirstEvent, len(keys))
	rows, err := tx.Query(ctx, `
		SELECT DISTINCT ON (e.idempotency_key) e.idempotency_key, e.id, e.body, coalesce(d.id, '')
		FROM events e LEFT JOIN deliveries d ON d.event_seq = e.seq AND d.event_created_at = e.created_at
		WHERE e.idempotency_key = ANY($1) AND e.created_at > $2
		ORDER BY e.idempotency_key, e.seq, d.seq`, append(keys, store.BatchProbes(events)...), ms(now.Add(-store.IdempotencyWindow)))
	if err != nil {
		return nil, err
	}
	var key string
	var f store.FirstEvent
	if _, err := pgx.ForEachRow(rows, []any{&key, &f.ID, &f.Body, &f.DeliveryID}, func() error {
		found[key] = f
		return nil
	}); err != nil {
		return nil, err
	}
	return store.Resolve(events, out, func(key string) (store.FirstEvent, bool) {
		f, ok := found[key]
		return f, ok
	})
}

// explainExisting says why, as of now, the events found by their
// idempotency key without a delivery are not sent.
func explainExisting(ctx context.Context, q querier, events []otw.Event, out []store.Inserted, now time.Time) error {
	var idx []int
	for i := range out {
		if out[i].Existing && out[i].DeliveryID == "" {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil
	}
	routes, err := loadRoutes(ctx, q, events, idx, now)
	if err != nil {
		return err
	}
	for _, i := range idx {
		_, out[i].NotDelivered = routes[events[i].OrganizationID].Decide(&events[i])
	}
	return nil
}

// loadRoutes reads the webhooks of the organizations of events[idx] in one
// query, and only when some have none, which of those exist in another.
func loadRoutes(ctx context.Context, q querier, events []otw.Event, idx []int, now time.Time) (map[int64]store.Route, error) {
	seen := make(map[int64]bool)
	var orgs []int64
	for _, i := range idx {
		if org := events[i].OrganizationID; !seen[org] {
			seen[org] = true
			orgs = append(orgs, org)
		}
	}
	rows, err := q.Query(ctx, `SELECT organization_id, enabled, subscribed_events, state, disabled_reason, url, secret,
			CASE WHEN previous_secret_until > $2 THEN previous_secret END, failing_since, coalesce(rate_limit, 0),
			coalesce(filters::text, '')
		FROM webhooks WHERE organization_id = ANY($1)`, orgs, ms(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	routes := make(map[int64]store.Route)
	for rows.Next() {
		w := &otw.Webhook{}
		var filters string
		var failing *int64
		if err := rows.Scan(&w.OrganizationID, &w.Enabled, &w.SubscribedEvents, &w.State, &w.DisabledReason, &w.URL, &w.Secret,
			&w.PreviousSecret, &failing, &w.RateLimit, &filters); err != nil {
			return nil, err
		}
		filter, err := store.CompiledFilter(filters)
		if err != nil {
			return nil, err
		}
		// A webhook references its organization.
		routes[w.OrganizationID] = store.Route{Organization: true, Webhook: w, FailingSince: sqlstore.NullTime(failing), Filter: filter}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	var missing []int64
	for _, org := range orgs {
		if _, ok := routes[org]; !ok {
			missing = append(missing, org)
		}
	}
	if len(missing) == 0 {
		return routes, nil
	}
	// Rare enough (a publish for an organization without a webhook) to
	// cost a round trip of its own.
	found, err := q.Query(ctx, `SELECT id FROM organizations WHERE id = ANY($1)`, missing)
	if err != nil {
		return nil, err
	}
	var org int64
	if _, err := pgx.ForEachRow(found, []any{&org}, func() error {
		routes[org] = store.Route{Organization: true}
		return nil
	}); err != nil {
		return nil, err
	}
	return routes, nil
}
