package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// Populate gives an organization something of every kind a deletion must
// remove: a key used and another revoked, a webhook, a delivered event
// with its attempt, a pending one with a failed attempt, and an event its
// webhook does not take. A driver's own test then reads every table.
func Populate(t *testing.T, s store.Store, org int64) {
	t.Helper()
	newSubscribedOrg(t, s, org)
	extra := otw.APIKey{ID: otw.NewID("key_", t0), OrganizationID: org, Hash: []byte(otw.NewID("hash_", t0)), Prefix: "otk_abcd", CreatedAt: t0}
	if err := s.CreateAPIKey(t.Context(), extra); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAPIKey(t.Context(), org, extra.ID, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchAPIKey(t.Context(), keyID(org), t0); err != nil {
		t.Fatal(err)
	}
	done := deliver(t, s, org, "m:1", t0)
	sendOnce(t, s, done, otw.DeliverySucceeded, 200, t0)
	pending := deliver(t, s, org, "m:2", t0)
	sendOnce(t, s, pending, otw.DeliveryPending, 500, t0)
	insert(t, s, t0, event(org, "integration_message_status", "", t0)) // not subscribed
}

func keyID(org int64) string { return fmt.Sprintf("key_%d", org) }

var lifecycleTests = map[string]func(*testing.T, store.Store){
	"DeleteRemovesTheOrganizationAndLeavesOthers": func(t *testing.T, s store.Store) {
		Populate(t, s, org1)
		Populate(t, s, org2)
		if err := s.DeleteOrganization(t.Context(), org1); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetOrganization(t.Context(), org1); !otw.IsNotFound(err) {
			t.Fatalf("GetOrganization after delete: %v, want not found", err)
		}
		if _, err := s.FindAPIKey(t.Context(), []byte(fmt.Sprintf("hash-%d", org1))); !otw.IsNotFound(err) {
			t.Fatalf("FindAPIKey of a deleted organization's key: %v, want not found (401 at once)", err)
		}
		if _, err := s.GetWebhook(t.Context(), org1); !otw.IsNotFound(err) {
			t.Fatalf("GetWebhook after delete: %v, want not found", err)
		}
		if ds := list(t, s, store.ListParams{OrganizationID: org1, Limit: 10}); len(ds) != 0 {
			t.Fatalf("deliveries left after delete: %v", deliveryIDs(ds))
		}
		if ds := list(t, s, store.ListParams{OrganizationID: org2, Limit: 10}); len(ds) != 2 {
			t.Fatalf("the other organization has %d deliveries after the delete, want its 2", len(ds))
		}
		wantCode(t, s.DeleteOrganization(t.Context(), org1), otw.ENOTFOUND, "deleting it again")
	},
	"RenameAndListKeys": func(t *testing.T, s store.Store) {
		Populate(t, s, org1)
		o, err := s.RenameOrganization(t.Context(), org1, "Acme Inc")
		if err != nil || o.Name != "Acme Inc" || o.ID != org1 || !o.CreatedAt.Equal(t0) {
			t.Fatalf("RenameOrganization = %+v, %v", o, err)
		}
		wantCode(t, func() error { _, err := s.RenameOrganization(t.Context(), org2, "x"); return err }(), otw.ENOTFOUND, "renaming an unknown organization")
		keys, err := s.ListAPIKeys(t.Context(), org1)
		if err != nil || len(keys) != 2 {
			t.Fatalf("ListAPIKeys = %d keys, %v; want 2", len(keys), err)
		}
		used, revoked := keys[0], keys[1]
		if used.ID != keyID(org1) {
			used, revoked = revoked, used
		}
		if used.ID != keyID(org1) || used.LastUsedAt == nil || !used.LastUsedAt.Equal(t0) || used.RevokedAt != nil {
			t.Fatalf("the used key: %+v", used)
		}
		if revoked.Prefix != "otk_abcd" || revoked.RevokedAt == nil || revoked.LastUsedAt != nil {
			t.Fatalf("the revoked key: %+v", revoked)
		}
		if err := s.TouchAPIKey(t.Context(), used.ID, t0.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		keys, _ = s.ListAPIKeys(t.Context(), org1)
		for _, k := range keys {
			if k.ID == used.ID && !k.LastUsedAt.Equal(t0) {
				t.Fatalf("an older use moved lastUsedAt back to %v", k.LastUsedAt)
			}
		}
		_, err = s.ListAPIKeys(t.Context(), org3)
		wantCode(t, err, otw.ENOTFOUND, "ListAPIKeys of an unknown organization")
	},
}
