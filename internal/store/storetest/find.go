package storetest

import (
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// findTests look a message, a case or an event up in the log, and send
// what a filter selects again in bulk.
var findTests = map[string]func(*testing.T, store.Store){
	"ByTrxIDCaseIDEventIDAndTime": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1, "case_resolved", "integration_message_status")
		newSubscribedOrg(t, s, org2, "case_resolved", "integration_message_status")
		at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }
		msg := func(org int64, key string, i int) store.Inserted {
			return insert(t, s, at(i), event(org, "integration_message_status", key, at(i)))[0]
		}
		first := msg(org1, "m:T1", 0)
		second := msg(org1, "m:T1", 1)
		resolved := insert(t, s, at(2), event(org1, "case_resolved", "c:T1", at(2)))[0]
		other := msg(org1, "m:T2", 3)
		msg(org2, "m:T1", 4) // another organization's message of the same trxID
		e := event(org1, "case_resolved", "", at(5))
		e.OrderKey = otw.TestOrderKey(e.ID)
		test := insert(t, s, at(5), e)[0]

		for _, c := range []struct {
			what string
			p    store.ListParams
			want []string
		}{
			{"trxID", store.ListParams{TrxID: "T1"}, []string{second.DeliveryID, first.DeliveryID}},
			{"caseID", store.ListParams{CaseID: "T1"}, []string{resolved.DeliveryID}},
			{"trxID and caseID", store.ListParams{TrxID: "T1", CaseID: "T1"}, nil},
			{"event ID", store.ListParams{EventID: other.EventID}, []string{other.DeliveryID}},
			{"a test event's ID", store.ListParams{EventID: test.EventID}, []string{test.DeliveryID}},
			{"another organization's event", store.ListParams{EventID: "evt_nope"}, nil},
			{"since and until", store.ListParams{Since: at(1), Until: at(3)}, []string{resolved.DeliveryID, second.DeliveryID}},
			{"trxID since", store.ListParams{TrxID: "T1", Since: at(1)}, []string{second.DeliveryID}},
			{"trxID and type", store.ListParams{TrxID: "T1", EventType: "case_resolved"}, nil},
			{"trxID and status", store.ListParams{TrxID: "T2", Status: otw.DeliveryPending}, []string{other.DeliveryID}},
		} {
			c.p.OrganizationID = org1
			wantEqualIDs(t, c.what, deliveryIDs(list(t, s, c.p)), c.want)
		}
		// Paged as the whole log is.
		page, next, err := s.ListDeliveries(t.Context(), store.ListParams{OrganizationID: org1, TrxID: "T1", Limit: 1})
		if err != nil || len(page) != 1 || page[0].ID != second.DeliveryID || next == "" {
			t.Fatalf("first page of trxID T1: %v, next %q, %v", deliveryIDs(page), next, err)
		}
		page, next, err = s.ListDeliveries(t.Context(), store.ListParams{OrganizationID: org1, TrxID: "T1", Limit: 1, Cursor: next})
		if err != nil || len(page) != 1 || page[0].ID != first.DeliveryID || next != "" {
			t.Fatalf("second page of trxID T1: %v, next %q, %v", deliveryIDs(page), next, err)
		}
	},
	// A dry run counts what the retry then sends, and the retried
	// deliveries of one key go out earliest first.
	"BulkRetryKeepsOrderPerKey": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		newSubscribedOrg(t, s, org2)
		var k []string
		for i := range 3 {
			at := t0.Add(time.Duration(i) * time.Second)
			k = append(k, deliver(t, s, org1, "m:K", at))
			sendOnce(t, s, k[i], otw.DeliveryFailed, 500, at)
		}
		lone := deliver(t, s, org1, "m:L", t0.Add(3*time.Second))
		sendOnce(t, s, lone, otw.DeliveryFailed, 500, t0.Add(3*time.Second))
		ok := deliver(t, s, org1, "m:K", t0.Add(4*time.Second))
		sendOnce(t, s, ok, otw.DeliverySucceeded, 200, t0.Add(4*time.Second))
		foreign := deliver(t, s, org2, "m:K", t0)
		sendOnce(t, s, foreign, otw.DeliveryFailed, 500, t0)

		now := t0.Add(time.Hour)
		failed := store.DeliveryFilter{OrganizationID: org1, Status: otw.DeliveryFailed}
		retry := func(p store.RetryParams) (int, bool) {
			t.Helper()
			p.Now = now
			n, more, err := s.RetryDeliveries(t.Context(), p)
			if err != nil {
				t.Fatalf("RetryDeliveries(%+v): %v", p, err)
			}
			return n, more
		}
		if n, more := retry(store.RetryParams{DeliveryFilter: failed, Limit: 2, DryRun: true}); n != 2 || !more {
			t.Fatalf("dry run, limit 2: %d, more %v; want 2 and more", n, more)
		}
		byKey := failed
		byKey.TrxID = "K"
		if n, more := retry(store.RetryParams{DeliveryFilter: byKey, Limit: 10, DryRun: true}); n != 3 || more {
			t.Fatalf("dry run of trxID K: %d, more %v; want 3", n, more)
		}
		dry, _ := retry(store.RetryParams{DeliveryFilter: failed, Limit: 10, DryRun: true})
		if got := list(t, s, store.ListParams{OrganizationID: org1, Status: otw.DeliveryFailed}); len(got) != 4 || dry != 4 {
			t.Fatalf("dry run counted %d and left %d failed; want 4 and 4", dry, len(got))
		}
		if n, more := retry(store.RetryParams{DeliveryFilter: failed, Limit: 10}); n != dry || more {
			t.Fatalf("retried %d, more %v; the dry run counted %d", n, more, dry)
		}
		if got := list(t, s, store.ListParams{OrganizationID: org1, Status: otw.DeliveryPending}); len(got) != dry {
			t.Fatalf("%d pending after the retry, want %d", len(got), dry)
		}
		if d := getDelivery(t, s, org2, foreign); d.Status != otw.DeliveryFailed {
			t.Fatalf("another organization's delivery is %s", d.Status)
		}
		if d := getDelivery(t, s, org1, ok); d.Status != otw.DeliverySucceeded {
			t.Fatalf("a succeeded delivery is %s", d.Status)
		}
		// Each claim takes only the first in line of key K.
		for i := range k {
			c := claim(t, s, claimParams(now))
			want := []string{k[i]}
			if i == 0 {
				want = append(want, lone)
			}
			wantSameIDs(t, "claim after the bulk retry", claimedIDs(c), want...)
			for _, d := range c {
				complete(t, s, result(d, otw.DeliverySucceeded, 200, now))
			}
		}
	},
	"BulkRetryRefusesPending": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		id := deliver(t, s, org1, "m:P", t0)
		for _, status := range []string{otw.DeliveryPending, ""} {
			_, _, err := s.RetryDeliveries(t.Context(), store.RetryParams{
				DeliveryFilter: store.DeliveryFilter{OrganizationID: org1, Status: status}, Limit: 10, Now: t0})
			wantField(t, err, "status")
		}
		if d := getDelivery(t, s, org1, id); d.Status != otw.DeliveryPending || d.AttemptCount != 0 {
			t.Fatalf("pending delivery became %s after %d attempts", d.Status, d.AttemptCount)
		}
	},
}
