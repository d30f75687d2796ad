package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

const webhookColumns = `organization_id, enabled, url, subscribed_events, state, disabled_reason,
	secret, previous_secret, previous_secret_until, coalesce(rate_limit, 0), signing, coalesce(filters::text, ''), created_at, updated_at`

func scanWebhook(row pgx.Row) (otw.Webhook, error) {
	var w otw.Webhook
	var prevUntil *int64
	var created, updated int64
	var filters string
	err := row.Scan(&w.OrganizationID, &w.Enabled, &w.URL, &w.SubscribedEvents, &w.State, &w.DisabledReason,
		&w.Secret, &w.PreviousSecret, &prevUntil, &w.RateLimit, &w.Signing, &filters, &created, &updated)
	if err != nil {
		return w, err
	}
	if w.Filters, err = store.DecodeFilters(filters); err != nil {
		return w, err
	}
	w.PreviousSecretUntil = nullMs(prevUntil)
	w.CreatedAt, w.UpdatedAt = fromMs(created), fromMs(updated)
	return w, nil
}

// querier is what a pool and a transaction have in common.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func getWebhook(ctx context.Context, q querier, org int64) (otw.Webhook, error) {
	w, err := scanWebhook(q.QueryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE organization_id = $1`, org))
	if err == pgx.ErrNoRows {
		return w, otw.Errorf(otw.ENOTFOUND, "organization %d has no webhook", org)
	}
	return w, interpret(err)
}

func (s *Store) GetWebhook(ctx context.Context, org int64) (otw.Webhook, error) {
	return getWebhook(ctx, s.pool, org)
}

func (s *Store) SaveWebhook(ctx context.Context, org int64, set otw.WebhookSettings, secret []byte, now time.Time) (otw.Webhook, error) {
	var w otw.Webhook
	filters, err := store.EncodeFilters(set.Filters)
	if err != nil {
		return w, err
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if err := orgExists(ctx, tx, org); err != nil {
			return err
		}
		var rateLimit *int32 // NULL is no limit
		if set.RateLimit > 0 {
			n := int32(set.RateLimit)
			rateLimit = &n
		}
		events := set.SubscribedEvents
		if events == nil {
			events = []string{} // the column is NOT NULL
		}
		// Saving enabled is the organization saying "try again": a webhook
		// the service disabled becomes active. Saving it switched off keeps
		// the service's verdict on show.
		_, err := tx.Exec(ctx, `
			INSERT INTO webhooks (organization_id, enabled, url, subscribed_events, state, secret, rate_limit, signing, filters, created_at, updated_at)
			VALUES ($1, $2, $3, $4, 'active', $5, $7, $8, $9::jsonb, $6, $6)
			ON CONFLICT (organization_id) DO UPDATE SET
				enabled = excluded.enabled, url = excluded.url, subscribed_events = excluded.subscribed_events,
				rate_limit = excluded.rate_limit, filters = excluded.filters,
				state = CASE WHEN excluded.enabled THEN 'active' ELSE webhooks.state END,
				disabled_reason = CASE WHEN excluded.enabled THEN '' ELSE webhooks.disabled_reason END,
				failing_since = CASE WHEN excluded.enabled AND webhooks.state <> 'active' THEN NULL ELSE webhooks.failing_since END,
				updated_at = excluded.updated_at`,
			org, set.Enabled, set.URL, events, secret, ms(now), rateLimit, otw.SigningOrDefault(set.Signing), filters)
		if err != nil {
			return err
		}
		if set.Enabled {
			// Pending deliveries held back while it was off are due now.
			if err := notify(ctx, tx); err != nil {
				return err
			}
		}
		w, err = getWebhook(ctx, tx, org)
		return err
	})
	return w, err
}

func (s *Store) RotateSecret(ctx context.Context, org int64, secret []byte, previousUntil, now time.Time) (otw.Webhook, error) {
	var w otw.Webhook
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE webhooks SET previous_secret = secret, previous_secret_until = $1, secret = $2, updated_at = $3 WHERE organization_id = $4`,
			ms(previousUntil), secret, ms(now), org)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return otw.Errorf(otw.ENOTFOUND, "organization %d has no webhook", org)
		}
		w, err = getWebhook(ctx, tx, org)
		return err
	})
	return w, err
}

func (s *Store) SwitchSigning(ctx context.Context, org int64, signing string, secret []byte, previousUntil, now time.Time) (otw.Webhook, error) {
	var w otw.Webhook
	err := s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE webhooks SET signing = $1, previous_secret = secret, previous_secret_until = $2, secret = $3, updated_at = $4
			WHERE organization_id = $5 AND signing <> $1`, signing, ms(previousUntil), secret, ms(now), org)
		if err != nil {
			return err
		}
		w, err = getWebhook(ctx, tx, org)
		return err
	})
	return w, err
}

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

func (s *Store) SealedSecret(ctx context.Context) ([]byte, error) {
	var secret []byte
	err := s.pool.QueryRow(ctx, `SELECT secret FROM webhooks LIMIT 1`).Scan(&secret)
	if err == pgx.ErrNoRows {
		return nil, otw.Errorf(otw.ENOTFOUND, "no webhook has a signing secret yet")
	}
	return secret, interpret(err)
}
