package otw

import (
	"encoding/json"
	"strings"
	"time"
)

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
)

// Event is one accepted event as the platform published it.
type Event struct {
	ID             string
	OrganizationID int64
	Type           string
	// OrderKey groups the events that must reach a receiver in publish
	// order: "m:"+trxID or "c:"+caseID. Empty means no order is owed.
	OrderKey string
	// Body is the published JSON, compacted: what the receiver gets.
	Body      []byte
	CreatedAt time.Time
	// IdempotencyKey, when set, makes a second publish with the same key
	// return this event instead of creating another.
	IdempotencyKey string
	// BatchSize is set for an event published in a batch under an
	// Idempotency-Key: the batch's length, with BatchIndex the event's
	// place in it and IdempotencyKey the batch's key. A retried batch
	// returns its first events one by one (store.IdempotencyKey).
	BatchIndex, BatchSize int
	// TraceParent is the W3C traceparent of the publish's span, which the
	// delivery attempts continue; "" when tracing is off.
	TraceParent string
}

// Delivery is one event on its way to one webhook.
type Delivery struct {
	ID             string
	EventID        string
	OrganizationID int64
	EventType      string
	OrderKey       string // the event's: see Event.OrderKey
	Status         string
	AttemptCount   int
	NextAttemptAt  *time.Time
	LastStatusCode *int
	LastError      string
	CreatedAt      time.Time
	SucceededAt    *time.Time

	// Filled by the detail view only.
	Payload  json.RawMessage
	Attempts []Attempt
	// WaitingFor says what holds a pending delivery back; nil when it
	// is not pending or nothing does.
	WaitingFor *Wait
}

// IsTest reports whether the delivery is of a test event ("Send test
// event"), which its order key says: see TestOrderKey.
func (d Delivery) IsTest() bool { // a value receiver: templates call it on values
	return strings.HasPrefix(d.OrderKey, testOrderKeyPrefix)
}

// testOrderKeyPrefix starts the order key of every test event. Published
// events have keys of "m:" or "c:" and a key is never taken from input, so
// no published event can be taken for a test.
const testOrderKeyPrefix = "test:"

// TestOrderKey is the order key of a test event: one of its own, so that a
// test, which carries the example's fixed trxID or caseID, never waits
// behind real traffic of that message or case (nor holds it up), and the
// log can tell it was a test.
func TestOrderKey(eventID string) string {
	return testOrderKeyPrefix + eventID
}

// Wait is what a pending delivery waits for: an earlier pending delivery
// of its order key (DeliveryID, the nearest one), which must succeed or
// fail first, or else its webhook's rate limit (deliveries per second).
type Wait struct {
	DeliveryID string
	RateLimit  int
}

// Attempt is one HTTP request of a delivery, kept forever.
type Attempt struct {
	N            int
	StartedAt    time.Time
	DurationMs   int64
	StatusCode   *int
	Error        string
	ResponseBody string
	// URL is where the attempt went: the webhook's URL when it was made,
	// which may since have changed ("" for attempts recorded before URLs
	// were kept).
	URL string
}
