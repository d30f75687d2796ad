package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onetalk/onetalk-webhooks/internal/api"
	"github.com/onetalk/onetalk-webhooks/internal/seal"
	"github.com/onetalk/onetalk-webhooks/internal/service"
	"github.com/onetalk/onetalk-webhooks/internal/store/sqlite"
)

// GET /v1/organizations lists every organization to the admin, in ID
// order and paged as the deliveries list pages; an organization's key is
// refused, and so is a limit out of range.
func TestListOrganizations(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "otw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	box, err := seal.New(make([]byte, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	const admin = "ota_list-organizations-admin-token"
	mux := http.NewServeMux()
	svc := service.New(service.Config{Store: st, Box: box, AdminTokenHash: service.HashToken(admin)})
	api.New(api.Config{Service: svc}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	call := func(method, path, token, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m
	}
	var orgKey string
	for _, o := range []string{`{"organizationID":3333,"name":"Gamma"}`, `{"organizationID":1111,"name":"Alpha"}`, `{"organizationID":2222,"name":"Beta"}`} {
		status, m := call("POST", "/v1/organizations", admin, o)
		if status != http.StatusCreated {
			t.Fatalf("creating %s: %d %v", o, status, m)
		}
		orgKey = m["apiKey"].(string)
	}

	var names []string
	var pages int
	path := "/v1/organizations?limit=2"
	for path != "" {
		status, m := call("GET", path, admin, "")
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, status, m)
		}
		pages++
		for _, o := range m["data"].([]any) {
			o := o.(map[string]any)
			if len(o) != 3 || o["organizationID"] == nil || o["createdAt"] == nil {
				t.Errorf("listed %v, want organizationID, name and createdAt only", o)
			}
			names = append(names, o["name"].(string))
		}
		path = ""
		if next, ok := m["nextCursor"].(string); ok {
			path = "/v1/organizations?limit=2&cursor=" + next
		} else if m["nextCursor"] != nil {
			t.Fatalf("nextCursor = %v, want a string or null", m["nextCursor"])
		}
	}
	if pages != 2 || strings.Join(names, ",") != "Alpha,Beta,Gamma" {
		t.Errorf("%d pages listing %v, want 2 listing Alpha, Beta, Gamma", pages, names)
	}

	if status, _ := call("GET", "/v1/organizations", orgKey, ""); status != http.StatusForbidden {
		t.Errorf("an organization's key: status %d, want 403", status)
	}
	for _, q := range []string{"limit=0", "limit=251", "cursor=abc"} {
		if status, m := call("GET", "/v1/organizations?"+q, admin, ""); status != http.StatusUnprocessableEntity {
			t.Errorf("?%s: status %d %v, want 422", q, status, m)
		}
	}
}
