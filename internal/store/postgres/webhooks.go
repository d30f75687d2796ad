package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

func (s *Store) DisableWebhook(ctx context.Context, org int64, reason string, now time.Time) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE webhooks SET state = 'disabled', disabled_reason = $1, updated_at = $2 WHERE organization_id = $3`, text(reason), ms(now), org)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return otw.Errorf(otw.ENOTFOUND, "organization %d has no webhook", org)
		}
		_, err = tx.Exec(ctx, `UPDATE deliveries SET status = 'failed', last_error = $1, next_attempt_at = NULL, lease_until = NULL
			WHERE organization_id = $2 AND status = 'pending'`, text(reason), org)
		return err
	})
}
