package storetest

import (
	"sort"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

var claimTests = map[string]func(*testing.T, store.Store){
	"ClaimsDueWithEverythingToSend": func(t *testing.T, s store.Store) {
		w := newSubscribedOrg(t, s, org1)
		e := event(org1, "case_resolved", "c:1", t0)
		id := insert(t, s, t0, e)[0].DeliveryID
		p := claimParams(t0)
		c := claim(t, s, p)
		if len(c) != 1 {
			t.Fatalf("claimed %d, want 1", len(c))
		}
		got := c[0]
		if got.DeliveryID != id || got.EventID != e.ID || got.OrganizationID != org1 || got.EventType != "case_resolved" ||
			got.OrderKey != "c:1" || got.AttemptCount != 0 || !got.CreatedAt.Equal(t0) || got.URL != w.URL {
			t.Fatalf("claimed %+v", got)
		}
		if !got.LeaseUntil.Equal(p.LeaseUntil) {
			t.Fatalf("LeaseUntil = %v, want %v", got.LeaseUntil, p.LeaseUntil)
		}
		wantBytes(t, "Body", got.Body, e.Body)
		wantBytes(t, "Secret", got.Secret, secretA)
		if got.PreviousSecret != nil {
			t.Fatalf("PreviousSecret = %q outside a rotation", got.PreviousSecret)
		}
	},
	"LeaseHoldsUntilItExpires": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		id := deliver(t, s, org1, "", t0)
		first := claimOne(t, s, t0, id)
		if c := claim(t, s, claimParams(first.LeaseUntil.Add(-time.Millisecond))); len(c) != 0 {
			t.Fatalf("claimed %v again while leased", claimedIDs(c))
		}
		// A worker that died leaves its lease to run out.
		again := claimOne(t, s, first.LeaseUntil.Add(time.Millisecond), id)
		if !again.LeaseUntil.After(first.LeaseUntil) {
			t.Fatalf("new lease until %v, not after the expired %v", again.LeaseUntil, first.LeaseUntil)
		}
	},
	"Limit": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		for range 5 {
			deliver(t, s, org1, "", t0)
		}
		p := claimParams(t0)
		p.Limit = 2
		var sizes []int
		for range 4 {
			sizes = append(sizes, len(claim(t, s, p)))
		}
		if sizes[0] != 2 || sizes[1] != 2 || sizes[2] != 1 || sizes[3] != 0 {
			t.Fatalf("claims of Limit 2 over 5 due took %v, want [2 2 1 0]", sizes)
		}
	},
	"PerOrganizationMinusHeld": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		newSubscribedOrg(t, s, org2)
		for range 5 {
			deliver(t, s, org1, "", t0)
			deliver(t, s, org2, "", t0)
		}
		p := claimParams(t0)
		p.PerOrganization = 3
		p.Held = map[int64]int{org1: 2}
		n := map[int64]int{}
		for _, c := range claim(t, s, p) {
			n[c.OrganizationID]++
		}
		if n[org1] != 1 || n[org2] != 3 {
			t.Fatalf("claimed %v by organization, want %d:1 (3 allowed, 2 busy) and %d:3", n, org1, org2)
		}
		p.Held = map[int64]int{org1: 3, org2: 3}
		if c := claim(t, s, p); len(c) != 0 {
			t.Fatalf("claimed %v with every organization at its limit", claimedIDs(c))
		}
	},
	"LimitFilledAcrossOrganizations": func(t *testing.T, s store.Store) {
		// Whatever the order organizations are visited in, one with less
		// work than its room leaves the rest of the limit to the others.
		newSubscribedOrg(t, s, org1)
		newSubscribedOrg(t, s, org2)
		newSubscribedOrg(t, s, org3)
		deliver(t, s, org1, "", t0)
		for range 5 {
			deliver(t, s, org2, "", t0)
			deliver(t, s, org3, "", t0)
		}
		for round := range 10 {
			p := claimParams(t0)
			p.Limit, p.PerOrganization = 8, 5
			c := claim(t, s, p)
			if len(c) != 8 {
				t.Fatalf("round %d: claimed %d of 11 due with limit 8 and room 5 each, want 8", round, len(c))
			}
			if err := s.ReleaseDeliveries(t.Context(), store.Leases(c)); err != nil {
				t.Fatal(err)
			}
		}
	},
	"NotYetDue": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		id := deliver(t, s, org1, "", t0)
		c := claimOne(t, s, t0, id)
		r := result(c, otw.DeliveryPending, 503, t0)
		complete(t, s, r)
		if got := claim(t, s, claimParams(r.NextAttemptAt.Add(-time.Millisecond))); len(got) != 0 {
			t.Fatalf("claimed %v before its next attempt", claimedIDs(got))
		}
		if again := claimOne(t, s, r.NextAttemptAt, id); again.AttemptCount != 1 {
			t.Fatalf("AttemptCount = %d on the second claim, want 1", again.AttemptCount)
		}
	},
	"SwitchedOffNotClaimed": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		id := deliver(t, s, org1, "", t0)
		saveWebhook(t, s, org1, false, "case_resolved")
		if c := claim(t, s, claimParams(t0)); len(c) != 0 {
			t.Fatalf("claimed %v for a switched-off webhook", claimedIDs(c))
		}
		// Switching it back on sends what waited.
		saveWebhook(t, s, org1, true, "case_resolved")
		claimOne(t, s, t0, id)
	},
	"OrderKeyFirstInLine": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		k1 := deliver(t, s, org1, "c:1", t0)
		k2 := deliver(t, s, org1, "c:1", t0)
		k3 := deliver(t, s, org1, "c:1", t0)
		other := deliver(t, s, org1, "m:9", t0)
		free1 := deliver(t, s, org1, "", t0)
		free2 := deliver(t, s, org1, "", t0)

		now := t0
		c := claim(t, s, claimParams(now))
		wantSameIDs(t, "first claim", claimedIDs(c), k1, other, free1, free2)
		byID := map[string]store.Claimed{}
		for _, x := range c {
			byID[x.DeliveryID] = x
		}

		for _, id := range []string{other, free1, free2} {
			complete(t, s, result(byID[id], otw.DeliverySucceeded, 200, now))
		}

		// A retry still waiting keeps the next of its key waiting too.
		complete(t, s, result(byID[k1], otw.DeliveryPending, 500, now))
		if c := claim(t, s, claimParams(now)); len(c) != 0 {
			t.Fatalf("claimed %v while the first of c:1 waits for its retry", claimedIDs(c))
		}
		now = now.Add(time.Minute)
		complete(t, s, result(claimOne(t, s, now, k1), otw.DeliverySucceeded, 200, now))
		complete(t, s, result(claimOne(t, s, now, k2), otw.DeliveryFailed, 0, now))
		claimOne(t, s, now, k3)
	},
	// Within an organization the earliest due go first, not the oldest.
	"EarliestDueFirst": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		older, newer := deliver(t, s, org1, "", t0), deliver(t, s, org1, "", t0)
		p := claimParams(t0)
		p.PerOrganization = 1
		c := claim(t, s, p)
		wantEqualIDs(t, "first claim", claimedIDs(c), []string{older})
		complete(t, s, result(c[0], otw.DeliveryPending, 503, t0)) // due again a minute later
		p.Now, p.LeaseUntil = t0.Add(2*time.Minute), t0.Add(3*time.Minute)
		wantEqualIDs(t, "claim after the retry came due", claimedIDs(claim(t, s, p)), []string{newer})
	},
	// A webhook the service disabled sends nothing, even what was made
	// pending by hand, until it is saved enabled again.
	"DisabledByTheServiceNotClaimed": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		id := deliver(t, s, org1, "", t0)
		if err := s.DisableWebhook(t.Context(), org1, "the endpoint answered 410 Gone", t0); err != nil {
			t.Fatal(err)
		}
		if err := s.RetryDelivery(t.Context(), org1, id, t0); err != nil {
			t.Fatal(err)
		}
		if c := claim(t, s, claimParams(t0)); len(c) != 0 {
			t.Fatalf("claimed %v for a webhook the service disabled", claimedIDs(c))
		}
		saveWebhook(t, s, org1, true, "case_resolved")
		claimOne(t, s, t0, id)
	},
	// The order rule holds within an organization: another's deliveries
	// of the same key go on.
	"OrderKeyPerOrganization": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		newSubscribedOrg(t, s, org2)
		first := deliver(t, s, org1, "c:1", t0)
		claimOne(t, s, t0, first)
		deliver(t, s, org1, "c:1", t0)
		other := deliver(t, s, org2, "c:1", t0)
		wantSameIDs(t, "claimed", claimedIDs(claim(t, s, claimParams(t0))), other)
	},
	"PreviousSecretOnlyDuringRotation": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		until := t0.Add(time.Hour)
		if _, err := s.RotateSecret(t.Context(), org1, secretB, until, t0); err != nil {
			t.Fatal(err)
		}
		id := deliver(t, s, org1, "", t0)
		c := claimOne(t, s, until.Add(-2*time.Minute), id)
		wantBytes(t, "Secret during rotation", c.Secret, secretB)
		wantBytes(t, "PreviousSecret during rotation", c.PreviousSecret, secretA)
		c = claimOne(t, s, until, id) // the first lease ran out a minute ago
		wantBytes(t, "Secret after rotation", c.Secret, secretB)
		if c.PreviousSecret != nil {
			t.Fatalf("PreviousSecret = %q at PreviousSecretUntil, want nil", c.PreviousSecret)
		}
	},
}

func wantSameIDs(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	got, want = append([]string(nil), got...), append([]string(nil), want...)
	sort.Strings(got)
	sort.Strings(want)
	wantEqualIDs(t, what, got, want)
}
