package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

var takeTests = map[string]func(*testing.T, store.Store){
	"FirstInLineUpToRoom": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		waiting := deliver(t, s, org1, "c:3", t0) // an earlier delivery of c:3, pending
		events := []otw.Event{
			event(org1, "case_resolved", "c:1", t0), // taken
			event(org1, "case_resolved", "c:1", t0), // second of its key: waits for the first
			event(org1, "case_resolved", "c:3", t0), // waits for the earlier one in the database
			event(org1, "case_resolved", "", t0),    // taken
			event(org1, "case_resolved", "", t0),    // taken: the room is 3
			event(org1, "case_resolved", "", t0),    // no room left
		}
		take := store.Take{LeaseUntil: t0.Add(time.Minute), Room: map[int64]int{org1: 3}}
		in, taken, err := s.InsertEvents(t.Context(), events, t0, take)
		if err != nil {
			t.Fatal(err)
		}
		wantTaken := []bool{true, false, false, true, true, false}
		for i := range events {
			if in[i].Taken != wantTaken[i] {
				t.Errorf("event %d (key %q): Taken = %v, want %v", i, events[i].OrderKey, in[i].Taken, wantTaken[i])
			}
		}
		if len(taken) != 3 {
			t.Fatalf("%d taken, want 3", len(taken))
		}
		for _, c := range taken {
			i := indexOfEvent(events, c.EventID)
			if i < 0 || c.DeliveryID != in[i].DeliveryID || c.OrganizationID != org1 || c.EventType != "case_resolved" ||
				c.OrderKey != events[i].OrderKey || c.AttemptCount != 0 || !c.CreatedAt.Equal(t0) ||
				c.URL != "https://hooks.example.com/1001" || string(c.Secret) != string(secretA) || c.PreviousSecret != nil ||
				c.FailingSince != nil || !c.LeaseUntil.Equal(take.LeaseUntil) || c.DeliverySeq == 0 {
				t.Fatalf("taken %+v: not what a claim of event %d would give", c, i)
			}
			wantBytes(t, "taken Body", c.Body, events[i].Body)
		}
		// Leased as a claim leases: the next claim takes the earlier c:3
		// and the event that found no room, nothing else.
		wantSameIDs(t, "claimed after the insert", claimedIDs(claim(t, s, claimParams(t0))), waiting, in[5].DeliveryID)

		// A taken delivery's outcome is written like a claimed one's.
		complete(t, s, result(taken[0], otw.DeliverySucceeded, 200, t0))
		if d := getDelivery(t, s, org1, taken[0].DeliveryID); d.Status != otw.DeliverySucceeded || len(d.Attempts) != 1 {
			t.Fatalf("taken delivery after its outcome: status %q with %d attempts, want succeeded with 1", d.Status, len(d.Attempts))
		}
	},
	"NothingWithoutRoomOrRoute": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		newSubscribedOrg(t, s, org2)
		if err := s.DisableWebhook(t.Context(), org2, "the endpoint answered 410 Gone", t0); err != nil {
			t.Fatal(err)
		}
		newSubscribedOrg(t, s, org3)
		take := store.Take{LeaseUntil: t0.Add(time.Minute), Room: map[int64]int{org2: 5, org3: 5}}
		in, taken, err := s.InsertEvents(t.Context(), []otw.Event{
			event(org1, "case_resolved", "", t0),              // no room given
			event(org2, "case_resolved", "", t0),              // recorded failed: the webhook is disabled
			event(org3, "integration_message_status", "", t0), // not subscribed: no delivery
		}, t0, take)
		if err != nil {
			t.Fatal(err)
		}
		if len(taken) != 0 || in[0].Taken || in[1].Taken || in[2].Taken {
			t.Fatalf("took %d (%+v), want none", len(taken), in)
		}
		wantSameIDs(t, "claimed", claimedIDs(claim(t, s, claimParams(t0))), in[0].DeliveryID)
	},
	// Clause 1: only a delivery the insert makes pending is taken; a
	// repeated publish answers the first event's, and takes nothing.
	"OnlyNewPendingDeliveries": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		keyed := event(org1, "case_resolved", "", t0)
		keyed.IdempotencyKey = "k-1"
		first := insert(t, s, t0, keyed)[0]
		again := keyed
		again.ID = otw.NewID("evt_", t0)
		take := store.Take{LeaseUntil: t0.Add(time.Minute), Room: map[int64]int{org1: 5}}
		in, taken, err := s.InsertEvents(t.Context(), []otw.Event{again}, t0, take)
		if err != nil || !in[0].Existing || in[0].Taken || len(taken) != 0 {
			t.Fatalf("repeat: %+v, took %d, %v; want Existing and nothing taken", in, len(taken), err)
		}
		claimOne(t, s, t0, first.DeliveryID) // still the claim's
	},
	// Clause 2: a key is held by an earlier delivery while it is pending
	// in any way (due, leased, waiting for a retry), not once it has
	// failed or succeeded; and only within its organization.
	"KeyHeldWhilePending": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		newSubscribedOrg(t, s, org2)
		retrying := deliver(t, s, org1, "c:1", t0)
		deliver(t, s, org1, "c:2", t0) // leased by the claim below, and left so
		failed, succeeded := deliver(t, s, org1, "c:3", t0), deliver(t, s, org1, "c:4", t0)
		byID := map[string]store.Claimed{}
		for _, c := range claim(t, s, claimParams(t0)) {
			byID[c.DeliveryID] = c
		}
		complete(t, s, result(byID[retrying], otw.DeliveryPending, 503, t0), result(byID[failed], otw.DeliveryFailed, 0, t0),
			result(byID[succeeded], otw.DeliverySucceeded, 200, t0))
		due := deliver(t, s, org1, "c:5", t0)
		take := store.Take{LeaseUntil: t0.Add(time.Minute), Room: map[int64]int{org1: 10, org2: 10}}
		events := []otw.Event{
			event(org1, "case_resolved", "c:1", t0), // behind one waiting for its retry
			event(org1, "case_resolved", "c:2", t0), // behind one being sent
			event(org1, "case_resolved", "c:3", t0), // the earlier one failed
			event(org1, "case_resolved", "c:4", t0), // the earlier one succeeded
			event(org1, "case_resolved", "c:5", t0), // behind one due
			event(org2, "case_resolved", "c:1", t0), // another organization's key
		}
		in, _, err := s.InsertEvents(t.Context(), events, t0, take)
		if err != nil {
			t.Fatal(err)
		}
		wantTaken(t, in, false, false, true, true, false, true)
		wantSameIDs(t, "claimed after the insert", claimedIDs(claim(t, s, claimParams(t0))), due)
	},
	// Clause 2 within the call: an earlier event of the key holds the
	// later ones only when it made a pending delivery.
	"FirstPendingOfItsKeyInTheCall": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		take := store.Take{LeaseUntil: t0.Add(time.Minute), Room: map[int64]int{org1: 10}}
		in, _, err := s.InsertEvents(t.Context(), []otw.Event{
			event(org1, "integration_message_status", "m:1", t0), // not subscribed: no delivery
			event(org1, "case_resolved", "m:1", t0),              // the first pending of m:1
			event(org1, "case_resolved", "m:1", t0),              // behind it
		}, t0, take)
		if err != nil {
			t.Fatal(err)
		}
		wantTaken(t, in, false, true, false)
	},
	// Clause 3: each organization's room, counted in input order over the
	// deliveries that may be taken; none without room. The taken come
	// back in input order.
	"RoomPerOrganizationInInputOrder": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		newSubscribedOrg(t, s, org2)
		newSubscribedOrg(t, s, org3)
		newSubscribedOrg(t, s, 1004)
		take := store.Take{LeaseUntil: t0.Add(time.Minute), Room: map[int64]int{org1: 1, org2: 2, 1004: 0}}
		in, taken, err := s.InsertEvents(t.Context(), []otw.Event{
			event(org1, "case_resolved", "", t0),
			event(org2, "case_resolved", "c:1", t0),
			event(org2, "case_resolved", "c:1", t0), // behind the one before: does not use room
			event(org1, "case_resolved", "", t0),    // org1's room is used
			event(org3, "case_resolved", "", t0),    // no room given
			event(org2, "case_resolved", "", t0),
			event(1004, "case_resolved", "", t0), // room 0
			event(org2, "case_resolved", "", t0), // org2's room is used
		}, t0, take)
		if err != nil {
			t.Fatal(err)
		}
		wantTaken(t, in, true, true, false, false, false, true, false, false)
		wantEqualIDs(t, "taken", claimedIDs(taken), []string{in[0].DeliveryID, in[1].DeliveryID, in[5].DeliveryID})
	},
	// A taken delivery is leased as a claim would lease it, and is
	// pending: it holds back its key.
	"TakenIsLeasedAndHoldsItsKey": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		take := store.Take{LeaseUntil: t0.Add(time.Minute), Room: map[int64]int{org1: 1}}
		in, _, err := s.InsertEvents(t.Context(), []otw.Event{event(org1, "case_resolved", "c:1", t0)}, t0, take)
		if err != nil || !in[0].Taken {
			t.Fatalf("inserted %+v, %v; want it taken", in, err)
		}
		next := deliver(t, s, org1, "c:1", t0)
		if c := claim(t, s, claimParams(take.LeaseUntil.Add(-time.Millisecond))); len(c) != 0 {
			t.Fatalf("claimed %v while the taken delivery is leased", claimedIDs(c))
		}
		claimOne(t, s, take.LeaseUntil, in[0].DeliveryID) // the lease ran out: a claim's again
		if d := getDelivery(t, s, org1, next); d.WaitingFor == nil || d.WaitingFor.DeliveryID != in[0].DeliveryID {
			t.Fatalf("the next of c:1 waits for %+v, want %s", d.WaitingFor, in[0].DeliveryID)
		}
	},
	// The dispatcher learns the webhook's rate limit with every delivery
	// it gets, taken or claimed, as it stands at that moment.
	"TakenAndClaimedCarryTheRateLimit": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		set := otw.WebhookSettings{Enabled: true, URL: "https://hooks.example.com/1001", SubscribedEvents: []string{"case_resolved"}, RateLimit: 7}
		if _, err := s.SaveWebhook(t.Context(), org1, set, secretA, t0); err != nil {
			t.Fatal(err)
		}
		take := store.Take{LeaseUntil: t0.Add(time.Minute), Room: map[int64]int{org1: 1}}
		in, taken, err := s.InsertEvents(t.Context(), []otw.Event{
			event(org1, "case_resolved", "", t0), // taken
			event(org1, "case_resolved", "", t0), // no room: claimed
		}, t0, take)
		if err != nil {
			t.Fatal(err)
		}
		if len(taken) != 1 || taken[0].RateLimit != 7 {
			t.Fatalf("taken %+v, want one delivery with RateLimit 7", taken)
		}
		if c := claimOne(t, s, t0, in[1].DeliveryID); c.RateLimit != 7 {
			t.Fatalf("claimed RateLimit = %d, want 7", c.RateLimit)
		}

		set.RateLimit = 0 // no limit from now on
		if _, err := s.SaveWebhook(t.Context(), org1, set, secretA, t0); err != nil {
			t.Fatal(err)
		}
		id := deliver(t, s, org1, "", t0)
		if c := claimOne(t, s, t0, id); c.RateLimit != 0 {
			t.Fatalf("claimed RateLimit = %d after the limit was removed, want 0", c.RateLimit)
		}
		_, taken, err = s.InsertEvents(t.Context(), []otw.Event{event(org1, "case_resolved", "", t0)}, t0, take)
		if err != nil || len(taken) != 1 || taken[0].RateLimit != 0 {
			t.Fatalf("taken %+v (%v) after the limit was removed, want one with RateLimit 0", taken, err)
		}
	},
	// Inserts that take and claims side by side: a delivery must never be
	// both taken and claimed.
	"TakenNeverClaimedToo": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		const rounds = 200
		done := make(chan struct{})
		claimedBy := make(chan []string, 1)
		go func() {
			var ids []string
			for {
				select {
				case <-done:
					claimedBy <- ids
					return
				default:
				}
				c, err := s.ClaimDeliveries(context.Background(), claimParams(t0))
				if err != nil {
					t.Error(err)
				}
				ids = append(ids, claimedIDs(c)...)
			}
		}()
		taken := map[string]bool{}
		for range rounds {
			take := store.Take{LeaseUntil: t0.Add(time.Minute), Room: map[int64]int{org1: 1}}
			_, got, err := s.InsertEvents(t.Context(), []otw.Event{event(org1, "case_resolved", "", t0)}, t0, take)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range got {
				taken[c.DeliveryID] = true
			}
		}
		close(done)
		for _, id := range <-claimedBy {
			if taken[id] {
				t.Fatalf("delivery %s was taken by its insert and claimed as well", id)
			}
		}
	},
}

func indexOfEvent(events []otw.Event, id string) int {
	for i := range events {
		if events[i].ID == id {
			return i
		}
	}
	return -1
}

// wantTaken fails unless each event was taken as want says.
func wantTaken(t *testing.T, in []store.Inserted, want ...bool) {
	t.Helper()
	for i := range want {
		if in[i].Taken != want[i] {
			t.Errorf("event %d: Taken = %v, want %v", i, in[i].Taken, want[i])
		}
	}
}
