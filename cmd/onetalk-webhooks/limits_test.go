package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/onetalk/onetalk-webhooks/internal/event"
)

// Hostile shapes of request are answered with the status that names the
// limit, and the server goes on serving: 100 KiB of headers get 431, a
// webhook body nested beyond encoding/json's depth 400, an event nested
// deeper than 64 levels 422 naming the field, and 256 KiB of brackets 400.
func TestHostileRequestsHitLimits(t *testing.T) {
	t.Parallel()
	s := sqliteDB.start(t, t.TempDir())
	key := s.createOrg(31, "https://example.com/hook")

	big := map[string]string{}
	for i := range 100 {
		big[fmt.Sprintf("X-Padding-%d", i)] = strings.Repeat("a", 1024)
	}
	if r := s.doWith("GET", "/v1/organizations/31/webhook", key, nil, big); r.Status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("100 KiB of headers: status %d, want 431", r.Status)
	}

	deep := `{"enabled":true,"url":"https://example.com/hook","subscribedEvents":["case_resolved"],"x":` +
		strings.Repeat("[", 12000) + strings.Repeat("]", 12000) + "}"
	if r := s.do("PUT", "/v1/organizations/31/webhook", key, deep); r.Status != http.StatusBadRequest {
		t.Errorf("a webhook body 12000 levels deep: status %d, want 400: %.300s", r.Status, r.Body)
	}

	ev, err := event.Example(event.TypeCaseResolved, 31)
	if err != nil {
		t.Fatal(err)
	}
	nested := strings.Replace(string(ev), `"organizationID"`, `"x":`+strings.Repeat("[", 1000)+strings.Repeat("]", 1000)+`,"organizationID"`, 1)
	r := s.do("POST", "/v1/events", s.Token, nested)
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `"field":"x[0][0]`) || !strings.Contains(string(r.Body), "nests deeper than 64 levels") {
		t.Errorf("an event 1000 levels deep: status %d, want 422 naming x[0][0]…: %.300s", r.Status, r.Body)
	}
	brackets := strings.Repeat("[", event.MaxEventBytes)
	if r := s.do("POST", "/v1/events", s.Token, brackets); r.Status != http.StatusBadRequest {
		t.Errorf("256 KiB of '[': status %d, want 400: %.300s", r.Status, r.Body)
	}

	// Nothing of it was stored or broke the server.
	s.mustDo(200, "GET", "/v1/organizations/31/webhook", key, nil)
	if list := s.mustDo(200, "GET", "/v1/organizations/31/deliveries", key, nil); len(list["data"].([]any)) != 0 {
		t.Errorf("refused events made deliveries: %v", list["data"])
	}
}
