package sqlstore

import (
	"context"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

func (s *Store) CreateOrganization(ctx context.Context, org otw.Organization, key otw.APIKey) error {
	return s.db.Tx(ctx, func(q Querier) error {
		_, err := q.Exec(ctx, `INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)`, org.ID, org.Name, ms(org.CreatedAt))
		if otw.ErrorCode(s.db.Interpret(err)) == otw.ECONFLICT {
			return otw.Errorf(otw.ECONFLICT, "organization %d already exists", org.ID)
		}
		if err != nil {
			return err
		}
		return insertAPIKey(ctx, q, key)
	})
}

const organizationColumns = `id, name, created_at`

func scanOrganization(row Row) (otw.Organization, error) {
	var o otw.Organization
	var created int64
	err := row.Scan(&o.ID, &o.Name, &created)
	o.CreatedAt = fromMs(created)
	return o, err
}

func (s *Store) GetOrganization(ctx context.Context, id int64) (otw.Organization, error) {
	o, err := scanOrganization(s.db.QueryRow(ctx, `SELECT `+organizationColumns+` FROM organizations WHERE id = $1`, id))
	return o, s.lookup(err, "organization %d not found", id)
}

func (s *Store) ListOrganizations(ctx context.Context, p store.PageParams) ([]otw.Organization, string, error) {
	page, err := p.Page()
	if err != nil {
		return nil, "", err
	}
	rows, err := s.db.Query(ctx, `SELECT `+organizationColumns+` FROM organizations WHERE id > $1 ORDER BY id LIMIT $2`, page.After, page.Fetch())
	if err != nil {
		return nil, "", s.db.Interpret(err)
	}
	defer rows.Close()
	orgs, next, err := store.CollectPage(page, rows, func(row store.Rows) (otw.Organization, int64, error) {
		o, err := scanOrganization(row)
		return o, o.ID, err
	})
	return orgs, next, s.db.Interpret(err)
}

func (s *Store) RenameOrganization(ctx context.Context, id int64, name string) (otw.Organization, error) {
	var o otw.Organization
	err := s.db.Tx(ctx, func(q Querier) error {
		var err error
		o, err = scanOrganization(q.QueryRow(ctx, `UPDATE organizations SET name = $2 WHERE id = $1 RETURNING `+organizationColumns, id, name))
		return s.db.NotFound(err, "organization %d not found", id)
	})
	return o, err
}

// exists is ENOTFOUND when the organization does not exist.
func exists(ctx context.Context, q Querier, org int64) error {
	var found bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM organizations WHERE id = $1)`, org).Scan(&found); err != nil {
		return err
	}
	if !found {
		return otw.Errorf(otw.ENOTFOUND, "organization %d not found", org)
	}
	return nil
}

// RemoveOrganization is the first step of DeleteOrganization, one
// transaction: the organization, its keys (they stop working at once) and
// its webhook. ENOTFOUND when it does not exist. The driver then removes
// what the organization published, in steps.
func (s *Store) RemoveOrganization(ctx context.Context, id int64) error {
	return s.db.Tx(ctx, func(q Querier) error {
		if err := exists(ctx, q, id); err != nil {
			return err
		}
		for _, table := range []string{`api_keys WHERE organization_id`, `webhooks WHERE organization_id`, `organizations WHERE id`} {
			if _, err := q.Exec(ctx, `DELETE FROM `+table+` = $1`, id); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) CreateAPIKey(ctx context.Context, key otw.APIKey) error {
	return s.db.Tx(ctx, func(q Querier) error {
		if err := exists(ctx, q, key.OrganizationID); err != nil {
			return err
		}
		return insertAPIKey(ctx, q, key)
	})
}

func insertAPIKey(ctx context.Context, q Querier, key otw.APIKey) error {
	_, err := q.Exec(ctx, `INSERT INTO api_keys (id, organization_id, hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5)`,
		key.ID, key.OrganizationID, key.Hash, key.Prefix, ms(key.CreatedAt))
	return err
}

func (s *Store) RevokeAPIKey(ctx context.Context, org int64, id string, at time.Time) error {
	return s.db.Tx(ctx, func(q Querier) error {
		n, err := q.Exec(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND organization_id = $3 AND revoked_at IS NULL`, ms(at), id, org)
		if err != nil {
			return err
		}
		if n == 0 {
			return otw.Errorf(otw.ENOTFOUND, "API key %s not found", id)
		}
		return nil
	})
}

func (s *Store) FindAPIKey(ctx context.Context, hash []byte) (otw.APIKey, error) {
	var k otw.APIKey
	var created int64
	var revoked *int64
	err := s.db.QueryRow(ctx, `SELECT id, organization_id, hash, created_at, revoked_at FROM api_keys WHERE hash = $1`, hash).
		Scan(&k.ID, &k.OrganizationID, &k.Hash, &created, &revoked)
	k.CreatedAt, k.RevokedAt = fromMs(created), NullTime(revoked)
	return k, s.db.Interpret(err)
}

func (s *Store) ListAPIKeys(ctx context.Context, org int64) ([]otw.APIKey, error) {
	if _, err := s.GetOrganization(ctx, org); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT id, prefix, created_at, revoked_at, last_used_at FROM api_keys
		WHERE organization_id = $1 ORDER BY created_at, id`, org)
	if err != nil {
		return nil, s.db.Interpret(err)
	}
	defer rows.Close()
	var keys []otw.APIKey
	for rows.Next() {
		k := otw.APIKey{OrganizationID: org}
		var created int64
		var revoked, used *int64
		if err := rows.Scan(&k.ID, &k.Prefix, &created, &revoked, &used); err != nil {
			return nil, s.db.Interpret(err)
		}
		k.CreatedAt, k.RevokedAt, k.LastUsedAt = fromMs(created), NullTime(revoked), NullTime(used)
		keys = append(keys, k)
	}
	return keys, s.db.Interpret(rows.Err())
}

func (s *Store) RevokeSession(ctx context.Context, id []byte, expires, now time.Time) error {
	return s.db.Tx(ctx, func(q Querier) error {
		if _, err := q.Exec(ctx, `DELETE FROM revoked_sessions WHERE expires_at <= $1`, ms(now)); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `INSERT INTO revoked_sessions (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, id, ms(expires))
		return err
	})
}

func (s *Store) SessionRevoked(ctx context.Context, id []byte) (bool, error) {
	var revoked bool
	err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM revoked_sessions WHERE id = $1)`, id).Scan(&revoked)
	return revoked, s.db.Interpret(err)
}
