package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/sqlstore"
)

// PruneEvents removes by whole partitions (see partitions.go): retention
// here is by slots of the partition width, so p.Before is first rounded
// down to the start of the partition that holds it, and an event stays
// until all of its partition is past the retention, at most a width longer
// than the window.
//
// At the start of a pass (p.After 0) it drops the partitions wholly past
// the retention whose slot holds no pending delivery and no event whose
// idempotency key is still remembered (see dropOldPartitions): no DELETE,
// nothing left to vacuum. A partition that still holds pending work is
// kept, and the steps then delete row by row, as before partitions, what
// in it may go (everything but the pending deliveries and their events),
// so that one delivery retried for days holds back only itself; once its
// work has ended a later pass drops the partition. The same steps remove
// what lies past the retention in the DEFAULT partitions.
//
// A step reads and deletes in one transaction; the deletes check again
// that no delivery became pending meanwhile (a retry of an old failed one).
func (s *Store) PruneEvents(ctx context.Context, p store.PruneParams) (int64, int, error) {
	ps, err := listPartitions(ctx, s.pool)
	if err != nil {
		return p.After, 0, interpret(err)
	}
	cutoff := retentionCutoff(ps, ms(p.Before))
	dropped := 0
	if p.After == 0 {
		if dropped, err = s.dropOldPartitions(ctx, ps, cutoff, ms(p.KeyedBefore)); err != nil {
			return p.After, 0, err
		}
	}
	p.Before, p.KeyedBefore = fromMs(cutoff), fromMs(min(cutoff, ms(p.KeyedBefore)))
	next, removed := p.After, 0
	err = s.tx(ctx, func(tx pgx.Tx) error {
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
		return p.After, dropped, err
	}
	return next, dropped + removed, nil
}
