package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

var statsTests = map[string]func(*testing.T, store.Store){
	"CountPendingCountsEveryOrganization": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		newSubscribedOrg(t, s, org2)
		count := func() int64 {
			n, err := s.CountPending(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(); n != 0 {
			t.Fatalf("CountPending on an empty store = %d", n)
		}
		done := deliver(t, s, org1, "", t0)
		if n := count(); n != 1 {
			t.Fatalf("CountPending = %d, want 1", n)
		}
		sendOnce(t, s, done, otw.DeliverySucceeded, 200, t0)
		if n := count(); n != 0 {
			t.Fatalf("CountPending after it succeeded = %d, want 0", n)
		}
		deliver(t, s, org1, "", t0)
		deliver(t, s, org2, "", t0)
		if n := count(); n != 2 {
			t.Fatalf("CountPending = %d, want 2 (both organizations)", n)
		}
	},
	"PerHourByStatusSinceThen": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		newSubscribedOrg(t, s, org2)
		hour := t0.Truncate(time.Hour) // t0 is 05:06:07
		old := deliver(t, s, org1, "", t0.Add(-2*time.Hour))
		sendOnce(t, s, old, otw.DeliverySucceeded, 200, t0.Add(-2*time.Hour))
		ok := deliver(t, s, org1, "", t0)
		sendOnce(t, s, ok, otw.DeliverySucceeded, 200, t0)
		dead := deliver(t, s, org1, "", t0.Add(10*time.Minute))
		sendOnce(t, s, dead, otw.DeliveryFailed, 0, t0.Add(10*time.Minute))
		deliver(t, s, org1, "", t0.Add(20*time.Minute))
		deliver(t, s, org1, "", t0.Add(2*time.Hour))
		deliver(t, s, org2, "", t0)

		got, err := s.DeliveryStats(t.Context(), org1, t0.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		// Oldest first; 06:00 had nothing and is left out; 03:06 is before
		// since; organization 2 is not counted.
		want := []store.HourStats{
			{Hour: hour, Succeeded: 1, Failed: 1, Pending: 1},
			{Hour: hour.Add(2 * time.Hour), Pending: 1},
		}
		if fmt.Sprint(statsText(got)) != fmt.Sprint(statsText(want)) {
			t.Fatalf("DeliveryStats = %v, want %v", statsText(got), statsText(want))
		}
	},
	"NoDeliveries": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		got, err := s.DeliveryStats(t.Context(), org1, t0)
		if err != nil || len(got) != 0 {
			t.Fatalf("DeliveryStats without deliveries = %v, %v; want none", got, err)
		}
	},
}

// statsText compares hours as instants, whatever the location a driver
// returns them in.
func statsText(hs []store.HourStats) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = fmt.Sprintf("%s s%d f%d p%d", h.Hour.UTC().Format(time.RFC3339), h.Succeeded, h.Failed, h.Pending)
	}
	return out
}
