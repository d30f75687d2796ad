package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/sqlstore"
)

// PruneEvents reads the step on the reader pool and deletes on the writer
// in one short transaction, which checks again that no delivery became
// pending meanwhile (a retry of an old failed one). Freed pages go to
// SQLite's free list and are reused by the next inserts, so the file stops
// growing once the retention window is full.
func (s *Store) PruneEvents(ctx context.Context, p store.PruneParams) (int64, int, error) {
	next, old, err := sqlstore.PruneCandidates(ctx, shared{s}, p)
	if err != nil {
		return p.After, 0, interpret(err)
	}
	if len(old) == 0 {
		return next, 0, nil
	}
	list, err := json.Marshal(old)
	if err != nil {
		return p.After, 0, err
	}
	var removed int64
	err = s.dispatchTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM attempts WHERE delivery_seq IN (SELECT d.seq FROM deliveries d
				WHERE d.event_seq IN (SELECT value FROM json_each(?1)) AND d.status <> 'pending')`,
			`DELETE FROM deliveries WHERE event_seq IN (SELECT value FROM json_each(?1)) AND status <> 'pending'`,
		} {
			if _, err := tx.ExecContext(ctx, q, string(list)); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE seq IN (SELECT value FROM json_each(?1))
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = events.seq)`, string(list))
		if err != nil {
			return err
		}
		removed, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return p.After, 0, err
	}
	return next, int(removed), nil
}
