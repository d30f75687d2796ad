package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// nextTests hold each driver to the completion's hand-off
// (store.Completion.Take): the next delivery of each order key a result
// ends, when due, not leased and of an active webhook, up to the room.
var nextTests = map[string]func(*testing.T, store.Store){
	"NextOfTheKey": func(t *testing.T, s store.Store) {
		w := newSubscribedOrg(t, s, org1)
		first, second := deliver(t, s, org1, "m:1", t0), deliver(t, s, org1, "m:1", t0)
		deliver(t, s, org1, "m:1", t0)
		alone := deliver(t, s, org1, "m:2", t0)
		got := claim(t, s, claimParams(t0))
		if ids := claimedIDs(got); !slices.Equal(ids, []string{first, alone}) {
			t.Fatalf("claimed %v, want the heads of both keys %v", ids, []string{first, alone})
		}
		take := store.Take{LeaseUntil: t0.Add(time.Minute), Room: map[int64]int{org1: 5}}
		taken := completeAll(t, s, store.Completion{Now: t0, Take: take,
			Results: []store.AttemptResult{result(got[0], otw.DeliverySucceeded, 200, t0), result(got[1], otw.DeliverySucceeded, 200, t0)}})
		if len(taken) != 1 {
			t.Fatalf("handed over %v, want the second of m:1 only (m:2 has no next)", claimedIDs(taken))
		}
		c := taken[0]
		if c.DeliveryID != second || c.OrderKey != "m:1" || c.OrganizationID != org1 || c.URL != w.URL || c.EventID == "" ||
			len(c.Body) == 0 || c.EventType != "case_resolved" || !c.LeaseUntil.Equal(take.LeaseUntil) || c.AttemptCount != 0 {
			t.Fatalf("handed over %+v; want %s of m:1 as a claim gives it, leased until %s", c, second, take.LeaseUntil)
		}
		// Leased: no claim takes it, and the third waits behind it.
		if again := claim(t, s, claimParams(t0)); len(again) != 0 {
			t.Fatalf("claimed %v while the next of m:1 was handed over", claimedIDs(again))
		}
		// A retry keeps the key held: nothing goes.
		if more := completeAll(t, s, store.Completion{Now: t0, Take: take,
			Results: []store.AttemptResult{result(c, otw.DeliveryPending, 500, t0)}}); len(more) != 0 {
			t.Fatalf("handed over %v after a retry of m:1's second", claimedIDs(more))
		}
	},
	"OnlyWithRoom": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		heads := []string{deliver(t, s, org1, "m:1", t0), deliver(t, s, org1, "m:2", t0)}
		nexts := []string{deliver(t, s, org1, "m:1", t0), deliver(t, s, org1, "m:2", t0)}
		got := claim(t, s, claimParams(t0))
		if ids := claimedIDs(got); !slices.Equal(ids, heads) {
			t.Fatalf("claimed %v, want %v", ids, heads)
		}
		// Room for one key: the first result's.
		taken := completeAll(t, s, store.Completion{Now: t0,
			Take:    store.Take{LeaseUntil: t0.Add(time.Minute), Room: map[int64]int{org1: 1}},
			Results: []store.AttemptResult{result(got[0], otw.DeliverySucceeded, 200, t0), result(got[1], otw.DeliveryFailed, 410, t0)}})
		if ids := claimedIDs(taken); !slices.Equal(ids, nexts[:1]) {
			t.Fatalf("handed over %v, want %v: room for one key", ids, nexts[:1])
		}
		// The other is free for a claim.
		if ids := claimedIDs(claim(t, s, claimParams(t0))); !slices.Equal(ids, nexts[1:]) {
			t.Fatalf("claimed %v, want %v", ids, nexts[1:])
		}
	},
	"NothingWithoutATake": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		head := deliver(t, s, org1, "m:1", t0)
		next := deliver(t, s, org1, "m:1", t0)
		c := claimOne(t, s, t0, head)
		if taken := completeAll(t, s, store.Completion{Results: []store.AttemptResult{result(c, otw.DeliverySucceeded, 200, t0)}}); len(taken) != 0 {
			t.Fatalf("handed over %v with the zero Take", claimedIDs(taken))
		}
		claimOne(t, s, t0, next)
	},
	"NotBeforeItIsDue": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		head := deliver(t, s, org1, "m:1", t0)
		later := t0.Add(time.Second)
		next := deliver(t, s, org1, "m:1", later) // due a second later
		c := claimOne(t, s, t0, head)
		take := store.Take{LeaseUntil: t0.Add(time.Minute), Room: map[int64]int{org1: 5}}
		if taken := completeAll(t, s, store.Completion{Now: t0, Take: take,
			Results: []store.AttemptResult{result(c, otw.DeliverySucceeded, 200, t0)}}); len(taken) != 0 {
			t.Fatalf("handed over %v before it was due", claimedIDs(taken))
		}
		claimOne(t, s, later, next)
	},
	"DueByTheClockAtTheHandOver": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		head := deliver(t, s, org1, "m:1", t0)
		c := claimOne(t, s, t0, head)
		// Inserted while the write of the head runs: after its Now.
		later := t0.Add(time.Second)
		next := deliver(t, s, org1, "m:1", later)
		take := store.Take{LeaseUntil: later.Add(time.Minute), Room: map[int64]int{org1: 5}, Clock: func() time.Time { return later }}
		taken := completeAll(t, s, store.Completion{Now: t0, Take: take, Results: []store.AttemptResult{result(c, otw.DeliverySucceeded, 200, t0)}})
		if ids := claimedIDs(taken); !slices.Equal(ids, []string{next}) {
			t.Fatalf("handed over %v, want %s: due by the Take's clock when the hand-off reads it", ids, next)
		}
	},
	"NotForAWebhookDisabledByTheWrite": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		head := deliver(t, s, org1, "m:1", t0)
		deliver(t, s, org1, "m:1", t0)
		c := claimOne(t, s, t0, head)
		taken := completeAll(t, s, store.Completion{Now: t0,
			Take:    store.Take{LeaseUntil: t0.Add(time.Minute), Room: map[int64]int{org1: 5}},
			Results: []store.AttemptResult{result(c, otw.DeliveryFailed, 410, t0)},
			Disable: []store.Disable{{OrganizationID: org1, Reason: "the endpoint answered 410 Gone"}}})
		if len(taken) != 0 {
			t.Fatalf("handed over %v for a webhook the same write disabled", claimedIDs(taken))
		}
	},
}
