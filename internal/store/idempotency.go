package store

import (
	"bytes"
	"strconv"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// A batch published under an Idempotency-Key K keeps, per event, the key
// K, a unit separator (0x1F, which no HTTP header value can hold, so no
// client's own key ever looks like one) and the event's index. A retry of
// the batch then finds each first event by its own key, as a retried
// single publish does; a retry of another length must be refused, which
// the keys alone would not do (a longer retry would store its extra events,
// a shorter one would answer part of the first). A batch is stored all or
// nothing, so when its first key was used, the earlier batch had length n
// exactly when key n-1 was used and key n was not: batchRule checks that.

// IdempotencyKey is the key an event is stored and looked up under: its
// own, or for an event of a batch, the batch's key with its index.
func IdempotencyKey(e *otw.Event) string {
	if e.BatchSize == 0 || e.IdempotencyKey == "" {
		return e.IdempotencyKey
	}
	return batchKey(e.IdempotencyKey, e.BatchIndex)
}

func batchKey(key string, i int) string { return key + "\x1f" + strconv.Itoa(i) }

// BatchProbes returns the keys, beyond the events' own, that a driver
// looks up for Resolve: one past the end of each batch.
func BatchProbes(events []otw.Event) []string {
	var keys []string
	for i := range events {
		if e := &events[i]; e.BatchSize > 0 && e.BatchIndex == 0 && e.IdempotencyKey != "" {
			keys = append(keys, batchKey(e.IdempotencyKey, e.BatchSize))
		}
	}
	return keys
}

// batchRule refuses, naming the header, a batch whose key was used within
// the IdempotencyWindow for a batch of another length. used reports
// whether a key was used within the window.
func batchRule(events []otw.Event, used func(key string) bool) error {
	for i := range events {
		e := &events[i]
		if e.BatchSize == 0 || e.BatchIndex != 0 || e.IdempotencyKey == "" || !used(IdempotencyKey(e)) {
			continue
		}
		if !used(batchKey(e.IdempotencyKey, e.BatchSize-1)) || used(batchKey(e.IdempotencyKey, e.BatchSize)) {
			return reusedKey()
		}
	}
	return nil
}

// reusedKey is the error for an Idempotency-Key used within the window
// with another body, or for a batch of another length.
func reusedKey() error {
	return otw.Invalid("this Idempotency-Key was used with another body",
		otw.FieldError{Field: "Idempotency-Key", Message: "already used with a different body in the last 24 hours"})
}

// FirstEvent is what a driver finds under an idempotency key: the first
// event stored with it within the IdempotencyWindow, and its delivery (""
// when it has none).
type FirstEvent struct {
	ID, DeliveryID string
	Body           []byte
}

// Resolve answers the events whose key found a first event (found, asked
// of each event's IdempotencyKey and of the BatchProbes) with that event,
// Existing, in out, and returns the indexes of the events still to insert.
// It refuses, naming the header, a key used with another body and a
// batch's key used for a batch of another length; except for the
// platform's operational events (organization otw.OpsOrganizationID), which
// the service builds with a key derived from their cause: a second one of
// a cause (a webhook.recovered of the same failing period, told by a later
// success) is the same event told again at another time, and the first
// stands.
func Resolve(events []otw.Event, out []Inserted, found func(key string) (FirstEvent, bool)) ([]int, error) {
	if err := batchRule(events, func(key string) bool { _, ok := found(key); return ok }); err != nil {
		return nil, err
	}
	fresh := make([]int, 0, len(events))
	for i := range events {
		e := &events[i]
		key := IdempotencyKey(e)
		f, ok := found(key)
		switch {
		case key == "" || !ok:
			fresh = append(fresh, i)
		case !bytes.Equal(f.Body, e.Body) && e.OrganizationID != otw.OpsOrganizationID:
			return nil, reusedKey()
		default:
			out[i] = Inserted{EventID: f.ID, DeliveryID: f.DeliveryID, Existing: true}
		}
	}
	return fresh, nil
}
