package otw

import "time"

// Webhook states. A webhook the service has disabled (410 Gone, days without
// a success) is "disabled" until its organization saves it enabled again.
const (
	WebhookActive   = "active"
	WebhookDisabled = "disabled"
)

// Webhook is the one endpoint an organization sets.
type Webhook struct {
	OrganizationID   int64
	Enabled          bool
	URL              string
	SubscribedEvents []string
	State            string
	DisabledReason   string
	// RateLimit is the most deliveries per second the organization wants
	// sent to its endpoint; 0 means no limit.
	RateLimit int
	// Filters narrows what is sent of the subscribed types (see Filters).
	Filters Filters
	// Secret is the current signing secret, sealed at rest by the caller;
	// PreviousSecret signs beside it until PreviousSecretUntil (rotation).
	Secret              []byte
	PreviousSecret      []byte
	PreviousSecretUntil *time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// Subscribes reports whether the webhook takes events of the given type.
func (w *Webhook) Subscribes(eventType string) bool {
	for _, t := range w.SubscribedEvents {
		if t == eventType {
			return true
		}
	}
	return false
}

// WebhookSettings is what an organization saves: the rest is the service's.
type WebhookSettings struct {
	Enabled          bool
	URL              string
	SubscribedEvents []string
	RateLimit        int // deliveries per second; 0 is none
	Filters          Filters
}

// Filters holds, per subscribed event type, conditions on the fields of
// the type's payload object: field path → the values it may take, as
// strings (a number is its JSON text, a boolean "true" or "false"). An
// event is sent when every condition of its type holds (AND), and a
// condition holds when the field's value is any one listed (OR). A type
// without conditions is sent whole; nil or empty filters nothing.
type Filters map[string]map[string][]string

// MaxRateLimit bounds a webhook's rate limit: more than this many
// deliveries per second is no limit an endpoint needs, and a typo.
const MaxRateLimit = 100000
