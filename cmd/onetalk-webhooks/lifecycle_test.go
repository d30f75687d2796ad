package main

import (
	"strings"
	"testing"
	"time"
)

// The admin renames an organization, lists its keys (never the key
// itself), and deletes it: its key answers 401 at once, and it is gone
// from the API.
func TestOrganizationLifecycle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startServer(t, dir, "--db", "sqlite:"+dir+"/otw.db")
	rc := newReceiver(t, nil)
	key := s.createOrg(1111, rc.URL)
	s.mustDo(202, "POST", "/v1/events", s.Token, messageStatus(1111, "trx-1", "delivered"))
	rc.waitForDistinct(t, 5*time.Second, 1)
	s.mustDo(200, "GET", "/v1/organizations/1111/webhook", key, nil) // the key works, and is used

	if o := s.mustDo(200, "PATCH", "/v1/organizations/1111", s.Token, map[string]any{"name": "Acme Inc"}); o["name"] != "Acme Inc" {
		t.Fatalf("PATCH answered %v", o)
	}
	if r := s.do("PATCH", "/v1/organizations/1111", s.Token, map[string]any{"name": ""}); r.Status != 422 || !strings.Contains(string(r.Body), `"name"`) {
		t.Fatalf("an empty name: %d %s; want 422 naming name", r.Status, r.Body)
	}
	if r := s.do("PATCH", "/v1/organizations/1111", key, map[string]any{"name": "Mine"}); r.Status != 403 {
		t.Fatalf("an organization key renaming: %d, want 403 (admin only)", r.Status)
	}
	keys := s.mustDo(200, "GET", "/v1/organizations/1111/api-keys", s.Token, nil)["data"].([]any)
	if len(keys) != 1 {
		t.Fatalf("%d keys listed, want 1", len(keys))
	}
	k := keys[0].(map[string]any)
	if p, _ := k["prefix"].(string); !strings.HasPrefix(key, p) || len(p) < 6 || len(p) > 12 {
		t.Fatalf("prefix %q of key %q", p, key)
	}
	for _, v := range k {
		if s, ok := v.(string); ok && s == key {
			t.Fatal("the key itself is listed")
		}
	}

	if r := s.do("DELETE", "/v1/organizations/1111", s.Token, nil); r.Status != 204 {
		t.Fatalf("DELETE: %d %s", r.Status, r.Body)
	}
	if r := s.do("GET", "/v1/organizations/1111/webhook", key, nil); r.Status != 401 {
		t.Fatalf("the deleted organization's key: %d, want 401 at once", r.Status)
	}
	for _, path := range []string{"/v1/organizations/1111", "/v1/organizations/1111/api-keys"} {
		if r := s.do("GET", path, s.Token, nil); r.Status != 404 {
			t.Fatalf("GET %s after delete: %d, want 404", path, r.Status)
		}
	}
	if r := s.do("DELETE", "/v1/organizations/1111", s.Token, nil); r.Status != 404 {
		t.Fatalf("deleting it again: %d, want 404", r.Status)
	}
}
