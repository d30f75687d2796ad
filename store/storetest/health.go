package storetest

import (
	"testing"

	"github.com/onetalk/onetalk-webhooks/store"
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
