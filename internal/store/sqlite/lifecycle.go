package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

func (s *Store) ListAPIKeys(ctx context.Context, org int64) ([]otw.APIKey, error) {
	if _, err := s.GetOrganization(ctx, org); err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, prefix, created_at, revoked_at, last_used_at FROM api_keys
		WHERE organization_id = ? ORDER BY created_at, id`, org)
	if err != nil {
		return nil, interpret(err)
	}
	defer rows.Close()
	var keys []otw.APIKey
	for rows.Next() {
		k := otw.APIKey{OrganizationID: org}
		var created int64
		var revoked, used sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Prefix, &created, &revoked, &used); err != nil {
			return nil, interpret(err)
		}
		k.CreatedAt, k.RevokedAt, k.LastUsedAt = fromMs(created), nullMs(revoked), nullMs(used)
		keys = append(keys, k)
	}
	return keys, interpret(rows.Err())
}

func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	return s.dispatchTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE api_keys SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?`, ms(at), id)
		return err
	})
}

func (s *Store) RenameOrganization(ctx context.Context, id int64, name string) (otw.Organization, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE organizations SET name = ? WHERE id = ?`, name, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return otw.Errorf(otw.ENOTFOUND, "organization %d not found", id)
		}
		return nil
	})
	if err != nil {
		return otw.Organization{}, err
	}
	return s.GetOrganization(ctx, id)
}

// DeleteOrganization removes the organization row, its keys and webhook
// in one transaction, then what it published in steps of
// store.DeleteStep events, each a short write. The dispatcher's leases of
// the organization's deliveries are dropped: an outcome still to come has
// nothing left to record on.
func (s *Store) DeleteOrganization(ctx context.Context, id int64) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := orgExists(ctx, tx, id); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM api_keys WHERE organization_id = ?`,
			`DELETE FROM webhooks WHERE organization_id = ?`,
			`DELETE FROM organizations WHERE id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
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
