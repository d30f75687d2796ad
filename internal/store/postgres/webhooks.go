package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

func (s *Store) DisableWebhook(ctx context.Context, org int64, reason string, now time.Time) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		_, err := disable(ctx, tx, org, reason, now)
		return err
	})
}

// disable is DisableWebhook within tx, for it and for a completion's
// disables: it reports whether it switched the webhook from active, and
// ENOTFOUND when the organization has none. The row is locked before its
// state is read, so of two writes disabling one webhook at once only one
// switches it.
func disable(ctx context.Context, tx pgx.Tx, org int64, reason string, now time.Time) (switched bool, err error) {
	err = tx.QueryRow(ctx, `
		WITH old AS (SELECT state FROM webhooks WHERE organization_id = $3 FOR UPDATE)
		UPDATE webhooks w SET state = 'disabled', disabled_reason = $1, updated_at = $2
		FROM old WHERE w.organization_id = $3
		RETURNING old.state = 'active'`, text(reason), ms(now), org).Scan(&switched)
	if err != nil {
		return false, noRows(err, "organization %d has no webhook", org)
	}
	_, err = tx.Exec(ctx, `UPDATE deliveries SET status = 'failed', last_error = $1, next_attempt_at = NULL, lease_until = NULL
		WHERE organization_id = $2 AND status = 'pending'`, text(reason), org)
	return switched, err
}
