package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

func (s *Store) CreateOrganization(ctx context.Context, org otw.Organization, key otw.APIKey) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)`, org.ID, org.Name, ms(org.CreatedAt))
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
	err := s.pool.QueryRow(ctx, `SELECT id, name, created_at FROM organizations WHERE id = $1`, id).Scan(&o.ID, &o.Name, &created)
	if err == pgx.ErrNoRows {
		return o, otw.Errorf(otw.ENOTFOUND, "organization %d not found", id)
	}
	o.CreatedAt = fromMs(created)
	return o, interpret(err)
}

func (s *Store) CreateAPIKey(ctx context.Context, key otw.APIKey) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if err := orgExists(ctx, tx, key.OrganizationID); err != nil {
			return err
		}
		return insertAPIKey(ctx, tx, key)
	})
}

func insertAPIKey(ctx context.Context, tx pgx.Tx, key otw.APIKey) error {
	_, err := tx.Exec(ctx, `INSERT INTO api_keys (id, organization_id, hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5)`,
		key.ID, key.OrganizationID, key.Hash, key.Prefix, ms(key.CreatedAt))
	return err
}

func orgExists(ctx context.Context, tx pgx.Tx, id int64) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM organizations WHERE id = $1`, id).Scan(&one)
	if err == pgx.ErrNoRows {
		return otw.Errorf(otw.ENOTFOUND, "organization %d not found", id)
	}
	return err
}

func (s *Store) RevokeAPIKey(ctx context.Context, org int64, id string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND organization_id = $3 AND revoked_at IS NULL`, ms(at), id, org)
	if err != nil {
		return interpret(err)
	}
	if tag.RowsAffected() == 0 {
		return otw.Errorf(otw.ENOTFOUND, "API key %s not found", id)
	}
	return nil
}

func (s *Store) FindAPIKey(ctx context.Context, hash []byte) (otw.APIKey, error) {
	var k otw.APIKey
	var created int64
	var revoked *int64
	err := s.pool.QueryRow(ctx, `SELECT id, organization_id, hash, created_at, revoked_at FROM api_keys WHERE hash = $1`, hash).
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
	rows, err := s.pool.Query(ctx, `SELECT id, name, created_at FROM organizations WHERE id > $1 ORDER BY id LIMIT $2`, after, p.Limit+1)
	if err != nil {
		return nil, "", interpret(err)
	}
	page, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (otw.Organization, error) {
		var o otw.Organization
		var created int64
		err := row.Scan(&o.ID, &o.Name, &created)
		o.CreatedAt = fromMs(created)
		return o, err
	})
	if err != nil {
		return nil, "", interpret(err)
	}
	more := len(page) > p.Limit
	if more {
		page = page[:p.Limit]
	}
	if page == nil {
		page = []otw.Organization{}
	}
	return page, store.NextOrgCursor(page, more), nil
}
