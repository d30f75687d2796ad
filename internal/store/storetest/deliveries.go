package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

var listTests = map[string]func(*testing.T, store.Store){
	"NewestFirstInPages": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		newSubscribedOrg(t, s, org2)
		var ids []string
		for i := range 7 {
			at := t0.Add(time.Duration(i) * time.Second)
			ids = append(ids, deliver(t, s, org1, "", at))
			deliver(t, s, org2, "", at) // interleaved, never shown to org1
		}
		slices.Reverse(ids)
		var got []string
		var sizes []int
		cursor := ""
		for range 4 {
			page, next, err := s.ListDeliveries(t.Context(), store.ListParams{OrganizationID: org1, Limit: 3, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(page))
			got = append(got, deliveryIDs(page)...)
			if cursor = next; cursor == "" {
				break
			}
		}
		if !slices.Equal(sizes, []int{3, 3, 1}) {
			t.Fatalf("page sizes %v, want [3 3 1] and then no cursor", sizes)
		}
		wantEqualIDs(t, "deliveries paged newest first", got, ids)
	},
	"LastFullPageHasNoCursor": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		for range 6 {
			deliver(t, s, org1, "", t0)
		}
		page, next, err := s.ListDeliveries(t.Context(), store.ListParams{OrganizationID: org1, Limit: 3})
		if err != nil || len(page) != 3 || next == "" {
			t.Fatalf("first page: %d deliveries, next %q, %v; want 3 and a cursor", len(page), next, err)
		}
		page, next, err = s.ListDeliveries(t.Context(), store.ListParams{OrganizationID: org1, Limit: 3, Cursor: next})
		if err != nil || len(page) != 3 || next != "" {
			t.Fatalf("last page: %d deliveries, next %q, %v; want 3 and no cursor", len(page), next, err)
		}
	},
	"FiltersByStatusAndType": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1, "case_resolved", "integration_message_status")
		ok := deliver(t, s, org1, "", t0)
		sendOnce(t, s, ok, otw.DeliverySucceeded, 200, t0)
		dead := deliver(t, s, org1, "", t0)
		sendOnce(t, s, dead, otw.DeliveryFailed, 0, t0)
		waiting := deliver(t, s, org1, "", t0)
		msg := insert(t, s, t0, event(org1, "integration_message_status", "m:1", t0))[0].DeliveryID

		for _, c := range []struct {
			p    store.ListParams
			want []string
		}{
			{store.ListParams{Status: otw.DeliverySucceeded}, []string{ok}},
			{store.ListParams{Status: otw.DeliveryFailed}, []string{dead}},
			{store.ListParams{Status: otw.DeliveryPending}, []string{msg, waiting}},
			{store.ListParams{EventType: "integration_message_status"}, []string{msg}},
			{store.ListParams{EventType: "case_resolved"}, []string{waiting, dead, ok}},
			{store.ListParams{Status: otw.DeliveryPending, EventType: "case_resolved"}, []string{waiting}},
		} {
			c.p.OrganizationID = org1
			ds := list(t, s, c.p)
			wantEqualIDs(t, "status "+c.p.Status+" type "+c.p.EventType, deliveryIDs(ds), c.want)
			for _, d := range ds {
				if (c.p.Status != "" && d.Status != c.p.Status) || (c.p.EventType != "" && d.EventType != c.p.EventType) {
					t.Fatalf("listed %+v for filter %+v", d, c.p)
				}
			}
		}
	},
	// A test event's own order key comes back with its delivery, listed
	// or got, and marks it a test.
	"OrderKeyMarksTests": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		published := deliver(t, s, org1, "c:958CCF3BB6", t0)
		e := event(org1, "case_resolved", "", t0)
		e.OrderKey = otw.TestOrderKey(e.ID)
		test := insert(t, s, t0, e)[0].DeliveryID
		for _, d := range list(t, s, store.ListParams{OrganizationID: org1}) {
			switch {
			case d.ID == published && (d.OrderKey != "c:958CCF3BB6" || d.IsTest()):
				t.Fatalf("listed real delivery: order key %q, test %v", d.OrderKey, d.IsTest())
			case d.ID == test && (d.OrderKey != e.OrderKey || !d.IsTest()):
				t.Fatalf("listed test delivery: order key %q, test %v", d.OrderKey, d.IsTest())
			}
		}
		if d := getDelivery(t, s, org1, test); d.OrderKey != e.OrderKey || !d.IsTest() {
			t.Fatalf("got test delivery: order key %q, test %v", d.OrderKey, d.IsTest())
		}
		if d := getDelivery(t, s, org1, published); d.IsTest() {
			t.Fatal("got real delivery marked a test")
		}
	},
	"BadCursor": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		deliver(t, s, org1, "", t0)
		_, _, err := s.ListDeliveries(t.Context(), store.ListParams{OrganizationID: org1, Limit: 3, Cursor: "%%not a cursor%%"})
		wantCode(t, err, otw.EINVALID, "ListDeliveries with a made-up cursor")
	},
	"GetOtherOrganizationsDelivery": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		newSubscribedOrg(t, s, org2)
		id := deliver(t, s, org2, "", t0)
		_, err := s.GetDelivery(t.Context(), org1, id)
		wantCode(t, err, otw.ENOTFOUND, "GetDelivery of another organization's delivery")
		_, err = s.GetDelivery(t.Context(), org1, "dlv_nope")
		wantCode(t, err, otw.ENOTFOUND, "GetDelivery of an unknown ID")
	},
}
