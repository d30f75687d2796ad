package sqlite

import (
	"context"
	"database/sql"
	"math/rand/v2"

	otw "github.com/onetalk/onetalk-webhooks"
	"github.com/onetalk/onetalk-webhooks/store"
)

// orgsWithWork lists the organizations that have a due delivery and an
// active webhook: one index probe per webhook.
const orgsWithWork = `
SELECT w.organization_id FROM webhooks w
WHERE w.enabled AND w.state = 'active' AND EXISTS (
	SELECT 1 FROM deliveries d
	WHERE d.organization_id = w.organization_id AND d.status = 'pending' AND d.next_attempt_at <= ?1
	  AND (d.lease_until IS NULL OR d.lease_until <= ?1))`

// claimQuery picks one organization's due deliveries. A delivery with an
// order key is only eligible when no earlier delivery of the same key is
// still pending (being sent or waiting for a retry): that one rule gives
// order per message and per case, while other keys go on.
const claimQuery = `
SELECT d.seq, d.id, e.id, d.organization_id, d.event_type, d.order_key, d.attempt_count, d.created_at,
       e.body, w.url, w.secret,
       CASE WHEN w.previous_secret_until > ?1 THEN w.previous_secret END, w.failing_since
FROM deliveries d
JOIN events e ON e.seq = d.event_seq
JOIN webhooks w ON w.organization_id = d.organization_id
WHERE d.organization_id = ?2 AND d.status = 'pending' AND d.next_attempt_at <= ?1
  AND (d.lease_until IS NULL OR d.lease_until <= ?1)
  AND (d.order_key = '' OR NOT EXISTS (
        SELECT 1 FROM deliveries p
        WHERE p.organization_id = d.organization_id AND p.order_key = d.order_key
          AND p.status = 'pending' AND p.seq < d.seq))
ORDER BY d.next_attempt_at, d.seq
LIMIT ?3`

func (s *Store) ClaimDeliveries(ctx context.Context, p store.ClaimParams) ([]store.Claimed, error) {
	var claimed []store.Claimed
	err := s.tx(ctx, func(tx *sql.Tx) error {
		claimed = claimed[:0]
		orgs, err := queryInt64s(ctx, tx, orgsWithWork, ms(p.Now))
		if err != nil {
			return err
		}
		// A random start shares the claim fairly when more organizations
		// have work than the claim has room for.
		rand.Shuffle(len(orgs), func(i, j int) { orgs[i], orgs[j] = orgs[j], orgs[i] })
		for _, org := range orgs {
			room := min(p.PerOrganization-p.Busy[org], p.Limit-len(claimed))
			if room <= 0 {
				continue
			}
			if claimed, err = claimFor(ctx, tx, claimed, org, room, p); err != nil {
				return err
			}
		}
		if len(claimed) == 0 {
			return nil
		}
		args := make([]any, 0, len(claimed)+1)
		args = append(args, ms(p.LeaseUntil))
		for _, c := range claimed {
			args = append(args, c.DeliverySeq)
		}
		_, err = tx.ExecContext(ctx, `UPDATE deliveries SET lease_until = ? WHERE seq IN (`+placeholders(len(claimed))+`)`, args...)
		return err
	})
	return claimed, err
}

func claimFor(ctx context.Context, tx *sql.Tx, claimed []store.Claimed, org int64, room int, p store.ClaimParams) ([]store.Claimed, error) {
	rows, err := tx.QueryContext(ctx, claimQuery, ms(p.Now), org, room)
	if err != nil {
		return claimed, err
	}
	defer rows.Close()
	for rows.Next() {
		c := store.Claimed{Lease: store.Lease{LeaseUntil: fromMs(ms(p.LeaseUntil))}}
		var created int64
		var failing sql.NullInt64
		if err := rows.Scan(&c.DeliverySeq, &c.DeliveryID, &c.EventID, &c.OrganizationID, &c.EventType, &c.OrderKey,
			&c.AttemptCount, &created, &c.Body, &c.URL, &c.Secret, &c.PreviousSecret, &failing); err != nil {
			return claimed, err
		}
		c.CreatedAt, c.FailingSince = fromMs(created), nullMs(failing)
		claimed = append(claimed, c)
	}
	return claimed, rows.Err()
}

func queryInt64s(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (s *Store) CompleteAttempts(ctx context.Context, results []store.AttemptResult) error {
	if len(results) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(results); start += rowsPerInsert {
			chunk := results[start:min(start+rowsPerInsert, len(results))]
			args := make([]any, 0, len(chunk)*7)
			for _, r := range chunk {
				a := r.Attempt
				args = append(args, r.DeliverySeq, a.N, ms(a.StartedAt), a.DurationMs, a.StatusCode, a.Error, a.ResponseBody)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO attempts (delivery_seq, n, started_at, duration_ms, status_code, error, response_body) VALUES `+
				valuesList(len(chunk), 7), args...); err != nil {
				return err
			}
		}
		upd, err := tx.PrepareContext(ctx, `
			UPDATE deliveries SET status = ?, attempt_count = ?, next_attempt_at = ?, lease_until = NULL,
				last_status_code = ?, last_error = ?, succeeded_at = ?
			WHERE seq = ? AND lease_until = ?`)
		if err != nil {
			return err
		}
		defer upd.Close()
		// Per webhook: the latest success, or the first failure.
		succeeded, failed := make(map[int64]int64), make(map[int64]int64)
		for _, r := range results {
			var next, done any
			at := ms(r.Attempt.StartedAt) + r.Attempt.DurationMs
			switch r.Status {
			case otw.DeliveryPending:
				next = ms(r.NextAttemptAt)
			case otw.DeliverySucceeded:
				done = at
			}
			res, err := upd.ExecContext(ctx, r.Status, r.Attempt.N, next, r.Attempt.StatusCode, r.Attempt.Error, done, r.DeliverySeq, ms(r.LeaseUntil))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue
			}
			if done != nil {
				succeeded[r.OrganizationID] = max(succeeded[r.OrganizationID], at)
			} else if f, ok := failed[r.OrganizationID]; !ok || at < f {
				failed[r.OrganizationID] = at
			}
		}
		for org, at := range succeeded {
			if _, err := tx.ExecContext(ctx, `UPDATE webhooks SET last_success_at = max(coalesce(last_success_at, 0), ?), failing_since = NULL WHERE organization_id = ?`, at, org); err != nil {
				return err
			}
		}
		for org, at := range failed {
			if _, ok := succeeded[org]; ok {
				continue // a success in the same batch: not failing
			}
			if _, err := tx.ExecContext(ctx, `UPDATE webhooks SET failing_since = coalesce(failing_since, ?) WHERE organization_id = ?`, at, org); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) ReleaseDeliveries(ctx context.Context, leases []store.Lease) error {
	if len(leases) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE deliveries SET lease_until = NULL WHERE seq = ? AND lease_until = ? AND status = 'pending'`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, l := range leases {
			if _, err := stmt.ExecContext(ctx, l.DeliverySeq, ms(l.LeaseUntil)); err != nil {
				return err
			}
		}
		return nil
	})
}
