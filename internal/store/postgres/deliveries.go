package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/sqlstore"
)

func (s *Store) RetryDelivery(ctx context.Context, org int64, id string, now time.Time) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var status string
		var lease *int64
		// FOR UPDATE: a claim on another node cannot slip in between the
		// check and the update.
		err := tx.QueryRow(ctx, `SELECT status, lease_until FROM deliveries WHERE id = $1 AND organization_id = $2 FOR UPDATE`, id, org).Scan(&status, &lease)
		if err != nil {
			return noRows(err, "delivery %s not found", id)
		}
		if status == otw.DeliveryPending && lease != nil && *lease > ms(now) {
			return otw.Errorf(otw.ECONFLICT, "delivery %s is being attempted right now", id)
		}
		_, err = tx.Exec(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = $1, lease_until = NULL WHERE id = $2`, ms(now), id)
		return err
	})
	if err != nil {
		return err
	}
	s.announce(ctx)
	return nil
}

func (s *Store) RecoverDeliveries(ctx context.Context, org int64, since, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = $1, lease_until = NULL
		WHERE organization_id = $2 AND status = 'failed' AND created_at >= $3`, ms(now), org, ms(since))
	if err != nil {
		return 0, s.failed(err)
	}
	if tag.RowsAffected() > 0 {
		s.announce(ctx)
	}
	return int(tag.RowsAffected()), nil
}

func (s *Store) RetryDeliveries(ctx context.Context, p store.RetryParams) (int, bool, error) {
	if err := p.Check(); err != nil {
		return 0, false, err
	}
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	where := p.Where(arg, sqlstore.PostgreSQL.OrderKey)
	limit := arg(p.Limit + 1)
	// The oldest first: when more match than one call takes, each order
	// key's earliest are the ones sent, as the order rule wants. FOR
	// UPDATE: a concurrent retry or claim waits, so the rows counted are
	// the rows changed.
	picked := `SELECT d.seq FROM deliveries d WHERE ` + where + ` ORDER BY d.seq LIMIT ` + limit
	if !p.DryRun {
		picked += ` FOR UPDATE OF d`
	}
	var n int
	var more bool
	err := s.tx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, picked, args...)
		if err != nil {
			return err
		}
		seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		more = len(seqs) > p.Limit
		if more {
			seqs = seqs[:p.Limit]
		}
		n = len(seqs)
		if p.DryRun || n == 0 {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = $1, lease_until = NULL WHERE seq = ANY($2)`, ms(p.Now), seqs)
		return err
	})
	if err != nil {
		return 0, false, err
	}
	if !p.DryRun && n > 0 {
		s.announce(ctx)
	}
	return n, more, nil
}
