package storetest

import (
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

var insertEventTests = map[string]func(*testing.T, store.Store){
	"NoDeliveryWithoutARoute": func(t *testing.T, s store.Store) {
		const none, off, other = 1, 2, 3 // no webhook, switched off, not subscribed
		newOrg(t, s, none)
		newOrg(t, s, off)
		saveWebhook(t, s, off, false, "case_resolved")
		newOrg(t, s, other)
		saveWebhook(t, s, other, true, "integration_message_status")
		events := []otw.Event{event(none, "case_resolved", "", t0), event(off, "case_resolved", "", t0), event(other, "case_resolved", "", t0)}
		for i, in := range insert(t, s, t0, events...) {
			if in.EventID != events[i].ID || in.DeliveryID != "" || in.Existing {
				t.Errorf("event %d: %+v, want its own ID, no delivery, not existing", i, in)
			}
		}
		for _, org := range []int64{none, off, other} {
			if ds := list(t, s, store.ListParams{OrganizationID: org}); len(ds) != 0 {
				t.Errorf("organization %d lists %d deliveries, want none", org, len(ds))
			}
		}
	},
	"SubscribedGetsPendingDeliveryDueNow": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		e := event(org1, "case_resolved", "c:7", t0)
		in := insert(t, s, t0, e)[0]
		if in.EventID != e.ID || in.DeliveryID == "" || in.Existing {
			t.Fatalf("InsertEvents = %+v, want event %s with a new delivery", in, e.ID)
		}
		d := getDelivery(t, s, org1, in.DeliveryID)
		if d.EventID != e.ID || d.OrganizationID != org1 || d.EventType != "case_resolved" || d.Status != otw.DeliveryPending ||
			d.AttemptCount != 0 || !d.CreatedAt.Equal(t0) || d.SucceededAt != nil || d.LastStatusCode != nil {
			t.Fatalf("new delivery = %+v", d)
		}
		wantTime(t, "NextAttemptAt", d.NextAttemptAt, t0)
		wantBytes(t, "Payload", d.Payload, e.Body)
		if len(d.Attempts) != 0 {
			t.Fatalf("new delivery has attempts %+v", d.Attempts)
		}
	},
	"DisabledByServiceRecordsFailed": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		const reason = "no success for 5 days"
		if err := s.DisableWebhook(t.Context(), org1, reason, t0); err != nil {
			t.Fatal(err)
		}
		in := insert(t, s, t0, event(org1, "case_resolved", "", t0))[0]
		if in.DeliveryID == "" {
			t.Fatal("no delivery for a webhook the service disabled: the log would not show it")
		}
		d := getDelivery(t, s, org1, in.DeliveryID)
		if d.Status != otw.DeliveryFailed || d.LastError != reason {
			t.Fatalf("delivery status %q last error %q, want failed with %q", d.Status, d.LastError, reason)
		}
		if c := claim(t, s, claimParams(t0)); len(c) != 0 {
			t.Fatalf("claimed %v for a disabled webhook", claimedIDs(c))
		}
	},
	"IdempotencyKeySameBodyReturnsFirst": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		first := event(org1, "case_resolved", "", t0)
		first.IdempotencyKey = "idem-1"
		in1 := insert(t, s, t0, first)[0]

		again := first
		again.ID = otw.NewID("evt_", t0.Add(time.Hour))
		again.CreatedAt = t0.Add(time.Hour)
		in2 := insert(t, s, again.CreatedAt, again)[0]
		if !in2.Existing || in2.EventID != first.ID || in2.DeliveryID != in1.DeliveryID {
			t.Fatalf("second publish = %+v, want existing %s / %s", in2, first.ID, in1.DeliveryID)
		}
		if ds := list(t, s, store.ListParams{OrganizationID: org1}); len(ds) != 1 {
			t.Fatalf("%d deliveries after a repeated publish, want 1", len(ds))
		}
	},
	"IdempotencyKeyOtherBodyInvalid": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		first := event(org1, "case_resolved", "", t0)
		first.IdempotencyKey = "idem-1"
		insert(t, s, t0, first)

		other := event(org1, "case_resolved", "", t0.Add(time.Hour))
		other.IdempotencyKey = "idem-1"
		_, _, err := s.InsertEvents(t.Context(), []otw.Event{other}, other.CreatedAt, store.Take{})
		wantCode(t, err, otw.EINVALID, "same Idempotency-Key with another body")
		wantField(t, err, "Idempotency-Key")
		if ds := list(t, s, store.ListParams{OrganizationID: org1}); len(ds) != 1 {
			t.Fatalf("%d deliveries after a refused publish, want 1", len(ds))
		}
	},
	"IdempotencyKeyForgottenAfterWindow": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		first := event(org1, "case_resolved", "", t0)
		first.IdempotencyKey = "idem-1"
		insert(t, s, t0, first)

		// Just inside the window the key still holds...
		inside := t0.Add(store.IdempotencyWindow - time.Millisecond)
		again := first
		again.ID, again.CreatedAt = otw.NewID("evt_", inside), inside
		if in := insert(t, s, inside, again)[0]; !in.Existing {
			t.Fatalf("publish %v after the first: %+v, want existing", inside.Sub(t0), in)
		}
		// ...and after it the same key makes a new event.
		after := t0.Add(store.IdempotencyWindow + time.Second)
		again.ID, again.CreatedAt = otw.NewID("evt_", after), after
		in := insert(t, s, after, again)[0]
		if in.Existing || in.EventID != again.ID || in.DeliveryID == "" {
			t.Fatalf("publish after the window = %+v, want new event %s with a delivery", in, again.ID)
		}
		if ds := list(t, s, store.ListParams{OrganizationID: org1}); len(ds) != 2 {
			t.Fatalf("%d deliveries, want 2", len(ds))
		}
	},
	"BatchOf1000": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		events := make([]otw.Event, 1000)
		for i := range events {
			events[i] = event(org1, "case_resolved", "", t0)
		}
		seen := make(map[string]bool, len(events))
		for i, in := range insert(t, s, t0, events...) {
			if in.EventID != events[i].ID || in.DeliveryID == "" || seen[in.DeliveryID] {
				t.Fatalf("event %d: %+v, want its own ID and a new delivery", i, in)
			}
			seen[in.DeliveryID] = true
		}
		if ds := list(t, s, store.ListParams{OrganizationID: org1}); len(ds) != 1000 {
			t.Fatalf("%d deliveries listed, want 1000", len(ds))
		}
	},
	"BatchIsAllOrNothing": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		a, b := event(org1, "case_resolved", "", t0), event(org1, "case_resolved", "", t0)
		dup := a
		dup.Body = []byte(`{"duplicate":true}`)
		if _, _, err := s.InsertEvents(t.Context(), []otw.Event{a, b, dup}, t0, store.Take{}); err == nil {
			t.Fatal("InsertEvents accepted a batch with a duplicate event ID")
		}
		if ds := list(t, s, store.ListParams{OrganizationID: org1}); len(ds) != 0 {
			t.Fatalf("%d deliveries after a failed batch, want none", len(ds))
		}
		// Had a or b been kept, inserting them again would conflict.
		insert(t, s, t0, a, b)
	},
}
