package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The admin renames an organization, sees its keys by their first
// characters only, and deletes it after typing its ID: the organization
// and its key are gone. An organization's own key cannot reach the page.
func TestAdminManagesAnOrganization(t *testing.T) {
	e := newEnv(t)
	key := e.createOrg(1111, "Acme")
	e.createOrg(2222, "Beta")
	b := e.browser()
	b.post("/login", url.Values{"token": {e.Admin}})

	p := b.get("/organizations/1111")
	if p.Status != 200 || !strings.Contains(p.Body, key[:10]) || strings.Contains(p.Body, key) {
		t.Fatalf("manage page: %d; want the key's first characters and never the key:\n%s", p.Status, p.Body)
	}
	if p := b.get("/organization"); !strings.Contains(p.Body, `href="/organizations/1111"`) {
		t.Fatal("the list has no way to manage an organization")
	}
	if p := b.post("/organizations/1111/rename", url.Values{"name": {"  "}}); p.Status != 422 || !strings.Contains(p.Body, "1 to 200 characters") {
		t.Fatalf("an empty name: %d", p.Status)
	}
	if p := b.post("/organizations/1111/rename", url.Values{"name": {"Acme Inc"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("rename: %d", p.Status)
	}
	if p := b.get("/organizations/1111?notice=renamed"); !strings.Contains(p.Body, "Acme Inc") || !strings.Contains(p.Body, "Organization renamed.") {
		t.Fatal("the new name is not shown")
	}
	if p := b.post("/organizations/1111/delete", url.Values{"confirm": {"2222"}}); p.Status != 422 || !strings.Contains(p.Body, "Type the organization") {
		t.Fatalf("delete with another ID typed: %d; want it refused", p.Status)
	}
	if st := e.call("GET", "/v1/organizations/1111", e.Admin, nil, nil); st != 200 {
		t.Fatalf("the organization is gone after a refused delete: %d", st)
	}
	p = b.post("/organizations/1111/delete", url.Values{"confirm": {"1111"}})
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/organization?notice=deleted" {
		t.Fatalf("delete: %d to %q", p.Status, p.Header.Get("Location"))
	}
	if st := e.call("GET", "/v1/organizations/1111", e.Admin, nil, nil); st != 404 {
		t.Fatalf("GET the deleted organization: %d, want 404", st)
	}
	if st := e.call("GET", "/v1/organizations/1111/webhook", key, nil, nil); st != 401 {
		t.Fatalf("the deleted organization's key: %d, want 401", st)
	}
	if p := b.get("/organizations/1111"); p.Status != 404 {
		t.Fatalf("the manage page of a deleted organization: %d, want 404", p.Status)
	}

	// An organization's key signs in to its own pages, not the admin's.
	beta := e.browser()
	beta.post("/login", url.Values{"token": {e.createKey(2222)}})
	if p := beta.get("/organizations/2222"); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/webhooks" {
		t.Fatalf("an organization key on the manage page: %d to %q", p.Status, p.Header.Get("Location"))
	}
	if p := beta.post("/organizations/2222/delete", url.Values{"confirm": {"2222"}}); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/webhooks" {
		t.Fatalf("an organization key deleting: %d", p.Status)
	}
	if st := e.call("GET", "/v1/organizations/2222", e.Admin, nil, nil); st != 200 {
		t.Fatalf("an organization key deleted its organization: %d", st)
	}
}
