package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

func (s *Store) webhookColumns() string {
	return `organization_id, enabled, url, ` + s.d.EventsText + `, state, disabled_reason,
		secret, previous_secret, previous_secret_until, coalesce(rate_limit, 0), signing, ` + s.d.FiltersText + `, created_at, updated_at`
}

func scanWebhook(row Row) (otw.Webhook, error) {
	var w otw.Webhook
	var events, filters string
	var prevUntil *int64
	var created, updated int64
	err := row.Scan(&w.OrganizationID, &w.Enabled, &w.URL, &events, &w.State, &w.DisabledReason,
		&w.Secret, &w.PreviousSecret, &prevUntil, &w.RateLimit, &w.Signing, &filters, &created, &updated)
	if err != nil {
		return w, err
	}
	// Split("") is [""]: a webhook that takes no event would seem to take
	// the empty type, and show it.
	w.SubscribedEvents = []string{}
	if events != "" {
		w.SubscribedEvents = strings.Split(events, ",")
	}
	if w.Filters, err = store.DecodeFilters(filters); err != nil {
		return w, err
	}
	w.PreviousSecretUntil = NullTime(prevUntil)
	w.CreatedAt, w.UpdatedAt = fromMs(created), fromMs(updated)
	return w, nil
}

// webhook reads the organization's webhook with q; ENOTFOUND when it has
// none.
func (s *Store) webhook(ctx context.Context, q Reader, org int64) (otw.Webhook, error) {
	w, err := scanWebhook(q.QueryRow(ctx, `SELECT `+s.webhookColumns()+` FROM webhooks WHERE organization_id = $1`, org))
	return w, s.db.NotFound(err, "organization %d has no webhook", org)
}

func (s *Store) GetWebhook(ctx context.Context, org int64) (otw.Webhook, error) {
	w, err := s.webhook(ctx, s.db, org)
	return w, s.db.Interpret(err)
}

// SaveWebhook announces a webhook saved enabled: the deliveries held back
// while it was off are due now.
func (s *Store) SaveWebhook(ctx context.Context, org int64, set otw.WebhookSettings, secret []byte, now time.Time) (otw.Webhook, error) {
	var w otw.Webhook
	filters, err := store.EncodeFilters(set.Filters)
	if err != nil {
		return w, err
	}
	var rateLimit any // NULL is no limit
	if set.RateLimit > 0 {
		rateLimit = set.RateLimit
	}
	err = s.db.Tx(ctx, func(q Querier) error {
		if err := exists(ctx, q, org); err != nil {
			return err
		}
		// Saving enabled is the organization saying "try again": a webhook
		// the service disabled becomes active. Saving it switched off keeps
		// the service's verdict on show.
		_, err := q.Exec(ctx, `
			INSERT INTO webhooks (organization_id, enabled, url, subscribed_events, state, secret, rate_limit, signing, filters, created_at, updated_at)
			VALUES ($1, $2, $3, $4, 'active', $5, $7, $8, $9, $6, $6)
			ON CONFLICT (organization_id) DO UPDATE SET
				enabled = excluded.enabled, url = excluded.url, subscribed_events = excluded.subscribed_events,
				rate_limit = excluded.rate_limit, filters = excluded.filters,
				state = CASE WHEN excluded.enabled THEN 'active' ELSE webhooks.state END,
				disabled_reason = CASE WHEN excluded.enabled THEN '' ELSE webhooks.disabled_reason END,
				failing_since = CASE WHEN excluded.enabled AND webhooks.state <> 'active' THEN NULL ELSE webhooks.failing_since END,
				updated_at = excluded.updated_at`,
			org, set.Enabled, set.URL, s.d.Events(set.SubscribedEvents), secret, ms(now), rateLimit, otw.SigningOrDefault(set.Signing), filters)
		if err != nil {
			return err
		}
		w, err = s.webhook(ctx, q, org)
		return err
	})
	if err != nil {
		return w, err
	}
	if set.Enabled {
		s.db.Announce(ctx)
	}
	return w, nil
}

func (s *Store) RotateSecret(ctx context.Context, org int64, secret []byte, previousUntil, now time.Time) (otw.Webhook, error) {
	return s.updateWebhook(ctx, org, `UPDATE webhooks SET previous_secret = secret, previous_secret_until = $2, secret = $3, updated_at = $4
		WHERE organization_id = $1`, ms(previousUntil), secret, ms(now))
}

func (s *Store) SwitchSigning(ctx context.Context, org int64, signing string, secret []byte, previousUntil, now time.Time) (otw.Webhook, error) {
	return s.updateWebhook(ctx, org, `UPDATE webhooks SET signing = $5, previous_secret = secret, previous_secret_until = $2, secret = $3, updated_at = $4
		WHERE organization_id = $1 AND signing <> $5`, ms(previousUntil), secret, ms(now), signing)
}

// updateWebhook runs update, whose $1 is the organization and args the
// rest, and reads the webhook in the same transaction; ENOTFOUND when the
// organization has none.
func (s *Store) updateWebhook(ctx context.Context, org int64, update string, args ...any) (otw.Webhook, error) {
	var w otw.Webhook
	err := s.db.Tx(ctx, func(q Querier) error {
		if _, err := q.Exec(ctx, update, append([]any{org}, args...)...); err != nil {
			return err
		}
		var err error
		w, err = s.webhook(ctx, q, org)
		return err
	})
	return w, err
}

func (s *Store) SealedSecret(ctx context.Context) ([]byte, error) {
	var secret []byte
	err := s.db.QueryRow(ctx, `SELECT secret FROM webhooks LIMIT 1`).Scan(&secret)
	return secret, s.lookup(err, "no webhook has a signing secret yet")
}
