package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

const webhookColumns = `organization_id, enabled, url, subscribed_events, state, disabled_reason,
	secret, previous_secret, previous_secret_until, rate_limit, signing, coalesce(filters, ''), created_at, updated_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanWebhook(row rowScanner) (otw.Webhook, error) {
	var w otw.Webhook
	var events, filters string
	var prevUntil, rateLimit sql.NullInt64
	var created, updated int64
	err := row.Scan(&w.OrganizationID, &w.Enabled, &w.URL, &events, &w.State, &w.DisabledReason,
		&w.Secret, &w.PreviousSecret, &prevUntil, &rateLimit, &w.Signing, &filters, &created, &updated)
	if err != nil {
		return w, err
	}
	// Split("") is [""]: a webhook that takes no event would seem to take
	// the empty type, and show it.
	w.SubscribedEvents = []string{}
	if events != "" {
		w.SubscribedEvents = strings.Split(events, ",")
	}
	w.PreviousSecretUntil = nullMs(prevUntil)
	w.RateLimit = int(rateLimit.Int64)
	if w.Filters, err = store.DecodeFilters(filters); err != nil {
		return w, err
	}
	w.CreatedAt, w.UpdatedAt = fromMs(created), fromMs(updated)
	return w, nil
}

func getWebhook(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, org int64) (otw.Webhook, error) {
	w, err := scanWebhook(q.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE organization_id = ?`, org))
	if err == sql.ErrNoRows {
		return w, otw.Errorf(otw.ENOTFOUND, "organization %d has no webhook", org)
	}
	return w, interpret(err)
}

func (s *Store) GetWebhook(ctx context.Context, org int64) (otw.Webhook, error) {
	return getWebhook(ctx, s.r, org)
}

func (s *Store) SaveWebhook(ctx context.Context, org int64, set otw.WebhookSettings, secret []byte, now time.Time) (otw.Webhook, error) {
	var w otw.Webhook
	filters, err := store.EncodeFilters(set.Filters)
	if err != nil {
		return w, err
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if err := orgExists(ctx, tx, org); err != nil {
			return err
		}
		// Saving enabled is the organization saying "try again": a webhook
		// the service disabled becomes active. Saving it switched off keeps
		// the service's verdict on show.
		_, err := tx.ExecContext(ctx, `
			INSERT INTO webhooks (organization_id, enabled, url, subscribed_events, state, secret, rate_limit, signing, filters, created_at, updated_at)
			VALUES (?1, ?2, ?3, ?4, 'active', ?5, ?7, ?8, ?9, ?6, ?6)
			ON CONFLICT (organization_id) DO UPDATE SET
				enabled = excluded.enabled, url = excluded.url, subscribed_events = excluded.subscribed_events,
				rate_limit = excluded.rate_limit, filters = excluded.filters,
				state = CASE WHEN excluded.enabled THEN 'active' ELSE webhooks.state END,
				disabled_reason = CASE WHEN excluded.enabled THEN '' ELSE webhooks.disabled_reason END,
				failing_since = CASE WHEN excluded.enabled AND webhooks.state <> 'active' THEN NULL ELSE webhooks.failing_since END,
				updated_at = excluded.updated_at`,
			org, set.Enabled, set.URL, strings.Join(set.SubscribedEvents, ","), secret, ms(now), rateLimit(set.RateLimit), otw.SigningOrDefault(set.Signing), filters)
		if err != nil {
			return err
		}
		w, err = getWebhook(ctx, tx, org)
		return err
	})
	return w, err
}

func (s *Store) RotateSecret(ctx context.Context, org int64, secret []byte, previousUntil, now time.Time) (otw.Webhook, error) {
	var w otw.Webhook
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhooks SET previous_secret = secret, previous_secret_until = ?, secret = ?, updated_at = ? WHERE organization_id = ?`,
			ms(previousUntil), secret, ms(now), org)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return otw.Errorf(otw.ENOTFOUND, "organization %d has no webhook", org)
		}
		w, err = getWebhook(ctx, tx, org)
		return err
	})
	return w, err
}

func (s *Store) SwitchSigning(ctx context.Context, org int64, signing string, secret []byte, previousUntil, now time.Time) (otw.Webhook, error) {
	var w otw.Webhook
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE webhooks SET signing = ?1, previous_secret = secret, previous_secret_until = ?2, secret = ?3, updated_at = ?4
			WHERE organization_id = ?5 AND signing <> ?1`, signing, ms(previousUntil), secret, ms(now), org)
		if err != nil {
			return err
		}
		w, err = getWebhook(ctx, tx, org)
		return err
	})
	return w, err
}

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
	if err == nil {
		s.leases.dropOrganization(org)
	}
	return err
}

// rateLimit is a rate limit as stored: NULL for none (0).
func rateLimit(n int) any {
	if n <= 0 {
		return nil
	}
	return n
}

func (s *Store) SealedSecret(ctx context.Context) ([]byte, error) {
	var secret []byte
	err := s.r.QueryRowContext(ctx, `SELECT secret FROM webhooks LIMIT 1`).Scan(&secret)
	if err == sql.ErrNoRows {
		return nil, otw.Errorf(otw.ENOTFOUND, "no webhook has a signing secret yet")
	}
	return secret, interpret(err)
}
