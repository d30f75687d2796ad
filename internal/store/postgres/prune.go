package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/sqlstore"
)

// PruneEvents reads and deletes one step in one transaction; the deletes
// check again that no delivery became pending meanwhile (a retry of an old
// failed one).
func (s *Store) PruneEvents(ctx context.Context, p store.PruneParams) (int64, int, error) {
	next, removed := p.After, 0
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var old []int64
		var err error
		if next, old, err = sqlstore.PruneCandidates(ctx, adapter{q: tx}, p); err != nil || len(old) == 0 {
			return err
		}
		// The deliveries are locked first: a retry committing between
		// the deletes would otherwise leave one pending without its
		// attempts.
		var done []int64
		if err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(seq), '{}') FROM (SELECT seq FROM deliveries
			WHERE event_seq = ANY($1) AND status <> 'pending' FOR UPDATE) AS locked`, old).Scan(&done); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM attempts WHERE delivery_seq = ANY($1)`, done); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM deliveries WHERE seq = ANY($1)`, done); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM events e WHERE e.seq = ANY($1)
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq)`, old)
		removed = int(tag.RowsAffected())
		return err
	})
	if err != nil {
		return p.After, 0, err
	}
	return next, removed, nil
}
