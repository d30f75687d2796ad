package storetest

import (
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

var retryTests = map[string]func(*testing.T, store.Store){
	"RetryFailedMakesItDueNow": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		id := deliver(t, s, org1, "", t0)
		sendOnce(t, s, id, otw.DeliveryFailed, 0, t0)
		now := t0.Add(time.Hour)
		if err := s.RetryDelivery(t.Context(), org1, id, now); err != nil {
			t.Fatal(err)
		}
		d := getDelivery(t, s, org1, id)
		if d.Status != otw.DeliveryPending {
			t.Fatalf("status %q after RetryDelivery, want pending", d.Status)
		}
		wantTime(t, "NextAttemptAt after RetryDelivery", d.NextAttemptAt, now)
		if c := claimOne(t, s, now, id); c.AttemptCount != 1 {
			t.Fatalf("AttemptCount = %d on the manual retry, want 1", c.AttemptCount)
		}
	},
	// The order rule after a failure for good: the later deliveries of the
	// key went on; a retry of the failed one sends it after them (a late
	// status, which the receiver tells by the payload's own time), and
	// what is published meanwhile waits behind it again.
	"RetryOfAFailedDeliveryComesAfterLaterOnesAndHoldsItsKey": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		first := deliver(t, s, org1, "m:7", t0)
		second := deliver(t, s, org1, "m:7", t0)
		sendOnce(t, s, first, otw.DeliveryFailed, 0, t0)
		sendOnce(t, s, second, otw.DeliverySucceeded, 200, t0)
		now := t0.Add(time.Hour)
		if err := s.RetryDelivery(t.Context(), org1, first, now); err != nil {
			t.Fatal(err)
		}
		third := deliver(t, s, org1, "m:7", now)
		c := claim(t, s, claimParams(now))
		wantSameIDs(t, "claim after the retry", claimedIDs(c), first)
		complete(t, s, result(c[0], otw.DeliverySucceeded, 200, now))
		claimOne(t, s, now, third)
	},
	"RetryUnknownOrOthers": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		newSubscribedOrg(t, s, org2)
		id := deliver(t, s, org2, "", t0)
		sendOnce(t, s, id, otw.DeliveryFailed, 0, t0)
		wantCode(t, s.RetryDelivery(t.Context(), org1, "dlv_nope", t0), otw.ENOTFOUND, "RetryDelivery of an unknown ID")
		wantCode(t, s.RetryDelivery(t.Context(), org1, id, t0), otw.ENOTFOUND, "RetryDelivery of another organization's delivery")
		if d := getDelivery(t, s, org2, id); d.Status != otw.DeliveryFailed {
			t.Fatalf("another organization's delivery became %q", d.Status)
		}
	},
	"RetryLeasedConflicts": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		id := deliver(t, s, org1, "", t0)
		c := claimOne(t, s, t0, id)
		err := s.RetryDelivery(t.Context(), org1, id, c.LeaseUntil.Add(-time.Second))
		wantCode(t, err, otw.ECONFLICT, "RetryDelivery while an attempt holds the lease")
	},
	"RecoverFailedSince": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		newSubscribedOrg(t, s, org2)
		since := t0.Add(time.Hour)
		failAt := func(org int64, at time.Time) string {
			id := deliver(t, s, org, "", at)
			sendOnce(t, s, id, otw.DeliveryFailed, 0, at)
			return id
		}
		before := failAt(org1, since.Add(-time.Millisecond))
		atSince := failAt(org1, since)
		after := failAt(org1, since.Add(time.Hour))
		ok := deliver(t, s, org1, "", since.Add(time.Hour))
		sendOnce(t, s, ok, otw.DeliverySucceeded, 200, since.Add(time.Hour))
		otherOrg := failAt(org2, since.Add(time.Hour))

		now := since.Add(2 * time.Hour)
		n, err := s.RecoverDeliveries(t.Context(), org1, since, now)
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Fatalf("RecoverDeliveries = %d, want 2", n)
		}
		for _, id := range []string{atSince, after} {
			d := getDelivery(t, s, org1, id)
			if d.Status != otw.DeliveryPending {
				t.Fatalf("recovered delivery is %q, want pending", d.Status)
			}
			wantTime(t, "NextAttemptAt of a recovered delivery", d.NextAttemptAt, now)
		}
		for _, c := range []struct {
			org        int64
			id, status string
		}{{org1, before, otw.DeliveryFailed}, {org1, ok, otw.DeliverySucceeded}, {org2, otherOrg, otw.DeliveryFailed}} {
			if d := getDelivery(t, s, c.org, c.id); d.Status != c.status {
				t.Fatalf("delivery not to recover became %q, want %q", d.Status, c.status)
			}
		}
		wantSameIDs(t, "claimed after recover", claimedIDs(claim(t, s, claimParams(now))), atSince, after)
	},
}
