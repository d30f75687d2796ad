package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// With a short retention, a delivered event is removed once it is older
// than the window, and the API says why it is gone; a delivery still
// pending (its receiver failing) stays whatever its age; a recover that
// reaches back beyond the retention says what it could not recover.
func TestRetentionRemovesOldDeliveriesAndSaysSo(t *testing.T) {
	t.Parallel()
	ok := newReceiver(t, nil)
	failing := newReceiver(t, func(int, http.ResponseWriter, *http.Request) int { return 500 })
	dir := t.TempDir()
	s := startServer(t, dir, "--db", "sqlite:"+dir+"/otw.db", "--retention", "2s", "--retry-schedule", "1h")
	okKey := s.createOrg(1111, ok.URL)
	failKey := s.createOrg(2222, failing.URL)
	delivered := s.mustDo(202, "POST", "/v1/events", s.Token, messageStatus(1111, "trx-old", "delivered"))["deliveryID"].(string)
	pending := s.mustDo(202, "POST", "/v1/events", s.Token, messageStatus(2222, "trx-pending", "delivered"))["deliveryID"].(string)
	ok.waitForDistinct(t, 5*time.Second, 1)
	failing.waitForDistinct(t, 5*time.Second, 1)

	var gone response
	eventually(t, 15*time.Second, "the delivered event to be removed", func() bool {
		gone = s.do("GET", "/v1/organizations/1111/deliveries/"+delivered, okKey, nil)
		return gone.Status == 404
	})
	if !strings.Contains(string(gone.Body), "deliveries are kept for 2s (the retention)") {
		t.Fatalf("404 of a removed delivery: %s; want it to name the retention", gone.Body)
	}
	if d := s.mustDo(200, "GET", "/v1/organizations/2222/deliveries/"+pending, failKey, nil); d["status"] != "pending" {
		t.Fatalf("the pending delivery is %v after the retention passed, want still pending", d["status"])
	}
	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	rec := s.mustDo(202, "POST", "/v1/organizations/1111/deliveries/recover", okKey, map[string]any{"since": since})
	if note, _ := rec["note"].(string); !strings.Contains(note, "past the retention (2s)") {
		t.Fatalf("recover reaching back an hour answered %v; want a note about the retention", rec)
	}
}
