package sqlite

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// orgsWithWork lists the organizations that have a due delivery and an
// active webhook, with what sending needs of the webhook: one index probe
// per webhook. ?2 is the JSON array of the leased deliveries (see
// leaseTable), ?3 the horizon (see Store.horizon).
const orgsWithWork = `
SELECT w.organization_id, w.url, w.secret,
       CASE WHEN w.previous_secret_until > ?1 THEN w.previous_secret END, w.failing_since, coalesce(w.rate_limit, 0)
FROM webhooks w
WHERE w.enabled AND w.state = 'active' AND EXISTS (
	SELECT 1 FROM deliveries d
	WHERE d.organization_id = w.organization_id AND d.status = 'pending' AND d.next_attempt_at <= ?1
	  AND d.seq <= ?3 AND d.seq NOT IN (SELECT value FROM json_each(?2)))`

// claimQuery picks one organization's deliveries by the claim rule
// (store.ClaimParams); ClaimDeliveries visits the organizations in a
// random order and bounds what each may take.
const claimQuery = `
SELECT d.seq, d.id, e.id, d.event_type, d.order_key, d.attempt_count, d.created_at, e.body, e.trace_parent
FROM deliveries d
JOIN events e ON e.seq = d.event_seq
WHERE d.organization_id = ?2 AND d.status = 'pending' AND d.next_attempt_at <= ?1
  AND d.seq <= ?5 AND d.seq NOT IN (SELECT value FROM json_each(?4))
  AND (d.order_key = '' OR NOT EXISTS (
        SELECT 1 FROM deliveries p INDEXED BY deliveries_order
        WHERE p.organization_id = d.organization_id AND p.order_key = d.order_key
          AND p.status = 'pending' AND p.seq < d.seq))
ORDER BY d.next_attempt_at, d.seq
LIMIT ?3`

// nextOfKeyQuery reads an order key's first pending delivery, with what
// sending it needs, when its webhook is switched on and active (see
// takeNext); ?3 is now, for the previous secret.
const nextOfKeyQuery = `
SELECT d.seq, d.id, e.id, d.event_type, d.attempt_count, d.created_at, d.next_attempt_at, e.body, e.trace_parent,
       w.url, w.secret, CASE WHEN w.previous_secret_until > ?3 THEN w.previous_secret END, w.failing_since, coalesce(w.rate_limit, 0)
FROM deliveries d INDEXED BY deliveries_order
JOIN events e ON e.seq = d.event_seq
JOIN webhooks w ON w.organization_id = d.organization_id AND w.enabled AND w.state = 'active'
WHERE d.organization_id = ?1 AND d.order_key = ?2 AND d.status = 'pending'
ORDER BY d.seq
LIMIT 1`

// ClaimDeliveries reads on the reader pool and leases in memory: the
// writer is not involved (see leaseTable and Store.horizon). Claims run one
// at a time, so that two never read the same delivery as free.
func (s *Store) ClaimDeliveries(ctx context.Context, p store.ClaimParams) ([]store.Claimed, error) {
	s.claiming.Lock()
	defer s.claiming.Unlock()
	horizon := s.horizon.Load() // before the leases: see Store.horizon
	held := s.leases.held(ms(p.Now))
	orgs, err := s.endpointsWithWork(ctx, p.Now, held, horizon)
	if err != nil {
		return nil, interpret(err)
	}
	// A random start shares the claim fairly when more organizations
	// have work than the claim has room for.
	rand.Shuffle(len(orgs), func(i, j int) { orgs[i], orgs[j] = orgs[j], orgs[i] })
	var claimed []store.Claimed
	for _, r := range orgs {
		room := min(p.PerOrganization-p.Held[r.Webhook.OrganizationID], p.Limit-len(claimed))
		if room <= 0 {
			continue
		}
		if claimed, err = claimFor(ctx, s.reads[claimQuery], claimed, r, room, held, horizon, p); err != nil {
			return nil, interpret(err)
		}
	}
	s.leases.take(claimed)
	return claimed, nil
}

// endpointsWithWork returns the routes, to send through, of the
// organizations with work.
func (s *Store) endpointsWithWork(ctx context.Context, now time.Time, held string, horizon int64) ([]store.Route, error) {
	rows, err := s.reads[orgsWithWork].QueryContext(ctx, ms(now), held, horizon)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var hooks []otw.Webhook
	var failing []*time.Time
	for rows.Next() {
		var w otw.Webhook
		var since sql.NullInt64
		if err := rows.Scan(&w.OrganizationID, &w.URL, &w.Secret, &w.PreviousSecret, &since, &w.RateLimit); err != nil {
			return nil, err
		}
		hooks, failing = append(hooks, w), append(failing, nullMs(since))
	}
	// The routes point into hooks once it has stopped growing: one
	// allocation for all, however many organizations have work.
	out := make([]store.Route, len(hooks))
	for i := range hooks {
		out[i] = store.Route{Organization: true, Webhook: &hooks[i], FailingSince: failing[i]}
	}
	return out, rows.Err()
}

func claimFor(ctx context.Context, q *sql.Stmt, claimed []store.Claimed, r store.Route, room int, held string, horizon int64, p store.ClaimParams) ([]store.Claimed, error) {
	rows, err := q.QueryContext(ctx, ms(p.Now), r.Webhook.OrganizationID, room, held, horizon)
	if err != nil {
		return claimed, err
	}
	defer rows.Close()
	for rows.Next() {
		c := r.Claimed(p.LeaseUntil)
		var created int64
		if err := rows.Scan(&c.DeliverySeq, &c.DeliveryID, &c.EventID, &c.EventType, &c.OrderKey,
			&c.AttemptCount, &created, &c.Body, &c.TraceParent); err != nil {
			return claimed, err
		}
		c.CreatedAt = fromMs(created)
		claimed = append(claimed, c)
	}
	return claimed, rows.Err()
}

// CompleteAttempts commits on the dispatcher's terms (dispatchTx), its
// events too: a crash of the process loses none, and a power cut loses
// them only with the outcomes that caused them, whose deliveries are sent
// again and cause them again.
func (s *Store) CompleteAttempts(ctx context.Context, c store.Completion) ([]store.Claimed, error) {
	results := c.Results
	if len(results) == 0 && !c.Effects() {
		return nil, nil
	}
	owned := s.leases.beginWrite(results)
	ended := make([]bool, len(results)) // the results that ended their delivery
	var out []store.Inserted
	err := s.dispatchTx(ctx, func(tx *sql.Tx) (err error) {
		rest := results
		for _, n := range chunks(len(results)) {
			chunk := rest[:n]
			rest = rest[n:]
			args := make([]any, 0, n*8)
			for _, r := range chunk {
				a := r.Attempt
				args = append(args, r.DeliverySeq, a.N, ms(a.StartedAt), a.DurationMs, a.StatusCode, a.Error, a.ResponseBody, a.URL)
			}
			if _, err := s.stmt(ctx, tx, insertAttemptsSQL(n)).ExecContext(ctx, args...); err != nil {
				return err
			}
		}
		upd := s.stmt(ctx, tx, outcomeUpdate)
		// Per webhook: the latest success, or the first failure.
		succeeded, failed := make(map[int64]int64), make(map[int64]int64)
		for i, r := range results {
			if !owned[i] {
				continue // the lease was taken over: the attempt only
			}
			var next, done any
			at := ms(r.Attempt.StartedAt) + r.Attempt.DurationMs
			switch r.Status {
			case otw.DeliveryPending:
				next = ms(r.NextAttemptAt)
			case otw.DeliverySucceeded:
				done = at
			}
			res, err := upd.ExecContext(ctx, r.Status, r.Attempt.N, next, r.Attempt.StatusCode, r.Attempt.Error, done, r.DeliverySeq)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue
			}
			ended[i] = r.Status != otw.DeliveryPending
			if done != nil {
				succeeded[r.OrganizationID] = max(succeeded[r.OrganizationID], at)
			} else if f, ok := failed[r.OrganizationID]; !ok || at < f {
				failed[r.OrganizationID] = at
			}
		}
		success, failure := s.stmt(ctx, tx, successUpdate), s.stmt(ctx, tx, failureUpdate)
		for org, at := range succeeded {
			if _, err := success.ExecContext(ctx, at, org); err != nil {
				return err
			}
		}
		for org, at := range failed {
			if _, ok := succeeded[org]; ok {
				continue // a success in the same batch: not failing
			}
			if _, err := failure.ExecContext(ctx, at, org); err != nil {
				return err
			}
		}
		if c.Effects() {
			out, err = s.completeEffects(ctx, tx, &c)
		}
		return err
	})
	s.leases.endWrite(results, owned, err == nil)
	if err != nil {
		return nil, err
	}
	for _, d := range c.Disable {
		s.leases.dropOrganization(d.OrganizationID)
	}
	if store.Announces(out) {
		s.announcer.Announce()
	}
	return s.takeNext(ctx, &c, ended)
}

// takeNext hands over the next delivery of each order key a committed
// completion let go (store.Completion.Take). It reads after the commit and
// leases in memory under the claim's lock: a claim either ran before, and
// then read the key as blocked or leased what takeNext now finds leased,
// or runs after and finds the lease. An insert that read the key as
// waiting committed before this read (one writer), which finds its
// delivery. A failed read takes nothing and announces: claims find the
// deliveries.
func (s *Store) takeNext(ctx context.Context, c *store.Completion, ended []bool) ([]store.Claimed, error) {
	keys := c.Take.Keys(c.Results, ended)
	if len(keys) == 0 {
		return nil, nil
	}
	s.claiming.Lock()
	defer s.claiming.Unlock()
	now := ms(c.Take.HandOverAt(c.Now))
	var taken []store.Claimed
	for _, k := range keys {
		cl := store.Claimed{Lease: store.Lease{LeaseUntil: store.Millis(c.Take.LeaseUntil)}, OrganizationID: k.OrganizationID, OrderKey: k.OrderKey}
		var created, due int64
		var failing sql.NullInt64
		err := s.reads[nextOfKeyQuery].QueryRowContext(ctx, k.OrganizationID, k.OrderKey, now).Scan(&cl.DeliverySeq, &cl.DeliveryID, &cl.EventID,
			&cl.EventType, &cl.AttemptCount, &created, &due, &cl.Body, &cl.TraceParent,
			&cl.URL, &cl.Secret, &cl.PreviousSecret, &failing, &cl.RateLimit)
		if err != nil {
			if err == sql.ErrNoRows {
				continue
			}
			// The rest is left to claims, which the announcement wakes.
			s.announcer.Announce()
			break
		}
		if due > now || s.leases.active(cl.DeliverySeq, now) {
			continue
		}
		cl.CreatedAt, cl.FailingSince = fromMs(created), nullMs(failing)
		taken = append(taken, cl)
	}
	s.leases.take(taken)
	return taken, nil
}

// completeEffects carries out a completion's disables and stores its
// events, within its transaction.
func (s *Store) completeEffects(ctx context.Context, tx *sql.Tx, c *store.Completion) ([]store.Inserted, error) {
	switched := make([]bool, len(c.Disable))
	for i, d := range c.Disable {
		var err error
		switched[i], err = disable(ctx, tx, d.OrganizationID, d.Reason, c.Now)
		if err != nil && otw.ErrorCode(err) != otw.ENOTFOUND {
			return nil, err
		}
	}
	events := c.EffectEvents(switched)
	if len(events) == 0 {
		return nil, nil
	}
	out := make([]store.Inserted, len(events))
	_, err := s.insertTx(ctx, tx, events, out, c.Now, store.Take{})
	return out, err
}

// ReleaseDeliveries ends the leases; the deliveries were due already.
func (s *Store) ReleaseDeliveries(ctx context.Context, leases []store.Lease) error {
	if s.leases.release(leases) > 0 {
		s.announcer.Announce()
	}
	return nil
}

// ExtendLeases moves current leases in memory: it writes nothing, so it
// works on a full disk too.
func (s *Store) ExtendLeases(ctx context.Context, leases []store.Lease, until time.Time) ([]bool, error) {
	return s.leases.extend(leases, ms(until)), nil
}
