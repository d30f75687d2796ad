package storetest

import (
	"context"
	"testing"

	"github.com/onetalk/onetalk-webhooks/internal/otw"

	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// Only the healthy half of CheckWrite is common ground: how a database
// fails (a full disk, a closed port) is each driver's own test.
var healthTests = map[string]func(*testing.T, store.Store){
	"CheckWriteOnAHealthyStore": func(t *testing.T, s store.Store) {
		// Twice: the second rewrites the row the first wrote.
		for range 2 {
			if err := s.CheckWrite(t.Context()); err != nil {
				t.Fatalf("CheckWrite on a healthy store: %v", err)
			}
		}
	},
	// A publisher that hangs up mid-insert says nothing of the database:
	// the store stays ready.
	"CanceledWriteLeavesTheStoreReady": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, _, err := s.InsertEvents(ctx, []otw.Event{event(org1, "case_resolved", "", t0)}, t0, store.Take{}); err == nil {
			t.Fatal("an insert with a canceled context succeeded")
		}
		if err := s.CheckWrite(t.Context()); err != nil {
			t.Fatalf("CheckWrite after a canceled insert: %v; want ready", err)
		}
	},
	"CheckWriteLeavesTheServiceTablesAlone": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		id := deliver(t, s, org1, "", t0)
		if err := s.CheckWrite(t.Context()); err != nil {
			t.Fatal(err)
		}
		if ds := list(t, s, store.ListParams{OrganizationID: org1}); len(ds) != 1 || ds[0].ID != id {
			t.Fatalf("after CheckWrite the organization lists %v, want only %s", deliveryIDs(ds), id)
		}
		if n, err := s.CountPending(t.Context()); err != nil || n != 1 {
			t.Fatalf("CountPending = %d, %v; want 1", n, err)
		}
	},
}
