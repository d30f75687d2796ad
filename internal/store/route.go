package store

import (
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// Route is what an insert knows of an organization when it routes the
// organization's events, read once per insert, and what a delivery sent
// through its webhook needs. Both drivers route through it, so that an
// event gets the same delivery and the same reason on either.
type Route struct {
	Organization bool // the organization exists
	// Webhook is nil before the first save. Its PreviousSecret is set only
	// during a rotation.
	Webhook      *otw.Webhook
	FailingSince *time.Time    // the webhook's (see Claimed)
	Filter       *event.Filter // the webhook's filters, compiled; nil: none
}

// Decide routes e: it returns the status of the delivery e gets, "" for
// none, and why e is not sent now (one of the NotDelivered… reasons, ""
// when it is). A webhook switched on and subscribed to e's type, whose
// filters for the type pass e, gets a pending delivery; failed instead
// when the service has disabled the webhook: recorded, not dropped, so
// that the log shows it and a recover sends it once the webhook is active
// again (its last error is the webhook's DisabledReason). So a delivery is
// pending exactly when its reason is "".
//
// A webhook switched off either way counts as disabled before its
// subscriptions are looked at: switching it on is what the organization
// must do first; and a type not subscribed is that before it is filtered.
// The filters are matched once, and only for a subscribed type.
func (r Route) Decide(e *otw.Event) (status, reason string) {
	w := r.Webhook
	switch {
	case !r.Organization:
		return "", NotDeliveredUnknownOrganization
	case w == nil:
		return "", NotDeliveredNoWebhook
	}
	subscribed := w.Subscribes(e.Type)
	passes := subscribed && r.Filter.Match(e.Type, e.Body)
	disabled := w.State == otw.WebhookDisabled
	switch {
	case !w.Enabled || disabled:
		reason = NotDeliveredWebhookDisabled
	case !subscribed:
		reason = NotDeliveredNotSubscribed
	case !passes:
		reason = NotDeliveredFiltered
	}
	switch {
	case !w.Enabled || !passes:
		return "", reason
	case disabled:
		return otw.DeliveryFailed, reason
	}
	return otw.DeliveryPending, reason
}

// Claimed starts the Claimed of a delivery sent through the route's
// webhook, leased until leaseUntil; the caller fills in the delivery.
func (r Route) Claimed(leaseUntil time.Time) Claimed {
	w := r.Webhook
	return Claimed{Lease: Lease{LeaseUntil: Millis(leaseUntil)}, OrganizationID: w.OrganizationID, URL: w.URL,
		Secret: w.Secret, PreviousSecret: w.PreviousSecret, FailingSince: r.FailingSince, RateLimit: w.RateLimit}
}

// Taken is the Claimed of the delivery id (seq) that an insert at now made
// for e and took, leased until leaseUntil (see Take): what a claim of it
// would give.
func (r Route) Taken(e *otw.Event, id string, seq int64, leaseUntil, now time.Time) Claimed {
	c := r.Claimed(leaseUntil)
	c.DeliverySeq, c.DeliveryID, c.EventID, c.EventType, c.OrderKey = seq, id, e.ID, e.Type, e.OrderKey
	c.EventCreatedAt = Millis(e.CreatedAt)
	c.CreatedAt, c.Body, c.TraceParent = Millis(now), e.Body, e.TraceParent
	return c
}

// Millis is t as a store keeps it: to the millisecond, in UTC.
func Millis(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }
