package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

func (s *Store) RevokeSession(ctx context.Context, id []byte, expires, now time.Time) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM revoked_sessions WHERE expires_at <= $1`, ms(now)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO revoked_sessions (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, id, ms(expires))
		return err
	})
}

func (s *Store) SessionRevoked(ctx context.Context, id []byte) (bool, error) {
	var revoked bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM revoked_sessions WHERE id = $1)`, id).Scan(&revoked)
	return revoked, interpret(err)
}
