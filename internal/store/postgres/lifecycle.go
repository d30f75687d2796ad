package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

func (s *Store) ListAPIKeys(ctx context.Context, org int64) ([]otw.APIKey, error) {
	var keys []otw.APIKey
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := orgExists(ctx, tx, org); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id, prefix, created_at, revoked_at, last_used_at FROM api_keys
			WHERE organization_id = $1 ORDER BY created_at, id`, org)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			k := otw.APIKey{OrganizationID: org}
			var created int64
			var revoked, used *int64
			if err := rows.Scan(&k.ID, &k.Prefix, &created, &revoked, &used); err != nil {
				return err
			}
			k.CreatedAt, k.RevokedAt, k.LastUsedAt = fromMs(created), msPtr(revoked), msPtr(used)
			keys = append(keys, k)
		}
		return rows.Err()
	})
	return keys, err
}

// msPtr turns a nullable Unix-ms column into a time.
func msPtr(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := fromMs(*v)
	return &t
}

func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE api_keys SET last_used_at = greatest(coalesce(last_used_at, 0), $2) WHERE id = $1`, id, ms(at))
	return interpret(err)
}

func (s *Store) RenameOrganization(ctx context.Context, id int64, name string) (otw.Organization, error) {
	var o otw.Organization
	var created int64
	err := s.pool.QueryRow(ctx, `UPDATE organizations SET name = $2 WHERE id = $1 RETURNING id, name, created_at`, id, name).
		Scan(&o.ID, &o.Name, &created)
	if err == pgx.ErrNoRows {
		return o, otw.Errorf(otw.ENOTFOUND, "organization %d not found", id)
	}
	o.CreatedAt = fromMs(created)
	return o, interpret(err)
}

// DeleteOrganization removes the organization row, its keys and webhook
// in one transaction, then what it published in steps of
// store.DeleteStep events, each its own short transaction.
func (s *Store) DeleteOrganization(ctx context.Context, id int64) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := orgExists(ctx, tx, id); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM api_keys WHERE organization_id = $1`,
			`DELETE FROM webhooks WHERE organization_id = $1`,
			`DELETE FROM organizations WHERE id = $1`,
		} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
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
