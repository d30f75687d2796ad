package otw

import (
	"encoding/json"
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
}

// Delivery is one event on its way to one webhook.
type Delivery struct {
	ID             string
	EventID        string
	OrganizationID int64
	EventType      string
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
}

// Attempt is one HTTP request of a delivery, kept forever.
type Attempt struct {
	N            int
	StartedAt    time.Time
	DurationMs   int64
	StatusCode   *int
	Error        string
	ResponseBody string
}
