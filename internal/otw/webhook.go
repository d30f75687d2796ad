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
	// Signing is the signature scheme, SigningHMAC or SigningEd25519.
	Signing string
	// Filters narrows what is sent of the subscribed types (see Filters).
	Filters Filters
	// Secret is the current signing secret ("whsec_…" or, for Ed25519,
	// "whsk_…"), sealed at rest by the caller; PreviousSecret signs beside
	// it until PreviousSecretUntil (rotation, or a switch of scheme).
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
	// Signing is the signature scheme; "" is SigningHMAC.
	Signing string
	Filters Filters
}

// Signature schemes of Standard Webhooks. HMAC ("v1") signs with a secret
// the receiver shares; Ed25519 ("v1a") signs with a private key only the
// service holds, and a receiver verifies with the public key.
const (
	SigningHMAC    = "hmac-sha256"
	SigningEd25519 = "ed25519"
)

// SigningOrDefault is the scheme s names, "" being SigningHMAC.
func SigningOrDefault(s string) string {
	if s == "" {
		return SigningHMAC
	}
	return s
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
