package store

// The reasons an event is stored but not sent (Inserted.NotDelivered).
// They are part of the API's answers, so they are worded for a person.
const (
	NotDeliveredUnknownOrganization = "unknown organization"
	NotDeliveredNoWebhook           = "no webhook"
	NotDeliveredWebhookDisabled     = "webhook disabled"
	NotDeliveredNotSubscribed       = "not subscribed"
	// The webhook's filters for the type do not take the event.
	NotDeliveredFiltered = "filtered"
)

// Route is what both drivers know of an organization when they route an
// event, so that the reason is decided in one place.
type Route struct {
	Organization bool // the organization exists
	Webhook      bool // it has saved a webhook
	Enabled      bool // switched on by the organization
	Disabled     bool // state disabled: switched off by the service
}

// NotDelivered returns why an event of a type subscribed or not, passing
// the webhook's filters or not, is not sent through r, or "" when it is. A
// webhook switched off either way counts as disabled before its
// subscriptions are looked at: switching it on is what the organization
// must do first; and a type not subscribed is that before it is filtered.
func (r Route) NotDelivered(subscribed, passes bool) string {
	switch {
	case !r.Organization:
		return NotDeliveredUnknownOrganization
	case !r.Webhook:
		return NotDeliveredNoWebhook
	case !r.Enabled || r.Disabled:
		return NotDeliveredWebhookDisabled
	case !subscribed:
		return NotDeliveredNotSubscribed
	case !passes:
		return NotDeliveredFiltered
	}
	return ""
}
