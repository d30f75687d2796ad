package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/store"
)

func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	return s.dispatchTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE api_keys SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?`, ms(at), id)
		return err
	})
}

// DeleteOrganization removes the organization row, its keys and webhook
// in one transaction, then what it published in steps of
// store.DeleteStep events, each a short write. The dispatcher's leases of
// the organization's deliveries are dropped: an outcome still to come has
// nothing left to record on.
func (s *Store) DeleteOrganization(ctx context.Context, id int64) error {
	if err := s.RemoveOrganization(ctx, id); err != nil {
		return err
	}
	s.leases.dropOrganization(id)
	// Events are walked in seq order from a cursor: no index has them by
	// organization, and this reads the table once in all.
	var after int64
	return store.InSteps(ctx, func() (int, error) {
		var events []int64
		rows, err := s.r.QueryContext(ctx, `SELECT seq FROM events WHERE organization_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
			id, after, store.DeleteStep)
		if err != nil {
			return 0, interpret(err)
		}
		for rows.Next() {
			var seq int64
			if err := rows.Scan(&seq); err != nil {
				rows.Close()
				return 0, interpret(err)
			}
			events = append(events, seq)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(events) == 0 {
			return 0, interpret(err)
		}
		after = events[len(events)-1]
		list, err := json.Marshal(events)
		if err != nil {
			return 0, err
		}
		err = s.dispatchTx(ctx, func(tx *sql.Tx) error {
			for _, q := range []string{
				`DELETE FROM attempts WHERE delivery_seq IN (SELECT seq FROM deliveries WHERE event_seq IN (SELECT value FROM json_each(?1)))`,
				`DELETE FROM deliveries WHERE event_seq IN (SELECT value FROM json_each(?1))`,
				`DELETE FROM events WHERE seq IN (SELECT value FROM json_each(?1))`,
			} {
				if _, err := tx.ExecContext(ctx, q, string(list)); err != nil {
					return err
				}
			}
			return nil
		})
		return len(events), err
	})
}
