package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

func (s *Store) DisableWebhook(ctx context.Context, org int64, reason string, now time.Time) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhooks SET state = 'disabled', disabled_reason = ?, updated_at = ? WHERE organization_id = ?`, reason, ms(now), org)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return otw.Errorf(otw.ENOTFOUND, "organization %d has no webhook", org)
		}
		_, err = tx.ExecContext(ctx, `UPDATE deliveries SET status = 'failed', last_error = ?, next_attempt_at = NULL
			WHERE organization_id = ? AND status = 'pending'`, reason, org)
		return err
	})
	if err != nil {
		return err
	}
	s.leases.dropOrganization(org)
	return nil
}
