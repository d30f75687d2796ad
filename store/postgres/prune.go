package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// PruneEvents reads and deletes one step in one transaction; the deletes
// check again that no delivery became pending meanwhile (a retry of an old
// failed one).
func (s *Store) PruneEvents(ctx context.Context, cutoff time.Time, after int64, limit int) (int64, int, error) {
	next, removed := after, 0
	err := s.tx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT e.seq, e.created_at < $2,
				EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.status = 'pending')
			FROM events e WHERE e.seq > $1 ORDER BY e.seq LIMIT $3`, after, ms(cutoff), limit)
		if err != nil {
			return err
		}
		var old []int64
		for rows.Next() {
			var seq int64
			var expired, pending bool
			if err := rows.Scan(&seq, &expired, &pending); err != nil {
				rows.Close()
				return err
			}
			if !expired {
				break // the rest are younger
			}
			next = seq
			if !pending {
				old = append(old, seq)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(old) == 0 {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM attempts WHERE delivery_seq IN (SELECT d.seq FROM deliveries d
			WHERE d.event_seq = ANY($1) AND d.status <> 'pending')`, old); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM deliveries WHERE event_seq = ANY($1) AND status <> 'pending'`, old); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM events e WHERE e.seq = ANY($1)
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq)`, old)
		removed = int(tag.RowsAffected())
		return err
	})
	if err != nil {
		return after, 0, err
	}
	return next, removed, nil
}
