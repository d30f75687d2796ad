package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/webhook"
)

// The platform's ops receiver gets signed webhook.disabled (a 410),
// delivery.exhausted (a schedule's last attempt failed) and
// webhook.recovered (a failing endpoint answered 2xx), even though it
// answered 503 to the first ones: ops events are delivered and retried as
// any organization's, and the admin reads them in organization 0's log.
func TestOpsWebhookEvents(t *testing.T) {
	eachDB(t, func(t *testing.T, db database) {
		secret := newOpsSecret()
		ops := newReceiver(t, func(n int, _ http.ResponseWriter, _ *http.Request) int {
			if n <= 2 {
				return 503 // down for a while
			}
			return 200
		})
		gone := newReceiver(t, func(int, http.ResponseWriter, *http.Request) int { return 410 })
		failing := newReceiver(t, func(int, http.ResponseWriter, *http.Request) int { return 500 })
		flaky := newReceiver(t, func(n int, _ http.ResponseWriter, _ *http.Request) int {
			if n == 1 {
				return 500
			}
			return 200
		})
		s := db.start(t, t.TempDir(), "--retry-schedule", "100ms,100ms,100ms",
			"--ops-webhook-url", ops.URL, "--ops-webhook-secret", secret)
		key := s.createOrg(1111, gone.URL)
		s.createOrg(2222, failing.URL)
		s.createOrg(3333, flaky.URL)
		s.mustDo(202, "POST", "/v1/events", s.Token, messageStatus(1111, "g1", "read"))
		exhausted := s.mustDo(202, "POST", "/v1/events", s.Token, messageStatus(2222, "f1", "read"))
		s.mustDo(202, "POST", "/v1/events", s.Token, messageStatus(3333, "r1", "read"))

		type opsEvent struct {
			Type           string `json:"type"`
			OrganizationID int64  `json:"organizationID"`
			Reason         string `json:"reason"`
			Message        string `json:"message"`
			DeliveryID     string `json:"deliveryID"`
			EventID        string `json:"eventID"`
			LastError      string `json:"lastError"`
		}
		got := map[string]opsEvent{}
		ops.waitFor(t, 15*time.Second, "the three ops events, answered 200", func(r []received) bool {
			for i, x := range r {
				if i < 2 {
					continue // answered 503: retried
				}
				if err := webhook.Verify(secret, x.Header, x.Body); err != nil {
					t.Fatalf("ops event signature: %v", err)
				}
				var e opsEvent
				if err := json.Unmarshal(x.Body, &e); err != nil {
					t.Fatalf("ops event body %s: %v", x.Body, err)
				}
				got[e.Type] = e
			}
			return len(got) == 3
		})
		if d := got["webhook.disabled"]; d.OrganizationID != 1111 || d.Reason != "410" || d.Message == "" {
			t.Errorf("webhook.disabled: %+v", d)
		}
		if e := got["delivery.exhausted"]; e.OrganizationID != 2222 || e.DeliveryID != exhausted["deliveryID"] ||
			e.EventID != exhausted["eventID"] || e.LastError == "" {
			t.Errorf("delivery.exhausted: %+v, want the delivery %v", e, exhausted)
		}
		if r := got["webhook.recovered"]; r.OrganizationID != 3333 {
			t.Errorf("webhook.recovered: %+v", r)
		}
		// The admin reads them in organization 0's log; an organization's key does not.
		page := s.mustDo(200, "GET", "/v1/organizations/0/deliveries", s.Token, nil)
		if n := len(page["data"].([]any)); n != 3 {
			t.Errorf("organization 0's log holds %d deliveries, want 3", n)
		}
		s.mustDo(403, "GET", "/v1/organizations/0/deliveries", key, nil)
		s.mustDo(403, "POST", "/v1/organizations/0/api-keys", s.Token, nil)
	})
}

func newOpsSecret() string {
	raw := make([]byte, 32)
	rand.Read(raw)
	return "whsec_" + base64.StdEncoding.EncodeToString(raw)
}

// The flags are the truth: started again with another ops URL and secret,
// the service signs the ops events with the new secret, to the new URL.
func TestOpsWebhookFollowsItsFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := "sqlite:" + dir + "/otw.db"
	first := newReceiver(t, nil)
	s := startServer(t, dir, "--db", db, "--ops-webhook-url", first.URL, "--ops-webhook-secret", newOpsSecret())
	token := s.Token
	s.kill()
	ops := newReceiver(t, nil)
	gone := newReceiver(t, func(int, http.ResponseWriter, *http.Request) int { return 410 })
	secret := newOpsSecret()
	s = startServer(t, dir, "--db", db, "--admin-token", token, "--ops-webhook-url", ops.URL, "--ops-webhook-secret", secret)
	s.createOrg(1111, gone.URL)
	s.mustDo(202, "POST", "/v1/events", s.Token, messageStatus(1111, "g1", "read"))
	got := ops.waitFor(t, 10*time.Second, "webhook.disabled at the new URL", func(r []received) bool { return len(r) >= 1 })
	if err := webhook.Verify(secret, got[0].Header, got[0].Body); err != nil {
		t.Errorf("signed with the old secret: %v", err)
	}
	if n := len(first.requests()); n != 0 {
		t.Errorf("the old ops URL got %d requests", n)
	}
}
