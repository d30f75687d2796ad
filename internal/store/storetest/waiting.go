package storetest

import (
	"testing"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

var waitingTests = map[string]func(*testing.T, store.Store){
	// A pending delivery says what holds it back: the nearest earlier
	// pending delivery of its order key in its organization, else its
	// webhook's rate limit; nothing once it is no longer pending.
	"GetSaysWhatAPendingDeliveryWaitsFor": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		newSubscribedOrg(t, s, org2)
		deliver(t, s, org2, "c:1", t0) // another organization's c:1 holds nothing of org1's
		k1 := deliver(t, s, org1, "c:1", t0)
		k2 := deliver(t, s, org1, "c:1", t0)
		other := deliver(t, s, org1, "c:2", t0)
		k3 := deliver(t, s, org1, "c:1", t0)
		free := deliver(t, s, org1, "", t0)

		wantWait := func(what, id string, want *otw.Wait) {
			t.Helper()
			got := getDelivery(t, s, org1, id).WaitingFor
			if (got == nil) != (want == nil) || (got != nil && *got != *want) {
				t.Fatalf("%s: WaitingFor = %+v, want %+v", what, got, want)
			}
		}
		// send claims what is due, completes id and gives the rest back.
		send := func(id, status string, code int) {
			t.Helper()
			var rest []store.Lease
			sent := false
			for _, c := range claim(t, s, claimParams(t0)) {
				if c.DeliveryID == id {
					complete(t, s, result(c, status, code, t0))
					sent = true
				} else {
					rest = append(rest, c.Lease)
				}
			}
			if err := s.ReleaseDeliveries(t.Context(), rest); err != nil {
				t.Fatal(err)
			}
			if !sent {
				t.Fatalf("%s was not claimed", id)
			}
		}
		wantWait("first of c:1", k1, nil)
		wantWait("second of c:1", k2, &otw.Wait{DeliveryID: k1})
		wantWait("third of c:1", k3, &otw.Wait{DeliveryID: k2}) // the nearest, not the first
		wantWait("only of c:2", other, nil)
		wantWait("no order key", free, nil)

		// The first succeeds: the second is first in line, the third
		// still waits for it. A retry waiting for its time still holds
		// the next back, as the claim's order rule does.
		send(k1, otw.DeliverySucceeded, 200)
		wantWait("succeeded", k1, nil)
		wantWait("second of c:1 after the first succeeded", k2, nil)
		wantWait("third of c:1 after the first succeeded", k3, &otw.Wait{DeliveryID: k2})
		send(k2, otw.DeliveryPending, 503)
		wantWait("third of c:1 while the second waits for a retry", k3, &otw.Wait{DeliveryID: k2})

		// With a rate limit, what nothing else holds waits for the rate;
		// the order rule still comes first.
		if _, err := s.SaveWebhook(t.Context(), org1, otw.WebhookSettings{Enabled: true, URL: "https://hooks.example.com/1001",
			SubscribedEvents: []string{"case_resolved"}, RateLimit: 20}, secretA, t0); err != nil {
			t.Fatal(err)
		}
		wantWait("no order key, rate limited", free, &otw.Wait{RateLimit: 20})
		wantWait("second of c:1 waiting for a retry, rate limited", k2, &otw.Wait{RateLimit: 20})
		wantWait("third of c:1, rate limited", k3, &otw.Wait{DeliveryID: k2})
		wantWait("succeeded, rate limited", k1, nil)
		send(free, otw.DeliveryFailed, 0)
		wantWait("failed, rate limited", free, nil)
	},
}
