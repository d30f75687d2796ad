package storetest

import (
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

var completeTests = map[string]func(*testing.T, store.Store){
	"WritesEachOutcome": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		ok := deliver(t, s, org1, "", t0)
		retry := deliver(t, s, org1, "", t0)
		dead := deliver(t, s, org1, "", t0)
		byID := map[string]store.Claimed{}
		for _, c := range claim(t, s, claimParams(t0)) {
			byID[c.DeliveryID] = c
		}
		at := t0.Add(time.Second)
		rRetry := result(byID[retry], otw.DeliveryPending, 500, at)
		rRetry.NextAttemptAt = at.Add(5 * time.Second)
		// One call for the three, as the dispatcher batches them.
		complete(t, s, result(byID[ok], otw.DeliverySucceeded, 200, at), rRetry, result(byID[dead], otw.DeliveryFailed, 0, at))

		d := getDelivery(t, s, org1, ok)
		if d.Status != otw.DeliverySucceeded || d.AttemptCount != 1 || d.SucceededAt == nil || d.NextAttemptAt != nil ||
			d.LastStatusCode == nil || *d.LastStatusCode != 200 || d.LastError != "" {
			t.Fatalf("succeeded delivery = %+v", d)
		}
		d = getDelivery(t, s, org1, retry)
		if d.Status != otw.DeliveryPending || d.AttemptCount != 1 || d.SucceededAt != nil ||
			d.LastStatusCode == nil || *d.LastStatusCode != 500 || d.LastError != "HTTP 500" {
			t.Fatalf("retried delivery = %+v", d)
		}
		wantTime(t, "NextAttemptAt of the retry", d.NextAttemptAt, rRetry.NextAttemptAt)
		d = getDelivery(t, s, org1, dead)
		if d.Status != otw.DeliveryFailed || d.AttemptCount != 1 || d.SucceededAt != nil || d.NextAttemptAt != nil ||
			d.LastStatusCode != nil || d.LastError != "connection refused" {
			t.Fatalf("failed delivery = %+v", d)
		}
		// Finished deliveries are never claimed again; the retry is, when due.
		claimOne(t, s, rRetry.NextAttemptAt, retry)
	},
	"AttemptsKeptInOrderWithPayload": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		e := event(org1, "case_resolved", "", t0)
		id := insert(t, s, t0, e)[0].DeliveryID
		now := t0
		var want []store.AttemptResult
		for _, step := range []struct {
			status string
			code   int
		}{{otw.DeliveryPending, 0}, {otw.DeliveryPending, 503}, {otw.DeliverySucceeded, 204}} {
			r := result(claimOne(t, s, now, id), step.status, step.code, now)
			complete(t, s, r)
			want = append(want, r)
			now = r.NextAttemptAt
		}
		d := getDelivery(t, s, org1, id)
		wantBytes(t, "Payload", d.Payload, e.Body)
		if d.AttemptCount != 3 || len(d.Attempts) != 3 {
			t.Fatalf("AttemptCount %d with %d attempts, want 3 and 3", d.AttemptCount, len(d.Attempts))
		}
		for i, a := range d.Attempts {
			w := want[i].Attempt
			if a.N != i+1 || !a.StartedAt.Equal(w.StartedAt) || a.DurationMs != w.DurationMs || a.Error != w.Error ||
				a.ResponseBody != w.ResponseBody || a.URL != w.URL || (a.StatusCode == nil) != (w.StatusCode == nil) ||
				(a.StatusCode != nil && *a.StatusCode != *w.StatusCode) {
				t.Fatalf("attempt %d = %+v, want %+v", i+1, a, w)
			}
		}
	},
	"AttemptKeepsItsURL": func(t *testing.T, s store.Store) {
		// The webhook's URL changes between two attempts of one delivery:
		// each attempt keeps the URL it went to.
		newSubscribedOrg(t, s, org1)
		id := deliver(t, s, org1, "", t0)
		first := claimOne(t, s, t0, id)
		if first.URL != "https://hooks.example.com/1001" {
			t.Fatalf("claimed URL = %q, want the webhook's", first.URL)
		}
		r := result(first, otw.DeliveryPending, 500, t0)
		complete(t, s, r)
		moved := "https://hooks.example.com/moved?to=" + id
		if _, err := s.SaveWebhook(t.Context(), org1, otw.WebhookSettings{Enabled: true, URL: moved,
			SubscribedEvents: []string{"case_resolved"}}, secretA, t0); err != nil {
			t.Fatal(err)
		}
		second := claimOne(t, s, r.NextAttemptAt, id)
		if second.URL != moved {
			t.Fatalf("claimed URL after the change = %q, want %q", second.URL, moved)
		}
		complete(t, s, result(second, otw.DeliverySucceeded, 200, r.NextAttemptAt))
		d := getDelivery(t, s, org1, id)
		if len(d.Attempts) != 2 || d.Attempts[0].URL != first.URL || d.Attempts[1].URL != moved {
			t.Fatalf("attempts = %+v, want the URLs %q then %q", d.Attempts, first.URL, moved)
		}
	},
	"StaleLeaseRecordsAttemptOnly": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		id := deliver(t, s, org1, "", t0)
		stale := claimOne(t, s, t0, id)
		// The first worker overran its lease and another took the delivery.
		fresh := claimOne(t, s, stale.LeaseUntil.Add(time.Second), id)
		complete(t, s, result(stale, otw.DeliveryFailed, 0, stale.LeaseUntil))

		d := getDelivery(t, s, org1, id)
		if d.Status != otw.DeliveryPending || d.LastError != "" {
			t.Fatalf("a stale result changed the delivery: status %q last error %q", d.Status, d.LastError)
		}
		if len(d.Attempts) != 1 || d.Attempts[0].Error != "connection refused" {
			t.Fatalf("attempts %+v, want the stale attempt recorded", d.Attempts)
		}
		if c := claim(t, s, claimParams(fresh.LeaseUntil.Add(-time.Millisecond))); len(c) != 0 {
			t.Fatalf("claimed %v while the second worker holds it", claimedIDs(c))
		}
		complete(t, s, result(fresh, otw.DeliverySucceeded, 200, fresh.LeaseUntil.Add(-time.Second)))
		if d := getDelivery(t, s, org1, id); d.Status != otw.DeliverySucceeded || len(d.Attempts) != 2 {
			t.Fatalf("after the current lease's result: status %q with %d attempts, want succeeded with 2", d.Status, len(d.Attempts))
		}
	},
	"FailingSinceFirstFailureUntilSuccess": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		id := deliver(t, s, org1, "", t0)
		c := claimOne(t, s, t0, id)
		if c.FailingSince != nil {
			t.Fatalf("FailingSince = %v before any attempt", c.FailingSince)
		}
		first := result(c, otw.DeliveryPending, 500, t0)
		complete(t, s, first)
		// Every later failure keeps the first one's time: the endpoint has
		// been failing since then.
		now := first.NextAttemptAt
		for range 2 {
			c = claimOne(t, s, now, id)
			wantAttemptTime(t, "FailingSince after failures", c.FailingSince, first.Attempt)
			r := result(c, otw.DeliveryPending, 0, now)
			complete(t, s, r)
			now = r.NextAttemptAt
		}
		complete(t, s, result(claimOne(t, s, now, id), otw.DeliverySucceeded, 200, now))

		next := deliver(t, s, org1, "", now)
		c = claimOne(t, s, now, next)
		if c.FailingSince != nil {
			t.Fatalf("FailingSince = %v after a success, want nil", c.FailingSince)
		}
		failed := result(c, otw.DeliveryFailed, 0, now)
		complete(t, s, failed)
		c = claimOne(t, s, now, deliver(t, s, org1, "", now))
		wantAttemptTime(t, "FailingSince after a failure that followed a success", c.FailingSince, failed.Attempt)
	},
	"SavingEnabledForgetsFailingSince": func(t *testing.T, s store.Store) {
		// Else a webhook the organization turns back on after a disable
		// would be disabled again by its first failure.
		newSubscribedOrg(t, s, org1)
		id := deliver(t, s, org1, "", t0)
		complete(t, s, result(claimOne(t, s, t0, id), otw.DeliveryFailed, 0, t0))
		if err := s.DisableWebhook(t.Context(), org1, "failing for 5 days", t0); err != nil {
			t.Fatal(err)
		}
		saveWebhook(t, s, org1, true, "case_resolved")
		if c := claimOne(t, s, t0, deliver(t, s, org1, "", t0)); c.FailingSince != nil {
			t.Fatalf("FailingSince = %v after saving a disabled webhook enabled, want nil", c.FailingSince)
		}
	},
	"DisabledWhileSendingStaysFailed": func(t *testing.T, s store.Store) {
		// The webhook is disabled while a request is out; its answer comes
		// back afterwards and is recorded, but the delivery keeps the
		// reason it was failed for.
		newSubscribedOrg(t, s, org1)
		id := deliver(t, s, org1, "", t0)
		c := claimOne(t, s, t0, id)
		if err := s.DisableWebhook(t.Context(), org1, "the endpoint answered 410 Gone", t0); err != nil {
			t.Fatal(err)
		}
		complete(t, s, result(c, otw.DeliveryPending, 500, t0))
		d := getDelivery(t, s, org1, id)
		if d.Status != otw.DeliveryFailed || d.LastError != "the endpoint answered 410 Gone" || len(d.Attempts) != 1 {
			t.Fatalf("status %q, last error %q, %d attempts; want failed by the disable with the attempt recorded", d.Status, d.LastError, len(d.Attempts))
		}
	},
	"StaleReleaseLeavesTheNewLease": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		id := deliver(t, s, org1, "", t0)
		stale := claimOne(t, s, t0, id)
		fresh := claimOne(t, s, stale.LeaseUntil.Add(time.Second), id)
		if err := s.ReleaseDeliveries(t.Context(), []store.Lease{stale.Lease}); err != nil {
			t.Fatal(err)
		}
		if c := claim(t, s, claimParams(fresh.LeaseUntil.Add(-time.Millisecond))); len(c) != 0 {
			t.Fatalf("claimed %v: giving back an old lease freed the current one", claimedIDs(c))
		}
	},
	"ExtendedLeaseHoldsAndItsOutcomeIsWritten": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		id := deliver(t, s, org1, "", t0)
		c := claimOne(t, s, t0, id)
		until := c.LeaseUntil.Add(time.Hour)
		moved, err := s.ExtendLeases(t.Context(), []store.Lease{c.Lease}, until)
		if err != nil || len(moved) != 1 || !moved[0] {
			t.Fatalf("ExtendLeases = %v, %v; want [true]", moved, err)
		}
		if got := claim(t, s, claimParams(c.LeaseUntil.Add(time.Minute))); len(got) != 0 {
			t.Fatalf("claimed %v after the old lease ran out: the extension did not hold", claimedIDs(got))
		}
		// The old lease is no longer the token: its outcome leaves the
		// delivery alone; the extended one's is written.
		complete(t, s, result(c, otw.DeliverySucceeded, 200, t0))
		if d := getDelivery(t, s, org1, id); d.Status != otw.DeliveryPending {
			t.Fatalf("an outcome on the old lease changed the delivery to %q", d.Status)
		}
		c.LeaseUntil = until
		complete(t, s, result(c, otw.DeliverySucceeded, 200, t0))
		if d := getDelivery(t, s, org1, id); d.Status != otw.DeliverySucceeded {
			t.Fatalf("status %q after the outcome on the extended lease, want succeeded", d.Status)
		}
	},
	"ExtendLeavesEndedAndTakenOverLeases": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		done := deliver(t, s, org1, "", t0)
		d := claimOne(t, s, t0, done)
		complete(t, s, result(d, otw.DeliverySucceeded, 200, t0))
		taken := deliver(t, s, org1, "", t0)
		stale := claimOne(t, s, t0, taken)
		fresh := claimOne(t, s, stale.LeaseUntil.Add(time.Second), taken)
		moved, err := s.ExtendLeases(t.Context(), []store.Lease{d.Lease, stale.Lease}, fresh.LeaseUntil.Add(time.Hour))
		if err != nil || len(moved) != 2 || moved[0] || moved[1] {
			t.Fatalf("ExtendLeases of a written and a taken-over lease = %v, %v; want [false false]", moved, err)
		}
		if got := claim(t, s, claimParams(fresh.LeaseUntil.Add(time.Millisecond))); len(got) != 1 {
			t.Fatalf("claimed %v once the current lease ran out, want the delivery: a stale extension held it", claimedIDs(got))
		}
	},
	"ReleaseMakesClaimableAtOnce": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		id := deliver(t, s, org1, "", t0)
		c := claimOne(t, s, t0, id)
		if err := s.ReleaseDeliveries(t.Context(), []store.Lease{c.Lease}); err != nil {
			t.Fatal(err)
		}
		again := claimOne(t, s, t0, id)
		if again.AttemptCount != 0 {
			t.Fatalf("AttemptCount = %d after a release, want 0", again.AttemptCount)
		}
		if d := getDelivery(t, s, org1, id); len(d.Attempts) != 0 || d.Status != otw.DeliveryPending {
			t.Fatalf("released delivery: status %q, attempts %+v; want pending with none", d.Status, d.Attempts)
		}
	},
}

// wantAttemptTime accepts any time within the attempt: when it started or
// when it ended are both "the time of the failure".
func wantAttemptTime(t *testing.T, what string, got *time.Time, a otw.Attempt) {
	t.Helper()
	end := a.StartedAt.Add(time.Duration(a.DurationMs) * time.Millisecond)
	if got == nil || got.Before(a.StartedAt) || got.After(end) {
		t.Fatalf("%s = %v, want the attempt's time, %v to %v", what, got, a.StartedAt, end)
	}
}
