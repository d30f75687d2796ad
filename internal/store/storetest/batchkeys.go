package storetest

import (
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// keyedBatch returns n events of a batch published under key at.
func keyedBatch(key string, n int, at time.Time) []otw.Event {
	events := make([]otw.Event, n)
	for i := range events {
		events[i] = event(org1, "case_resolved", "", at)
		events[i].IdempotencyKey, events[i].BatchIndex, events[i].BatchSize = key, i, n
	}
	return events
}

// retried is events published again an hour later: new IDs, same bodies
// and keys, with the batch's length made n (the bodies of the extra events
// new).
func retried(events []otw.Event, n int) []otw.Event {
	later := t0.Add(time.Hour)
	out := keyedBatch(events[0].IdempotencyKey, n, later)
	for i := range min(n, len(events)) {
		out[i].Body = events[i].Body
	}
	return out
}

var batchKeyTests = map[string]func(*testing.T, store.Store){
	"SameBatchReturnsTheFirst": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		first := keyedBatch("batch-1", 3, t0)
		in1 := insert(t, s, t0, first...)
		in2 := insert(t, s, t0.Add(time.Hour), retried(first, 3)...)
		for i := range in2 {
			if !in2[i].Existing || in2[i].EventID != first[i].ID || in2[i].DeliveryID != in1[i].DeliveryID {
				t.Fatalf("retried event %d = %+v, want existing %s / %s", i, in2[i], first[i].ID, in1[i].DeliveryID)
			}
		}
		if ds := list(t, s, store.ListParams{OrganizationID: org1}); len(ds) != 3 {
			t.Fatalf("%d deliveries after a retried batch of 3, want 3", len(ds))
		}
	},
	"OtherBodyOrLengthInvalid": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		first := keyedBatch("batch-1", 3, t0)
		insert(t, s, t0, first...)
		changed := retried(first, 3)
		changed[2].Body = []byte(`{"changed":true}`)
		for name, events := range map[string][]otw.Event{
			"one body changed": changed,
			"one event more":   retried(first, 4),
			"one event less":   retried(first, 2),
			"only the first":   retried(first, 1),
		} {
			_, _, err := s.InsertEvents(t.Context(), events, t0.Add(time.Hour), store.Take{})
			wantCode(t, err, otw.EINVALID, "a batch's Idempotency-Key again with "+name)
			wantField(t, err, "Idempotency-Key")
		}
		if ds := list(t, s, store.ListParams{OrganizationID: org1}); len(ds) != 3 {
			t.Fatalf("%d deliveries after refused retries, want the first batch's 3", len(ds))
		}
	},
	"ApartFromSingleKeys": func(t *testing.T, s store.Store) {
		// A key names one request of its own endpoint: a single publish
		// under a batch's key is not one of the batch's events.
		newSubscribedOrg(t, s, org1)
		batch := keyedBatch("key-1", 2, t0)
		insert(t, s, t0, batch...)
		single := batch[0]
		single.ID, single.BatchIndex, single.BatchSize = otw.NewID("evt_", t0), 0, 0
		if in := insert(t, s, t0, single)[0]; in.Existing || in.EventID != single.ID {
			t.Fatalf("single publish under a batch's key = %+v, want the new event %s", in, single.ID)
		}
	},
	"OneBatchOfEachLengthInOneCall": func(t *testing.T, s store.Store) {
		// Two batches under two keys committed together, then both
		// retried together: each finds its own.
		newSubscribedOrg(t, s, org1)
		a, b := keyedBatch("a", 1, t0), keyedBatch("b", 2, t0)
		first := insert(t, s, t0, append(append([]otw.Event{}, a...), b...)...)
		again := insert(t, s, t0.Add(time.Hour), append(retried(a, 1), retried(b, 2)...)...)
		for i := range again {
			if !again[i].Existing || again[i].EventID != first[i].EventID {
				t.Fatalf("retried event %d = %+v, want existing %s", i, again[i], first[i].EventID)
			}
		}
	},
}
