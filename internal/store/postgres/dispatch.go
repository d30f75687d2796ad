package postgres

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/sqlstore"
)

// claimQuery carries out the claim rule (store.ClaimParams) across
// organizations in one statement and one round trip.
//
// Organizations are visited in a random order, each taking up to its room
// ($5, the per-organization bound, less what this node holds of it: the
// arrays $2 and $3), until the claim's limit $6 is reached. The outer
// LIMIT stops the nested loop there, so an organization with less work than
// its room leaves the rest to the next, and a random start shares a full
// claim fairly between organizations over time.
//
// FOR UPDATE SKIP LOCKED is what lets nodes claim side by side: a row
// another node is leasing right now is skipped, not waited for, and a row
// it leased and committed a moment ago is re-read after locking and fails
// the lease test. Either way no delivery is leased twice.
//
// The order rule's NOT EXISTS reads without locking, so an earlier delivery
// that another node holds locked still counts as pending and still blocks.
// Pending is next_attempt_at IS NOT NULL, as deliveries_order holds it
// (migration 002).
//
// The search for due deliveries looks in every partition (pending work may
// be of any age), but the lease and the read of its event name each row's
// partition key: the update and the join touch one partition per row
// (TestHotStatementsTouchOnePartition).
const claimQuery = `
WITH picked AS (
	SELECT c.seq, c.event_created_at
	FROM (
		SELECT w.organization_id AS org, $5::int - coalesce(b.held, 0) AS room
		FROM webhooks w
		LEFT JOIN unnest($2::bigint[], $3::int[]) AS b(org, held) ON b.org = w.organization_id
		WHERE w.enabled AND w.state = 'active' AND $5::int - coalesce(b.held, 0) > 0
		ORDER BY random()
	) AS o
	CROSS JOIN LATERAL (
		SELECT d.seq, d.event_created_at FROM deliveries d
		WHERE d.organization_id = o.org AND d.status = 'pending' AND d.next_attempt_at <= $1
		  AND (d.lease_until IS NULL OR d.lease_until <= $1)
		  AND (d.order_key = '' OR NOT EXISTS (
				SELECT 1 FROM deliveries p
				WHERE p.organization_id = d.organization_id AND p.order_key = d.order_key
				  AND p.next_attempt_at IS NOT NULL AND p.seq < d.seq)) -- pending; see migration 002
		ORDER BY d.next_attempt_at, d.seq
		LIMIT o.room
		FOR UPDATE OF d SKIP LOCKED
	) AS c
	LIMIT $6
), leased AS (
	UPDATE deliveries d SET lease_until = $4 FROM picked WHERE d.seq = picked.seq AND d.event_created_at = picked.event_created_at
	RETURNING d.seq, d.event_created_at, d.id, d.event_seq, d.organization_id, d.event_type, d.order_key, d.attempt_count, d.created_at, d.next_attempt_at
)
` + leasedRows + `ORDER BY l.next_attempt_at, l.seq`

// plannedByIndex has the statements after it in the same transaction
// planned once per connection, by a plan that finds each row through an
// index whatever the tables held when it was made: PostgreSQL's generic
// plan (plan_cache_mode), made with hash and merge joins and sequential
// scans off, for this transaction only. A generic plan made with them on
// while the tables were small (a new database, a new partition, a server
// with autovacuum off) joined the outcomes' rows to every delivery by a
// sequential scan, a cost that grows with the table; planning each write
// anew instead kept the lookups by primary key, but cost 1.1–1.5 ms of the
// server's time per write (0.7–0.9 for the outcomes, 0.3–0.5 for the
// attempts), a fifth of its time at 1,000 events/s
// (TestOutcomesLookUpTheirRows).
const plannedByIndex = `SELECT set_config('plan_cache_mode', 'force_generic_plan', true),
	set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true),
	set_config('enable_seqscan', 'off', true)`

// plannedAsUsual undoes plannedByIndex for the statements after it in the
// transaction (the server's defaults are assumed: all three on, the plan
// cache on auto).
const plannedAsUsual = `SELECT set_config('plan_cache_mode', 'auto', true),
	set_config('enable_hashjoin', 'on', true), set_config('enable_mergejoin', 'on', true),
	set_config('enable_seqscan', 'on', true)`

// outcomesQuery moves each delivery only if the lease is still ours (the
// fencing token). What moved moves its webhook's health: a success sets
// the last success and ends a failing streak, a failure (retry or final)
// starts one unless one is running.
const outcomesQuery = `WITH r AS (
	SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::int[], $5::bigint[], $6::int[], $7::text[], $8::bigint[], $9::bigint[], $10::bigint[])
		AS r(seq, lease, status, n, next_attempt_at, status_code, error, succeeded_at, ended_at, event_created_at)
), moved AS (
	UPDATE deliveries d SET status = r.status, attempt_count = r.n, next_attempt_at = r.next_attempt_at, lease_until = NULL,
		last_status_code = r.status_code, last_error = r.error, succeeded_at = r.succeeded_at
	FROM r WHERE d.seq = r.seq AND d.event_created_at = r.event_created_at AND d.lease_until = r.lease
	RETURNING d.organization_id, d.status, r.ended_at
)
UPDATE webhooks w SET
	last_success_at = CASE WHEN m.succeeded IS NULL THEN w.last_success_at ELSE greatest(coalesce(w.last_success_at, 0), m.succeeded) END,
	failing_since = CASE WHEN m.succeeded IS NULL THEN coalesce(w.failing_since, m.failed) END
FROM (
	SELECT organization_id,
	       max(ended_at) FILTER (WHERE status = 'succeeded') AS succeeded,
	       min(ended_at) FILTER (WHERE status <> 'succeeded') AS failed
	FROM moved GROUP BY organization_id
) AS m
WHERE w.organization_id = m.organization_id`

// insertAttemptsQuery records attempts. An outcome written again (its
// first commit's answer was lost) does not record its attempt twice: the
// same delivery, number and start is the same attempt. The check is a
// LATERAL probe with LIMIT 1, one lookup of attempts_delivery per attempt
// whatever the plan: written as NOT EXISTS, the cached plan made while the
// tables were empty hashed every attempt stored (a sequential scan per
// write), and a batched run of 100,000 events fell to 1,400 deliveries/s
// (TestAttemptsProbeTheirIndex).
const insertAttemptsQuery = `
INSERT INTO attempts (delivery_seq, n, started_at, duration_ms, status_code, error, response_body, url, event_created_at)
SELECT u.seq, u.n, u.started_at, u.duration_ms, u.status_code, u.error, u.response_body, u.url, u.event_created_at
FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::bigint[], $5::int[], $6::text[], $7::bytea[], $8::text[], $9::bigint[])
	AS u(seq, n, started_at, duration_ms, status_code, error, response_body, url, event_created_at)
LEFT JOIN LATERAL (
	SELECT true AS seen FROM attempts a
	WHERE a.delivery_seq = u.seq AND a.n = u.n AND a.started_at = u.started_at AND a.event_created_at = u.event_created_at
	LIMIT 1
) AS s ON true
WHERE s.seen IS NULL`

// ClaimDeliveries needs no transaction: the claim statement commits its
// own leases, and a lease is all that protects a delivery afterwards.
func (s *Store) ClaimDeliveries(ctx context.Context, p store.ClaimParams) ([]store.Claimed, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	orgs, held := make([]int64, 0, len(p.Held)), make([]int32, 0, len(p.Held))
	for org, n := range p.Held {
		orgs, held = append(orgs, org), append(held, int32(n))
	}
	leaseUntil := ms(p.LeaseUntil)
	// Planned for its own arguments each time (an unnamed statement): the
	// generic plan of a cached statement walks the whole backlog and made
	// each claim cost ~25 ms at 40,000 pending deliveries, against ~4 ms.
	rows, err := s.pool.Query(ctx, claimQuery, pgx.QueryExecModeExec,
		ms(p.Now), orgs, held, leaseUntil, p.PerOrganization, p.Limit)
	if err != nil {
		return nil, interpret(err)
	}
	claimed, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Claimed, error) {
		return scanClaimed(row, leaseUntil)
	})
	// On an error while reading, leases may be committed that nobody
	// holds: they run out and the deliveries are claimed again.
	return claimed, interpret(err)
}

func (s *Store) CompleteAttempts(ctx context.Context, c store.Completion) ([]store.Claimed, error) {
	results := c.Results
	if len(results) == 0 && !c.Effects() {
		return nil, nil
	}
	// Tried for every result that ends its delivery: one whose lease was
	// taken over meanwhile was ended by another write, and the statement's
	// own lease test keeps a delivery from being leased twice.
	ended := make([]bool, len(results))
	for i, r := range results {
		ended[i] = r.Status != otw.DeliveryPending
	}
	next := nextOfKeys{keys: c.Take.Keys(results, ended), take: c.Take, now: c.Now}
	// In seq order, so two calls touching the same rows lock them in the
	// same order.
	results = slices.Clone(results)
	slices.SortFunc(results, func(a, b store.AttemptResult) int { return cmp.Compare(a.DeliverySeq, b.DeliverySeq) })
	n := len(results)
	var (
		seqs, leases, started, durations, ends = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		partitionKeys                          = make([]int64, n)
		nums                                   = make([]int32, n)
		codes                                  = make([]*int, n)
		errs, statuses, urls                   = make([]string, n), make([]string, n), make([]string, n)
		bodies                                 = make([][]byte, n)
		nexts, dones                           = make([]*int64, n), make([]*int64, n)
	)
	for i, r := range results {
		a := r.Attempt
		seqs[i], leases[i], nums[i], started[i], durations[i] = r.DeliverySeq, ms(r.LeaseUntil), int32(a.N), ms(a.StartedAt), a.DurationMs
		codes[i], errs[i], bodies[i], statuses[i] = a.StatusCode, text(a.Error), []byte(a.ResponseBody), r.Status
		urls[i], partitionKeys[i] = text(a.URL), ms(r.EventCreatedAt)
		ends[i] = ms(a.StartedAt) + a.DurationMs
		switch r.Status {
		case otw.DeliveryPending:
			next := ms(r.NextAttemptAt)
			nexts[i] = &next
		case otw.DeliverySucceeded:
			dones[i] = &ends[i]
		}
	}
	// One round trip, one implicit transaction: a batch without BEGIN runs
	// as a single transaction up to its Sync.
	b := &pgx.Batch{}
	b.Queue(plannedByIndex)
	// Every attempt is recorded, leased or not: it happened.
	b.Queue(insertAttemptsQuery, seqs, nums, started, durations, codes, errs, bodies, urls, partitionKeys)
	b.Queue(outcomesQuery,
		seqs, leases, statuses, nums, nexts, codes, errs, dones, ends, partitionKeys)
	if c.Effects() {
		b.Queue(plannedAsUsual) // the effects' statements are planned as elsewhere
		return s.completeWithEffects(ctx, b, &c, next)
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, s.failed(err)
	}
	return s.handOver(ctx, next), nil
}

// handOver runs a committed completion's hand-off (nextOfKeysQuery) as a
// statement of its own, after the commit. An insert that read a key's next
// delivery as waiting behind the one the completion ended either committed
// before this statement began, which then finds it, or asks again after
// its commit and finds the completion committed (announceInserted). Run
// inside the completion's transaction, the hand-off could begin before the
// insert committed and the completion commit after the insert asked again:
// neither would see the other, and the delivery would wait for a poll. A
// failed read announces, so that a claim looks.
func (s *Store) handOver(ctx context.Context, next nextOfKeys) []store.Claimed {
	if len(next.keys) == 0 {
		return nil
	}
	taken, err := next.collect(s.pool.Query(ctx, nextOfKeysQuery, next.args()...))
	if err != nil {
		s.announce(ctx)
		return nil
	}
	return taken
}

// nextOfKeysQuery leases the next delivery of each order key ($2, $3) that
// a completion let go (store.Completion.Take), after its commit (see
// handOver): the key's earliest pending delivery, when it is due at $1,
// not leased, and its webhook switched on and active, until $4. The
// pending and lease tests are made again on the row it updates, so a claim
// or write of another node meanwhile keeps it from being leased twice; the
// first is written so that it matches no partial index's predicate, which
// on a plan made for empty tables found the row by scanning
// deliveries_due instead of by its primary key. Like the claim, the search
// looks in every partition and the lease names the row's partition key
// (TestNextOfKeysProbesTheOrderIndex).
const nextOfKeysQuery = `
WITH k AS (
	SELECT DISTINCT k.org, k.key
	FROM unnest($2::bigint[], $3::text[]) AS k(org, key)
	JOIN webhooks w ON w.organization_id = k.org AND w.enabled AND w.state = 'active'
), nxt AS (
	SELECT n.seq, n.event_created_at
	FROM k CROSS JOIN LATERAL (
		SELECT d.seq, d.event_created_at, d.next_attempt_at, d.lease_until FROM deliveries d
		WHERE d.organization_id = k.org AND d.order_key = k.key AND d.next_attempt_at IS NOT NULL -- pending; see migration 002
		ORDER BY d.seq
		LIMIT 1
	) AS n
	WHERE n.next_attempt_at <= $1 AND (n.lease_until IS NULL OR n.lease_until <= $1)
), leased AS (
	UPDATE deliveries d SET lease_until = $4 FROM nxt
	WHERE d.seq = nxt.seq AND d.event_created_at = nxt.event_created_at
	  AND coalesce(d.status, '') = 'pending' AND (d.lease_until IS NULL OR d.lease_until <= $1)
	RETURNING d.seq, d.event_created_at, d.id, d.event_seq, d.organization_id, d.event_type, d.order_key, d.attempt_count, d.created_at
)
` + leasedRows + `ORDER BY l.seq`

// nextOfKeys is a completion's hand-off: the keys it tries, due by
// take.HandOverAt(now) (the completion's Now), for a lease until
// take.LeaseUntil.
type nextOfKeys struct {
	keys []store.OrderKey
	take store.Take
	now  time.Time // the completion's
}

func (n nextOfKeys) args() []any {
	orgs, keys := make([]int64, len(n.keys)), make([]string, len(n.keys))
	for i, k := range n.keys {
		orgs[i], keys[i] = k.OrganizationID, k.OrderKey
	}
	return []any{ms(n.take.HandOverAt(n.now)), orgs, keys, ms(n.take.LeaseUntil)}
}

// collect reads what the statement leased, as a claim's rows are read.
func (n nextOfKeys) collect(rows pgx.Rows, err error) ([]store.Claimed, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Claimed, error) {
		return scanClaimed(row, ms(n.take.LeaseUntil))
	})
}

// leasedRows is how the claim and the completion's hand-off return what
// their "leased" step leased: with its event and webhook, in the columns
// scanClaimed reads; $1 is now, for the previous secret.
const leasedRows = `
SELECT l.seq, l.event_created_at, l.id, e.id, l.organization_id, l.event_type, l.order_key, l.attempt_count, l.created_at,
       e.body, e.trace_parent, w.url, w.secret,
       CASE WHEN w.previous_secret_until > $1 THEN w.previous_secret END, w.failing_since, coalesce(w.rate_limit, 0)
FROM leased l
JOIN events e ON e.seq = l.event_seq AND e.created_at = l.event_created_at
JOIN webhooks w ON w.organization_id = l.organization_id
`

// scanClaimed reads a row of leasedRows, leased until leaseUntil (Unix
// ms).
func scanClaimed(row pgx.CollectableRow, leaseUntil int64) (store.Claimed, error) {
	c := store.Claimed{Lease: store.Lease{LeaseUntil: fromMs(leaseUntil)}}
	var created, eventCreated int64
	var failing *int64
	err := row.Scan(&c.DeliverySeq, &eventCreated, &c.DeliveryID, &c.EventID, &c.OrganizationID, &c.EventType, &c.OrderKey,
		&c.AttemptCount, &created, &c.Body, &c.TraceParent, &c.URL, &c.Secret, &c.PreviousSecret, &failing, &c.RateLimit)
	c.CreatedAt, c.EventCreatedAt, c.FailingSince = fromMs(created), fromMs(eventCreated), sqlstore.NullTime(failing)
	return c, err
}

func (s *Store) ReleaseDeliveries(ctx context.Context, leases []store.Lease) error {
	if len(leases) == 0 {
		return nil
	}
	seqs, untils, keys := leaseArrays(leases)
	tag, err := s.pool.Exec(ctx, `UPDATE deliveries d SET lease_until = NULL
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS r(seq, lease, event_created_at)
		WHERE d.seq = r.seq AND d.event_created_at = r.event_created_at AND d.lease_until = r.lease AND d.status = 'pending'`,
		seqs, untils, keys)
	if err != nil {
		return s.failed(err)
	}
	if tag.RowsAffected() > 0 {
		s.announce(ctx)
	}
	return nil
}

// ExtendLeases moves the leases that are still current: lease_until is the
// fencing token, so a lease taken over or ended is left alone.
func (s *Store) ExtendLeases(ctx context.Context, leases []store.Lease, until time.Time) ([]bool, error) {
	moved := make([]bool, len(leases))
	if len(leases) == 0 {
		return moved, nil
	}
	seqs, untils, keys := leaseArrays(leases)
	rows, err := s.pool.Query(ctx, `UPDATE deliveries d SET lease_until = $4
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS r(seq, lease, event_created_at)
		WHERE d.seq = r.seq AND d.event_created_at = r.event_created_at AND d.lease_until = r.lease AND d.status = 'pending'
		RETURNING d.seq`, seqs, untils, keys, ms(until))
	if err != nil {
		return nil, interpret(err)
	}
	extended, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, interpret(err)
	}
	at := make(map[int64]bool, len(extended))
	for _, seq := range extended {
		at[seq] = true
	}
	for i, l := range leases {
		moved[i] = at[l.DeliverySeq]
	}
	return moved, nil
}

// leaseArrays are the leases' delivery seqs, lease ends and partition keys
// as the statements' arrays.
func leaseArrays(leases []store.Lease) (seqs, untils, keys []int64) {
	seqs, untils, keys = make([]int64, len(leases)), make([]int64, len(leases)), make([]int64, len(leases))
	for i, l := range leases {
		seqs[i], untils[i], keys[i] = l.DeliverySeq, ms(l.LeaseUntil), ms(l.EventCreatedAt)
	}
	return seqs, untils, keys
}
