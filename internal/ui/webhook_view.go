package ui

import (
	"context"

	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// webhookPage is the Integration › Webhooks page: the settings as they
// stand, the signing secret (when revealed) and the test-event form.
type webhookPage struct {
	Webhook *otw.Webhook // nil before the first save
	Types   []typeRow
	Filters []filterLine
	// Secret is shown only in the answer to a reveal or rotate POST; an
	// Ed25519 webhook's public key, no secret, is always shown.
	Secret        string
	Ed25519       bool
	PreviousUntil string
}

// typeRow is one event type with whether the webhook takes it.
type typeRow struct {
	Name, Description string
	Checked           bool
}

func typeRows(subscribed []string) []typeRow {
	var rows []typeRow
	for _, t := range event.Types() {
		row := typeRow{Name: t.Name, Description: t.Description}
		for _, s := range subscribed {
			row.Checked = row.Checked || s == t.Name
		}
		rows = append(rows, row)
	}
	return rows
}

// loadWebhookPage reads the organization's webhook; none yet is not an
// error but the page's empty state.
func (u *UI) loadWebhookPage(ctx context.Context, org int64) (webhookPage, error) {
	wh, err := u.svc.GetWebhook(ctx, org)
	switch {
	case otw.IsNotFound(err):
		return webhookPage{Types: typeRows(nil)}, nil
	case err != nil:
		return webhookPage{}, err
	}
	p := webhookPage{Webhook: &wh, Types: typeRows(wh.SubscribedEvents), Filters: filterLines(wh.Filters),
		Ed25519: wh.Signing == otw.SigningEd25519}
	if !p.Ed25519 {
		return p, nil
	}
	// An Ed25519 webhook's public key is no secret: always shown.
	if p.Secret, err = u.svc.OpenReceiverKey(wh); err != nil {
		return webhookPage{}, err
	}
	return p, nil
}
