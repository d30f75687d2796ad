package sqlite

import (
	"context"
	"database/sql"
	"time"
)

func (s *Store) RevokeSession(ctx context.Context, id []byte, expires, now time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM revoked_sessions WHERE expires_at <= ?`, ms(now)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO revoked_sessions (id, expires_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`, id, ms(expires))
		return err
	})
}

func (s *Store) SessionRevoked(ctx context.Context, id []byte) (bool, error) {
	var revoked bool
	err := s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM revoked_sessions WHERE id = ?)`, id).Scan(&revoked)
	return revoked, interpret(err)
}
