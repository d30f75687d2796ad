package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

func (s *Store) CreateOrganization(ctx context.Context, org otw.Organization, key otw.APIKey) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)`, org.ID, org.Name, ms(org.CreatedAt))
		if otw.ErrorCode(interpret(err)) == otw.ECONFLICT {
			return otw.Errorf(otw.ECONFLICT, "organization %d already exists", org.ID)
		}
		if err != nil {
			return err
		}
		return insertAPIKey(ctx, tx, key)
	})
}

func (s *Store) GetOrganization(ctx context.Context, id int64) (otw.Organization, error) {
	var o otw.Organization
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT id, name, created_at FROM organizations WHERE id = ?`, id).Scan(&o.ID, &o.Name, &created)
	if err == sql.ErrNoRows {
		return o, otw.Errorf(otw.ENOTFOUND, "organization %d not found", id)
	}
	o.CreatedAt = fromMs(created)
	return o, interpret(err)
}

func (s *Store) CreateAPIKey(ctx context.Context, key otw.APIKey) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := orgExists(ctx, tx, key.OrganizationID); err != nil {
			return err
		}
		return insertAPIKey(ctx, tx, key)
	})
}

func insertAPIKey(ctx context.Context, tx *sql.Tx, key otw.APIKey) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, organization_id, hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)`,
		key.ID, key.OrganizationID, key.Hash, key.Prefix, ms(key.CreatedAt))
	return err
}

func orgExists(ctx context.Context, tx *sql.Tx, id int64) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM organizations WHERE id = ?`, id).Scan(&one)
	if err == sql.ErrNoRows {
		return otw.Errorf(otw.ENOTFOUND, "organization %d not found", id)
	}
	return err
}

func (s *Store) RevokeAPIKey(ctx context.Context, org int64, id string, at time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ? AND organization_id = ? AND revoked_at IS NULL`, ms(at), id, org)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return otw.Errorf(otw.ENOTFOUND, "API key %s not found", id)
		}
		return nil
	})
}

func (s *Store) FindAPIKey(ctx context.Context, hash []byte) (otw.APIKey, error) {
	var k otw.APIKey
	var created int64
	var revoked sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT id, organization_id, hash, created_at, revoked_at FROM api_keys WHERE hash = ?`, hash).
		Scan(&k.ID, &k.OrganizationID, &k.Hash, &created, &revoked)
	k.CreatedAt, k.RevokedAt = fromMs(created), nullMs(revoked)
	return k, interpret(err)
}

func (s *Store) ListOrganizations(ctx context.Context, p store.PageParams) ([]otw.Organization, string, error) {
	after, err := store.ParseOrgCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	// One row beyond the page says whether there is a next one.
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, created_at FROM organizations WHERE id > ? ORDER BY id LIMIT ?`, after, p.Limit+1)
	if err != nil {
		return nil, "", interpret(err)
	}
	defer rows.Close()
	page := make([]otw.Organization, 0, p.Limit)
	more := false
	for rows.Next() {
		if len(page) == p.Limit {
			more = true
			break
		}
		var o otw.Organization
		var created int64
		if err := rows.Scan(&o.ID, &o.Name, &created); err != nil {
			return nil, "", interpret(err)
		}
		o.CreatedAt = fromMs(created)
		page = append(page, o)
	}
	if err := rows.Err(); err != nil {
		return nil, "", interpret(err)
	}
	return page, store.NextOrgCursor(page, more), nil
}
