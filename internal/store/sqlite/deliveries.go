package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

func (s *Store) RetryDelivery(ctx context.Context, org int64, id string, now time.Time) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var seq int64
		var status string
		err := tx.QueryRowContext(ctx, `SELECT seq, status FROM deliveries WHERE id = ? AND organization_id = ?`, id, org).Scan(&seq, &status)
		if err != nil {
			return noRows(err, "delivery %s not found", id)
		}
		if status == otw.DeliveryPending && s.leases.active(seq, ms(now)) {
			return otw.Errorf(otw.ECONFLICT, "delivery %s is being attempted right now", id)
		}
		_, err = tx.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = ? WHERE seq = ?`, ms(now), seq)
		return err
	})
	if err != nil {
		return err
	}
	s.announcer.Announce()
	return nil
}

func (s *Store) RecoverDeliveries(ctx context.Context, org int64, since, now time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = ?
			WHERE organization_id = ? AND status = 'failed' AND created_at >= ?`, ms(now), org, ms(since))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, err
	}
	if n > 0 {
		s.announcer.Announce()
	}
	return int(n), nil
}

func (s *Store) RetryDeliveries(ctx context.Context, p store.RetryParams) (int, bool, error) {
	if err := p.Check(); err != nil {
		return 0, false, err
	}
	var args []any
	arg := func(v any) string { args = append(args, v); return "?" }
	// The oldest first: when more match than one call takes, each order
	// key's earliest are the ones sent, as the order rule wants.
	picked := `SELECT d.seq FROM deliveries d WHERE ` + p.Where(arg, "d.order_key") + ` ORDER BY d.seq LIMIT ?`
	var n int
	var more bool
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// One more than the limit says whether more match.
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM (`+picked+`)`, append(args, p.Limit+1)...).Scan(&n); err != nil {
			return err
		}
		more, n = n > p.Limit, min(n, p.Limit)
		if p.DryRun || n == 0 {
			return nil
		}
		// The same statement, in the same transaction: what is sent is
		// what was counted.
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = ? WHERE seq IN (`+picked+`)`,
			append(append([]any{ms(p.Now)}, args...), p.Limit)...)
		if err != nil {
			return err
		}
		affected, err := res.RowsAffected()
		n = int(affected)
		return err
	})
	if err != nil {
		return 0, false, err
	}
	if !p.DryRun && n > 0 {
		s.announcer.Announce()
	}
	return n, more, nil
}
