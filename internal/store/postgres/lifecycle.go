package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onetalk/onetalk-webhooks/internal/store"
)

func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE api_keys SET last_used_at = greatest(coalesce(last_used_at, 0), $2) WHERE id = $1`, id, ms(at))
	return interpret(err)
}

// DeleteOrganization removes the organization row, its keys and webhook
// in one transaction, then what it published in steps of
// store.DeleteStep events, each its own short transaction.
func (s *Store) DeleteOrganization(ctx context.Context, id int64) error {
	if err := s.RemoveOrganization(ctx, id); err != nil {
		return err
	}
	// Events are walked in seq order from a cursor: no index has them by
	// organization, and this reads the table once in all.
	var after int64
	return store.InSteps(ctx, func() (int, error) {
		n := 0
		err := s.tx(ctx, func(tx pgx.Tx) error {
			var events []int64
			if err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(seq ORDER BY seq), '{}') FROM (SELECT seq FROM events
				WHERE organization_id = $1 AND seq > $2 ORDER BY seq LIMIT $3 FOR UPDATE) AS step`, id, after, store.DeleteStep).Scan(&events); err != nil {
				return err
			}
			if len(events) > 0 {
				after = events[len(events)-1]
			}
			for _, q := range []string{
				`DELETE FROM attempts WHERE delivery_seq IN (SELECT seq FROM deliveries WHERE event_seq = ANY($1))`,
				`DELETE FROM deliveries WHERE event_seq = ANY($1)`,
				`DELETE FROM events WHERE seq = ANY($1)`,
			} {
				if _, err := tx.Exec(ctx, q, events); err != nil {
					return err
				}
			}
			n = len(events)
			return nil
		})
		return n, err
	})
}
