package postgres

import (
	"cmp"
	"context"
	"math/rand/v2"
	"slices"

	"github.com/jackc/pgx/v5"

	otw "github.com/onetalk/onetalk-webhooks"
	"github.com/onetalk/onetalk-webhooks/store"
)

// orgsWithWork lists the organizations that have a due delivery and an
// active webhook: one index probe per webhook.
const orgsWithWork = `
SELECT w.organization_id FROM webhooks w
WHERE w.enabled AND w.state = 'active' AND EXISTS (
	SELECT 1 FROM deliveries d
	WHERE d.organization_id = w.organization_id AND d.status = 'pending' AND d.next_attempt_at <= $1
	  AND (d.lease_until IS NULL OR d.lease_until <= $1))`

// claimQuery leases the due deliveries of several organizations, up to
// each one's room, in one statement.
//
// FOR UPDATE SKIP LOCKED is what lets nodes claim side by side: a row
// another node is leasing right now is skipped, not waited for, and a row
// it leased and committed a moment ago is re-read after locking and fails
// the lease test. Either way no delivery is leased twice.
//
// The order rule: a delivery with an order key is eligible only when no
// earlier delivery of the same key is still pending (being sent or waiting
// for a retry). NOT EXISTS reads without locking, so an earlier delivery
// that another node holds locked still counts as pending and still blocks.
const claimQuery = `
WITH picked AS (
	SELECT c.seq
	FROM unnest($2::bigint[], $3::int[]) AS o(org, room)
	JOIN webhooks w ON w.organization_id = o.org AND w.enabled AND w.state = 'active'
	CROSS JOIN LATERAL (
		SELECT d.seq FROM deliveries d
		WHERE d.organization_id = o.org AND d.status = 'pending' AND d.next_attempt_at <= $1
		  AND (d.lease_until IS NULL OR d.lease_until <= $1)
		  AND (d.order_key = '' OR NOT EXISTS (
				SELECT 1 FROM deliveries p
				WHERE p.organization_id = d.organization_id AND p.order_key = d.order_key
				  AND p.status = 'pending' AND p.seq < d.seq))
		ORDER BY d.next_attempt_at, d.seq
		LIMIT o.room
		FOR UPDATE OF d SKIP LOCKED
	) AS c
), leased AS (
	UPDATE deliveries d SET lease_until = $4 FROM picked WHERE d.seq = picked.seq
	RETURNING d.seq, d.id, d.event_seq, d.organization_id, d.event_type, d.order_key, d.attempt_count, d.created_at, d.next_attempt_at
)
SELECT l.seq, l.id, e.id, l.organization_id, l.event_type, l.order_key, l.attempt_count, l.created_at,
       e.body, w.url, w.secret,
       CASE WHEN w.previous_secret_until > $1 THEN w.previous_secret END, w.failing_since
FROM leased l
JOIN events e ON e.seq = l.event_seq
JOIN webhooks w ON w.organization_id = l.organization_id
ORDER BY l.next_attempt_at, l.seq`

// share is one organization's part of a claim: how many it may still take.
type share struct {
	org  int64
	room int
}

// ClaimDeliveries needs no transaction: each claim statement commits its
// own leases, and a lease is all that protects a delivery afterwards.
func (s *Store) ClaimDeliveries(ctx context.Context, p store.ClaimParams) ([]store.Claimed, error) {
	rows, err := s.pool.Query(ctx, orgsWithWork, pgx.QueryExecModeExec, ms(p.Now))
	if err != nil {
		return nil, interpret(err)
	}
	orgs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, interpret(err)
	}
	// A random start shares the claim fairly when more organizations have
	// work than the claim has room for.
	rand.Shuffle(len(orgs), func(i, j int) { orgs[i], orgs[j] = orgs[j], orgs[i] })
	queue := make([]share, 0, len(orgs))
	for _, org := range orgs {
		if room := p.PerOrganization - p.Busy[org]; room > 0 {
			queue = append(queue, share{org, room})
		}
	}
	var claimed []store.Claimed
	for len(claimed) < p.Limit && len(queue) > 0 {
		// One statement per round, not one per organization. The round
		// hands out what is left in queue order as if every organization
		// had work to fill its room; one that had less leaves room over,
		// so one that was cut short by that assumption and took all it was
		// given goes back to the front for another round.
		budget := p.Limit - len(claimed)
		var ids []int64
		var gives []int32
		var cut []share
		for len(queue) > 0 && budget > 0 {
			sh := queue[0]
			queue = queue[1:]
			give := min(sh.room, budget)
			budget -= give
			ids, gives = append(ids, sh.org), append(gives, int32(give))
			if give < sh.room {
				cut = append(cut, share{sh.org, sh.room - give})
			}
		}
		round, err := s.claimRound(ctx, p, ids, gives)
		claimed = append(claimed, round...)
		if err != nil {
			if len(claimed) > 0 {
				// Earlier rounds' leases are committed: hand those out, or
				// they would wait unsent for their leases to run out. The
				// next claim meets the error again.
				return claimed, nil
			}
			return nil, err
		}
		got := make(map[int64]int32)
		for _, c := range round {
			got[c.OrganizationID]++
		}
		var again []share
		for _, c := range cut {
			if got[c.org] == gives[slices.Index(ids, c.org)] {
				again = append(again, c)
			}
		}
		queue = append(again, queue...)
	}
	return claimed, nil
}

func (s *Store) claimRound(ctx context.Context, p store.ClaimParams, orgs []int64, rooms []int32) ([]store.Claimed, error) {
	leaseUntil := ms(p.LeaseUntil)
	// Planned for its own arguments each time (an unnamed statement): the
	// generic plan of a cached statement walks the whole backlog and made
	// each claim cost ~25 ms at 40,000 pending deliveries, against ~4 ms.
	rows, err := s.pool.Query(ctx, claimQuery, pgx.QueryExecModeExec, ms(p.Now), orgs, rooms, leaseUntil)
	if err != nil {
		return nil, interpret(err)
	}
	claimed, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Claimed, error) {
		c := store.Claimed{Lease: store.Lease{LeaseUntil: fromMs(leaseUntil)}}
		var created int64
		var failing *int64
		err := row.Scan(&c.DeliverySeq, &c.DeliveryID, &c.EventID, &c.OrganizationID, &c.EventType, &c.OrderKey,
			&c.AttemptCount, &created, &c.Body, &c.URL, &c.Secret, &c.PreviousSecret, &failing)
		c.CreatedAt, c.FailingSince = fromMs(created), nullMs(failing)
		return c, err
	})
	// On an error while reading, leases may be committed that nobody
	// holds: they run out and the deliveries are claimed again.
	return claimed, interpret(err)
}

func (s *Store) CompleteAttempts(ctx context.Context, results []store.AttemptResult) error {
	if len(results) == 0 {
		return nil
	}
	// In seq order, so two calls touching the same rows lock them in the
	// same order.
	results = slices.Clone(results)
	slices.SortFunc(results, func(a, b store.AttemptResult) int { return cmp.Compare(a.DeliverySeq, b.DeliverySeq) })
	n := len(results)
	var (
		seqs, leases, started, durations, ends = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		nums                                   = make([]int32, n)
		codes                                  = make([]*int, n)
		errs, statuses                         = make([]string, n), make([]string, n)
		bodies                                 = make([][]byte, n)
		nexts, dones                           = make([]*int64, n), make([]*int64, n)
	)
	for i, r := range results {
		a := r.Attempt
		seqs[i], leases[i], nums[i], started[i], durations[i] = r.DeliverySeq, ms(r.LeaseUntil), int32(a.N), ms(a.StartedAt), a.DurationMs
		codes[i], errs[i], bodies[i], statuses[i] = a.StatusCode, text(a.Error), []byte(a.ResponseBody), r.Status
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
	// Every attempt is recorded, leased or not: it happened.
	b.Queue(`INSERT INTO attempts (delivery_seq, n, started_at, duration_ms, status_code, error, response_body)
		SELECT * FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::bigint[], $5::int[], $6::text[], $7::bytea[])`,
		seqs, nums, started, durations, codes, errs, bodies)
	// The delivery moves only if the lease is still ours (the fencing
	// token). What moved moves its webhook's health: a success sets the
	// last success and ends a failing streak, a failure (retry or final)
	// starts one unless one is running.
	b.Queue(`
		WITH r AS (
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::int[], $5::bigint[], $6::int[], $7::text[], $8::bigint[], $9::bigint[])
				AS r(seq, lease, status, n, next_attempt_at, status_code, error, succeeded_at, ended_at)
		), moved AS (
			UPDATE deliveries d SET status = r.status, attempt_count = r.n, next_attempt_at = r.next_attempt_at, lease_until = NULL,
				last_status_code = r.status_code, last_error = r.error, succeeded_at = r.succeeded_at
			FROM r WHERE d.seq = r.seq AND d.lease_until = r.lease
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
		WHERE w.organization_id = m.organization_id`,
		seqs, leases, statuses, nums, nexts, codes, errs, dones, ends)
	return interpret(s.pool.SendBatch(ctx, b).Close())
}

func (s *Store) ReleaseDeliveries(ctx context.Context, leases []store.Lease) error {
	if len(leases) == 0 {
		return nil
	}
	seqs, untils := make([]int64, len(leases)), make([]int64, len(leases))
	for i, l := range leases {
		seqs[i], untils[i] = l.DeliverySeq, ms(l.LeaseUntil)
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE deliveries d SET lease_until = NULL
			FROM unnest($1::bigint[], $2::bigint[]) AS r(seq, lease)
			WHERE d.seq = r.seq AND d.lease_until = r.lease AND d.status = 'pending'`, seqs, untils)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		// Another node can send them now, instead of at its next poll.
		return notify(ctx, tx)
	})
}
