package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

func (s *Store) DisableWebhook(ctx context.Context, org int64, reason string, now time.Time) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := disable(ctx, tx, org, reason, now)
		return err
	})
	if err != nil {
		return err
	}
	s.leases.dropOrganization(org)
	return nil
}

// disable is DisableWebhook within tx, for it and for a completion's
// disables: it reports whether it switched the webhook from active, and
// ENOTFOUND when the organization has none. The caller drops the
// organization's leases once tx commits.
func disable(ctx context.Context, tx *sql.Tx, org int64, reason string, now time.Time) (switched bool, err error) {
	// One writer at a time: the state read here is the one updated.
	err = tx.QueryRowContext(ctx, `SELECT state = 'active' FROM webhooks WHERE organization_id = ?`, org).Scan(&switched)
	if errs.NoRow(err) {
		return false, otw.Errorf(otw.ENOTFOUND, "organization %d has no webhook", org)
	}
	if err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE webhooks SET state = 'disabled', disabled_reason = ?, updated_at = ? WHERE organization_id = ?`, reason, ms(now), org); err != nil {
		return false, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE deliveries SET status = 'failed', last_error = ?, next_attempt_at = NULL
		WHERE organization_id = ? AND status = 'pending'`, reason, org)
	return switched, err
}
