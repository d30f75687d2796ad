package storetest

import (
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// prune runs PruneEvents from after and fails the test on an error.
func prune(t *testing.T, s store.Store, cutoff time.Time, after int64, limit int) (int64, int) {
	t.Helper()
	next, removed, err := s.PruneEvents(t.Context(), store.PruneParams{Before: cutoff, KeyedBefore: cutoff, After: after, Limit: limit})
	if err != nil {
		t.Fatalf("PruneEvents: %v", err)
	}
	return next, removed
}

var pruneTests = map[string]func(*testing.T, store.Store){
	"RemovesWhatIsOldAndDoneKeepsPendingAndYoung": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		old := t0.Add(-2 * time.Hour)
		succeeded := deliver(t, s, org1, "", old)
		sendOnce(t, s, succeeded, otw.DeliverySucceeded, 200, old)
		failed := deliver(t, s, org1, "", old)
		sendOnce(t, s, failed, otw.DeliveryFailed, 500, old)
		pending := deliver(t, s, org1, "m:1", old)
		unrouted := insert(t, s, old, event(org2, "case_resolved", "", old)) // no organization: no delivery
		if unrouted[0].DeliveryID != "" {
			t.Fatal("an event of an unknown organization got a delivery")
		}
		young := deliver(t, s, org1, "m:1", t0) // behind the pending one

		next, removed := prune(t, s, t0.Add(-time.Hour), 0, 100)
		if removed != 3 {
			t.Fatalf("removed %d, want the succeeded, the failed and the unrouted old events", removed)
		}
		for _, id := range []string{succeeded, failed} {
			if _, err := s.GetDelivery(t.Context(), org1, id); !otw.IsNotFound(err) {
				t.Fatalf("GetDelivery of a pruned delivery: %v, want not found", err)
			}
		}
		for _, id := range []string{pending, young} {
			if d := getDelivery(t, s, org1, id); d.Status != otw.DeliveryPending {
				t.Fatalf("%s: status %q after pruning, want kept pending", id, d.Status)
			}
		}
		// Nothing older is left after the cursor: it stays.
		if again, n := prune(t, s, t0.Add(-time.Hour), next, 100); again != next || n != 0 {
			t.Fatalf("a second step from %d moved to %d and removed %d; want nothing left", next, again, n)
		}
		// The pending one is removed once it is done and the pass starts over.
		sendOnce(t, s, pending, otw.DeliverySucceeded, 200, t0)
		if _, n := prune(t, s, t0.Add(-time.Hour), 0, 100); n != 1 {
			t.Fatalf("removed %d once the pending delivery succeeded, want 1", n)
		}
		if got := list(t, s, store.ListParams{OrganizationID: org1, Limit: 10}); len(got) != 1 || got[0].ID != young {
			t.Fatalf("left %v, want only the young delivery", deliveryIDs(got))
		}
	},
	"StepsOfLimitMoveTheCursor": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		old := t0.Add(-2 * time.Hour)
		for range 5 {
			sendOnce(t, s, deliver(t, s, org1, "", old), otw.DeliverySucceeded, 200, old)
		}
		var after int64
		var steps []int
		for {
			next, n := prune(t, s, t0, after, 2)
			if next == after {
				break
			}
			steps, after = append(steps, n), next
		}
		if len(steps) != 3 || steps[0] != 2 || steps[1] != 2 || steps[2] != 1 {
			t.Fatalf("steps of 2 over 5 old events removed %v, want [2 2 1]", steps)
		}
	},
	"KeyedEventStaysUntilItsKeyExpires": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		old := t0.Add(-2 * time.Hour)
		e := event(org1, "case_resolved", "", old)
		e.IdempotencyKey = "publish-7"
		id := insert(t, s, old, e)[0].DeliveryID
		sendOnce(t, s, id, otw.DeliverySucceeded, 200, old)
		// Past the retention, but its key is still remembered.
		p := store.PruneParams{Before: t0, KeyedBefore: old, Limit: 100}
		if _, n, err := s.PruneEvents(t.Context(), p); err != nil || n != 0 {
			t.Fatalf("removed %d (%v) while its Idempotency-Key is remembered, want 0", n, err)
		}
		again := e
		again.ID = otw.NewID("evt_", t0)
		if in := insert(t, s, t0, again); !in[0].Existing || in[0].EventID != e.ID {
			t.Fatalf("a repeated publish after the retention stored %+v, want the first event", in[0])
		}
		p.KeyedBefore = t0
		if _, n, err := s.PruneEvents(t.Context(), p); err != nil || n != 1 {
			t.Fatalf("removed %d (%v) once its key expired, want 1", n, err)
		}
	},
	"RetriedOldDeliveryIsKept": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		old := t0.Add(-2 * time.Hour)
		id := deliver(t, s, org1, "", old)
		sendOnce(t, s, id, otw.DeliveryFailed, 500, old)
		if err := s.RetryDelivery(t.Context(), org1, id, t0); err != nil {
			t.Fatal(err)
		}
		if _, n := prune(t, s, t0, 0, 100); n != 0 {
			t.Fatalf("removed %d: a delivery retried (pending again) was pruned", n)
		}
		if d := getDelivery(t, s, org1, id); d.Status != otw.DeliveryPending || len(d.Attempts) != 1 {
			t.Fatalf("retried old delivery: status %q, %d attempts; want pending with its attempt", d.Status, len(d.Attempts))
		}
	},
}
