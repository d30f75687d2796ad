package storetest

import (
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// traceParentTests: an event's traceparent reaches every claim of its
// delivery, taken at the insert or claimed later, so that the attempts
// join the publish's trace; an event without one claims with "".
var traceParentTests = map[string]func(*testing.T, store.Store){
	"CarriedToClaims": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
		traced, plain, taken := event(org1, "case_resolved", "", t0), event(org1, "case_resolved", "", t0), event(org1, "case_resolved", "", t0)
		traced.TraceParent, taken.TraceParent = tp, tp
		in := insert(t, s, t0, traced, plain)
		byID := map[string]string{}
		for _, c := range claim(t, s, claimParams(t0)) {
			byID[c.DeliveryID] = c.TraceParent
		}
		if got := byID[in[0].DeliveryID]; got != tp {
			t.Errorf("claimed traced delivery: TraceParent = %q, want %q", got, tp)
		}
		if got, ok := byID[in[1].DeliveryID]; !ok || got != "" {
			t.Errorf("claimed plain delivery: TraceParent = %q (claimed %v), want empty", got, ok)
		}
		_, got, err := s.InsertEvents(t.Context(), []otw.Event{taken}, t0,
			store.Take{LeaseUntil: t0.Add(time.Minute), Room: map[int64]int{org1: 1}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].TraceParent != tp {
			t.Errorf("taken at insert: %+v, want one with TraceParent %q", got, tp)
		}
	},
}
