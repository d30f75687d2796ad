package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

var organizationTests = map[string]func(*testing.T, store.Store){
	"CreateThenGet": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		o, err := s.GetOrganization(t.Context(), org1)
		if err != nil {
			t.Fatal(err)
		}
		if o.ID != org1 || o.Name != "Org 1001" || !o.CreatedAt.Equal(t0) {
			t.Fatalf("GetOrganization = %+v, want ID %d, name Org 1001, created %v", o, org1, t0)
		}
	},
	"DuplicateIDConflicts": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		err := s.CreateOrganization(t.Context(), otw.Organization{ID: org1, Name: "Again", CreatedAt: t0},
			otw.APIKey{ID: "key_again", OrganizationID: org1, Hash: []byte("hash-again"), CreatedAt: t0})
		wantCode(t, err, otw.ECONFLICT, "second CreateOrganization with the same ID")
		// All or nothing: the key of the refused organization does not log in.
		_, err = s.FindAPIKey(t.Context(), []byte("hash-again"))
		wantCode(t, err, otw.ENOTFOUND, "FindAPIKey of the refused organization's key")
	},
	"GetUnknown": func(t *testing.T, s store.Store) {
		_, err := s.GetOrganization(t.Context(), org1)
		wantCode(t, err, otw.ENOTFOUND, "GetOrganization of an unknown ID")
	},
	"FindAPIKeyByHash": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		k, err := s.FindAPIKey(t.Context(), []byte("hash-1001"))
		if err != nil {
			t.Fatal(err)
		}
		if k.ID != "key_1001" || k.OrganizationID != org1 || string(k.Hash) != "hash-1001" || !k.CreatedAt.Equal(t0) || k.RevokedAt != nil {
			t.Fatalf("FindAPIKey = %+v, want the live key_1001 of %d", k, org1)
		}
		_, err = s.FindAPIKey(t.Context(), []byte("no such hash"))
		wantCode(t, err, otw.ENOTFOUND, "FindAPIKey of an unknown hash")
	},
	"CreateAndRevokeAPIKey": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		key := otw.APIKey{ID: "key_second", OrganizationID: org1, Hash: []byte("hash-second"), CreatedAt: t0.Add(time.Hour)}
		if err := s.CreateAPIKey(t.Context(), key); err != nil {
			t.Fatal(err)
		}
		revoked := t0.Add(2 * time.Hour)
		if err := s.RevokeAPIKey(t.Context(), org1, "key_second", revoked); err != nil {
			t.Fatal(err)
		}
		// Revoked keys are still found, so the caller can say "revoked"
		// rather than "unknown".
		k, err := s.FindAPIKey(t.Context(), []byte("hash-second"))
		if err != nil {
			t.Fatal(err)
		}
		if k.ID != "key_second" {
			t.Fatalf("FindAPIKey found %s, want key_second", k.ID)
		}
		wantTime(t, "RevokedAt", k.RevokedAt, revoked)
		// The first key is untouched.
		if k, err := s.FindAPIKey(t.Context(), []byte("hash-1001")); err != nil || k.RevokedAt != nil {
			t.Fatalf("first key after revoking the second: %+v, %v; want live", k, err)
		}
		err = s.RevokeAPIKey(t.Context(), org1, "key_second", revoked.Add(time.Hour))
		wantCode(t, err, otw.ENOTFOUND, "revoking a revoked key")
	},
	"RevokeUnknownOrOthersKey": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		newOrg(t, s, org2)
		wantCode(t, s.RevokeAPIKey(t.Context(), org1, "key_nope", t0), otw.ENOTFOUND, "revoking an unknown key")
		wantCode(t, s.RevokeAPIKey(t.Context(), org1, "key_1002", t0), otw.ENOTFOUND, "revoking another organization's key")
		if k, err := s.FindAPIKey(t.Context(), []byte("hash-1002")); err != nil || k.RevokedAt != nil {
			t.Fatalf("other organization's key after the refused revoke: %+v, %v; want live", k, err)
		}
	},
	"ListInIDOrderInPages": func(t *testing.T, s store.Store) {
		// Created out of order: the list is in ID order all the same.
		for _, id := range []int64{org3, org1, 7, org2, 42} {
			newOrg(t, s, id)
		}
		var got []int64
		var sizes []int
		cursor := ""
		for range 4 {
			page, next, err := s.ListOrganizations(t.Context(), store.PageParams{Limit: 2, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(page))
			for _, o := range page {
				got = append(got, o.ID)
				if o.Name != fmt.Sprintf("Org %d", o.ID) || !o.CreatedAt.Equal(t0) {
					t.Fatalf("listed %+v, want the name and creation time it was created with", o)
				}
			}
			if cursor = next; cursor == "" {
				break
			}
		}
		if !slices.Equal(sizes, []int{2, 2, 1}) || !slices.Equal(got, []int64{7, 42, org1, org2, org3}) {
			t.Fatalf("pages of %v listing %v, want [2 2 1] listing [7 42 %d %d %d]", sizes, got, org1, org2, org3)
		}
	},
	"ListLastFullPageHasNoCursor": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		newOrg(t, s, org2)
		page, next, err := s.ListOrganizations(t.Context(), store.PageParams{Limit: 2})
		if err != nil || len(page) != 2 || next != "" {
			t.Fatalf("ListOrganizations = %d organizations, next %q, %v; want 2 and no cursor", len(page), next, err)
		}
	},
	"ListEmptyAndBadCursor": func(t *testing.T, s store.Store) {
		page, next, err := s.ListOrganizations(t.Context(), store.PageParams{Limit: 10})
		if err != nil || page == nil || len(page) != 0 || next != "" {
			t.Fatalf("ListOrganizations of none = %v, %q, %v; want an empty page", page, next, err)
		}
		_, _, err = s.ListOrganizations(t.Context(), store.PageParams{Limit: 10, Cursor: "x"})
		wantCode(t, err, otw.EINVALID, "ListOrganizations with a cursor no page returned")
	},
	"CreateAPIKeyUnknownOrganization": func(t *testing.T, s store.Store) {
		err := s.CreateAPIKey(t.Context(), otw.APIKey{ID: "key_orphan", OrganizationID: org1, Hash: []byte("orphan"), CreatedAt: t0})
		wantCode(t, err, otw.ENOTFOUND, "CreateAPIKey for an unknown organization")
	},
}
