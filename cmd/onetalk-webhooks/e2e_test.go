package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/webhook"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func readExample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := fs.ReadFile(webhook.Examples, name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The three real payloads arrive as published, compacted byte for byte,
// with webhook-id equal to the eventID the API returned and a signature
// that verifies with the webhook's secret.
func TestExamplesArriveCompactedAndSigned(t *testing.T) {
	eachDB(t, func(t *testing.T, db database) {
		rc := newReceiver(t, nil)
		s := db.start(t, t.TempDir())
		key1111 := s.createOrg(1111, rc.URL+"/hooks/onetalk")
		key1 := s.createOrg(1, rc.URL+"/hooks/onetalk")
		secret1111 := s.mustDo(200, "GET", "/v1/organizations/1111/webhook/secret", key1111, nil)["secret"].(string)
		secret1 := s.mustDo(200, "GET", "/v1/organizations/1/webhook/secret", key1, nil)["secret"].(string)
		if !strings.HasPrefix(secret1111, "whsec_") || secret1111 == secret1 {
			t.Fatalf("secrets %q and %q: want two distinct whsec_ secrets", secret1111, secret1)
		}

		want := map[string][]byte{} // eventID → compacted body
		secretOf := map[string]string{}
		for name, secret := range map[string]string{
			"integration_message_status.json":        secret1111,
			"integration_message_status_failed.json": secret1111,
			"case_resolved.json":                     secret1,
		} {
			raw := readExample(t, name)
			ans := s.mustDo(202, "POST", "/v1/events", s.Token, raw)
			id, _ := ans["eventID"].(string)
			if !strings.HasPrefix(id, "evt_") || ans["deliveryID"] == nil {
				t.Fatalf("publishing %s: answer %v", name, ans)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, raw); err != nil {
				t.Fatal(err)
			}
			want[id], secretOf[id] = compact.Bytes(), secret
		}

		got := rc.waitFor(t, 10*time.Second, "three deliveries", func(r []received) bool { return len(r) >= 3 })
		for _, r := range got {
			id := r.Header.Get("webhook-id")
			body, ok := want[id]
			if !ok {
				t.Fatalf("webhook-id %q is not an eventID the API returned", id)
			}
			if !bytes.Equal(r.Body, body) {
				t.Errorf("event %s arrived as\n%s\nwant the published JSON compacted:\n%s", id, r.Body, body)
			}
			if err := webhook.Verify(secretOf[id], r.Header, r.Body); err != nil {
				t.Errorf("event %s: signature does not verify: %v", id, err)
			}
			// And with the official Standard Webhooks library, an independent
			// implementation of the scheme.
			official, err := standardwebhooks.NewWebhook(secretOf[id])
			if err != nil {
				t.Fatal(err)
			}
			if err := official.Verify(r.Body, r.Header); err != nil {
				t.Errorf("event %s: the Standard Webhooks library rejects the delivery: %v", id, err)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if ua := r.Header.Get("User-Agent"); !strings.HasPrefix(ua, "onetalk-webhooks/") {
				t.Errorf("User-Agent %q", ua)
			}
			delete(want, id)
		}
		if len(want) != 0 {
			t.Errorf("never arrived: %v", want)
		}
	})
}

// A receiver that answers 500, 500, then 200 gets three attempts, and the
// deliveries API shows the three with those status codes.
func TestFailedAttemptsAreRetriedAndRecorded(t *testing.T) {
	eachDB(t, func(t *testing.T, db database) {
		rc := newReceiver(t, func(n int, _ http.ResponseWriter, _ *http.Request) int {
			if n <= 2 {
				return 500
			}
			return 200
		})
		s := db.start(t, t.TempDir(), "--retry-schedule", "100ms,200ms,300ms")
		key := s.createOrg(1111, rc.URL)
		ans := s.mustDo(202, "POST", "/v1/events", s.Token, readExample(t, "integration_message_status.json"))
		dlv := ans["deliveryID"].(string)

		got := rc.waitFor(t, 10*time.Second, "three attempts", func(r []received) bool { return len(r) >= 3 })
		if id0 := got[0].Header.Get("webhook-id"); got[1].Header.Get("webhook-id") != id0 || got[2].Header.Get("webhook-id") != id0 {
			t.Errorf("retries must keep the webhook-id of the first attempt")
		}
		var d map[string]any
		eventually(t, 5*time.Second, "the delivery to be recorded as succeeded", func() bool {
			d = s.mustDo(200, "GET", "/v1/organizations/1111/deliveries/"+dlv, key, nil)
			return d["status"] == "succeeded"
		})
		attempts := d["attempts"].([]any)
		if len(attempts) != 3 || d["attemptCount"].(float64) != 3 {
			t.Fatalf("attempts = %v", attempts)
		}
		for i, want := range []float64{500, 500, 200} {
			a := attempts[i].(map[string]any)
			if a["n"].(float64) != float64(i+1) || a["statusCode"].(float64) != want || a["url"] != rc.URL {
				t.Errorf("attempt %d = %v, want n=%d statusCode=%v url=%s", i, a, i+1, want, rc.URL)
			}
			if want == 500 && (a["error"] == "" || !strings.Contains(a["responseBody"].(string), "answer 500")) {
				t.Errorf("attempt %d: error %q, responseBody %q: want both recorded", i, a["error"], a["responseBody"])
			}
		}
		if gap := got[1].At.Sub(got[0].At); gap < 70*time.Millisecond {
			t.Errorf("second attempt came %s after the first; the schedule says 100ms ±20%%", gap)
		}
		if !bytes.Equal(mustCompact(t, d["payload"]), mustCompact(t, readExample(t, "integration_message_status.json"))) {
			t.Errorf("payload %s is not the published event", d["payload"])
		}
		list := s.mustDo(200, "GET", "/v1/organizations/1111/deliveries", key, nil)["data"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["lastStatusCode"].(float64) != 200 {
			t.Errorf("deliveries list = %v", list)
		}
	})
}

func mustCompact(t *testing.T, v any) []byte {
	t.Helper()
	b, ok := v.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	var m any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(m)
	return out
}

// An event after the last attempt is "failed", and no more requests come.
func TestDeliveryFailsAfterTheLastAttempt(t *testing.T) {
	eachDB(t, func(t *testing.T, db database) {
		rc := newReceiver(t, func(int, http.ResponseWriter, *http.Request) int { return 503 })
		s := db.start(t, t.TempDir(), "--retry-schedule", "50ms,50ms")
		key := s.createOrg(7, rc.URL)
		raw := bytes.Replace(readExample(t, "case_resolved.json"), []byte(`"organizationID": 1,`), []byte(`"organizationID": 7,`), 1)
		dlv := s.mustDo(202, "POST", "/v1/events", s.Token, raw)["deliveryID"].(string)
		eventually(t, 10*time.Second, "the delivery to fail", func() bool {
			return s.mustDo(200, "GET", "/v1/organizations/7/deliveries/"+dlv, key, nil)["status"] == "failed"
		})
		time.Sleep(300 * time.Millisecond)
		if n := len(rc.requests()); n != 3 {
			t.Errorf("%d requests; 2 retries mean 3 attempts", n)
		}
	})
}

// Each bad input gets problem+json naming the field, and stores and sends
// nothing.
func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	eachDB(t, func(t *testing.T, db database) {
		rc := newReceiver(t, nil)
		s := db.start(t, t.TempDir())
		key := s.createOrg(1111, rc.URL)
		before := s.mustDo(200, "GET", "/v1/organizations/1111/webhook", key, nil)

		ims := string(readExample(t, "integration_message_status.json"))
		cr := string(readExample(t, "case_resolved.json"))
		valid := strings.ReplaceAll(ims, "\n", "")
		cases := []struct {
			name, method, path, body string
			status                   int
			field                    string
		}{
			{"no subscribed events", "PUT", "/v1/organizations/1111/webhook", `{"enabled":true,"url":"https://example.com/h","subscribedEvents":[]}`, 422, "subscribedEvents"},
			{"unknown subscribed event", "PUT", "/v1/organizations/1111/webhook", `{"enabled":true,"url":"https://example.com/h","subscribedEvents":["case_resolved","case_opened"]}`, 422, "subscribedEvents[1]"},
			{"non-http URL", "PUT", "/v1/organizations/1111/webhook", `{"enabled":true,"url":"ftp://example.com/h","subscribedEvents":["case_resolved"]}`, 422, "url"},
			{"webhook broken JSON", "PUT", "/v1/organizations/1111/webhook", `{"enabled":true,`, 400, ""},
			{"wrong status", "POST", "/v1/events", strings.Replace(ims, `"delivered"`, `"sent"`, 1), 422, "integrationMessageStatus.status"},
			{"missing trxID", "POST", "/v1/events", strings.Replace(ims, `"trxID": "000000-0000-0000-0000-000000"`, `"other": 1`, 1), 422, "integrationMessageStatus.trxID"},
			{"non-integer timestamp", "POST", "/v1/events", strings.Replace(ims, `1587352926788`, `1587352926788.5`, 1), 422, "integrationMessageStatus.timestamp"},
			{"unknown type", "POST", "/v1/events", strings.Replace(ims, `"type": "integration_message_status"`, `"type": "message_sent"`, 1), 422, "type"},
			{"string organizationID", "POST", "/v1/events", strings.Replace(ims, `"organizationID": 1111`, `"organizationID": "1111"`, 1), 422, "organizationID"},
			{"case without caseID", "POST", "/v1/events", strings.Replace(cr, `"caseID": "958CCF3BB6",`, ``, 1), 422, "caseResolved.caseID"},
			{"broken JSON", "POST", "/v1/events", `{"type": "integration_message_status",`, 400, ""},
			{"batch with one bad event", "POST", "/v1/events/batch", "[" + valid + "," + strings.Replace(valid, `"whatsapp"`, `7`, 1) + "," + valid + "]", 422, "[1].integrationMessageStatus.channelType"},
		}
		for _, c := range cases {
			r := s.do(c.method, c.path, s.Token, c.body)
			if r.Status != c.status {
				t.Errorf("%s: status %d, want %d: %s", c.name, r.Status, c.status, r.Body)
				continue
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%s: Content-Type %q, want application/problem+json", c.name, ct)
			}
			p := r.json(t)
			if p["status"].(float64) != float64(c.status) || p["title"] == "" || p["type"] == "" {
				t.Errorf("%s: not an RFC 9457 problem: %s", c.name, r.Body)
			}
			if c.field != "" && !strings.Contains(string(r.Body), fmt.Sprintf(`"field":%q`, c.field)) {
				t.Errorf("%s: the problem does not name %q: %s", c.name, c.field, r.Body)
			}
		}
		r := s.do("POST", "/v1/events", s.Token, nil)
		if r.Status != 415 {
			t.Errorf("a publish without a JSON body: status %d, want 415", r.Status)
		}

		after := s.mustDo(200, "GET", "/v1/organizations/1111/webhook", key, nil)
		if fmt.Sprint(before) != fmt.Sprint(after) {
			t.Errorf("refused saves changed the webhook: %v → %v", before, after)
		}
		if list := s.mustDo(200, "GET", "/v1/organizations/1111/deliveries", key, nil)["data"].([]any); len(list) != 0 {
			t.Errorf("refused events created %d deliveries", len(list))
		}
		// A valid event published now is the first and only one to arrive.
		s.mustDo(202, "POST", "/v1/events", s.Token, ims)
		rc.waitFor(t, 5*time.Second, "the valid event", func(r []received) bool { return len(r) >= 1 })
		time.Sleep(200 * time.Millisecond)
		if n := len(rc.requests()); n != 1 {
			t.Errorf("the receiver got %d requests; only the one valid event should arrive", n)
		}
	})
}

// An organization key reaches its own organization only and cannot
// publish; no or a wrong token gets 401.
func TestAuthorization(t *testing.T) {
	eachDB(t, func(t *testing.T, db database) {
		s := db.start(t, t.TempDir())
		key1 := s.createOrg(1, "https://example.com/one")
		s.createOrg(2, "https://example.com/two")
		ims := readExample(t, "integration_message_status.json")

		for _, c := range []struct {
			name, method, path, token string
			body                      any
			status                    int
		}{
			{"own webhook", "GET", "/v1/organizations/1/webhook", key1, nil, 200},
			{"other org's webhook", "GET", "/v1/organizations/2/webhook", key1, nil, 403},
			{"other org's secret", "GET", "/v1/organizations/2/webhook/secret", key1, nil, 403},
			{"other org's deliveries", "GET", "/v1/organizations/2/deliveries", key1, nil, 403},
			{"unknown org", "GET", "/v1/organizations/3/webhook", key1, nil, 403},
			{"publish with org key", "POST", "/v1/events", key1, ims, 403},
			{"batch with org key", "POST", "/v1/events/batch", key1, "[" + string(ims) + "]", 403},
			{"create org with org key", "POST", "/v1/organizations", key1, map[string]any{"organizationID": 9, "name": "x"}, 403},
			{"no token", "GET", "/v1/organizations/1/webhook", "", nil, 401},
			{"wrong token", "GET", "/v1/organizations/1/webhook", "otk_wrong", nil, 401},
			{"publish without token", "POST", "/v1/events", "", ims, 401},
			{"publish with wrong token", "POST", "/v1/events", s.Token + "x", ims, 401},
		} {
			r := s.do(c.method, c.path, c.token, c.body)
			if r.Status != c.status {
				t.Errorf("%s: status %d, want %d: %s", c.name, r.Status, c.status, r.Body)
			}
			if c.status >= 400 && strings.Contains(string(r.Body), "example.com/two") {
				t.Errorf("%s: the answer reveals the other organization's webhook: %s", c.name, r.Body)
			}
		}
		// A revoked key is refused at once.
		k := s.mustDo(201, "POST", "/v1/organizations/1/api-keys", s.Token, nil)
		s.mustDo(200, "GET", "/v1/organizations/1/webhook", k["apiKey"].(string), nil)
		s.mustDo(204, "DELETE", "/v1/organizations/1/api-keys/"+k["id"].(string), s.Token, nil)
		s.mustDo(401, "GET", "/v1/organizations/1/webhook", k["apiKey"].(string), nil)
		// Events for an organization the service does not know are accepted.
		if ans := s.mustDo(202, "POST", "/v1/events", s.Token, bytes.Replace(ims, []byte("1111"), []byte("424242"), 1)); ans["deliveryID"] != nil {
			t.Errorf("an unknown organization's event got a delivery: %v", ans)
		}
	})
}

// GET /metrics tells Prometheus what happened: events accepted, attempts
// by status code and outcome, their latency, and the gauges.
func TestMetrics(t *testing.T) {
	eachDB(t, func(t *testing.T, db database) {
		rc := newReceiver(t, func(n int, _ http.ResponseWriter, _ *http.Request) int {
			if n == 1 {
				return 503
			}
			return 200
		})
		s := db.start(t, t.TempDir(), "--retry-schedule", "50ms")
		key := s.createOrg(1111, rc.URL)
		dlv := s.mustDo(202, "POST", "/v1/events", s.Token, readExample(t, "integration_message_status.json"))["deliveryID"].(string)
		eventually(t, 5*time.Second, "the delivery to succeed", func() bool {
			return s.mustDo(200, "GET", "/v1/organizations/1111/deliveries/"+dlv, key, nil)["status"] == "succeeded"
		})
		var text string
		eventually(t, 5*time.Second, "the metrics to show both attempts", func() bool {
			r := s.do("GET", "/metrics", "", nil)
			text = string(r.Body)
			return r.Status == 200 && strings.Contains(text, `otw_delivery_attempts_total{outcome="succeeded"} 1`)
		})
		for _, want := range []string{
			"otw_events_accepted_total 1",
			`otw_attempt_answers_total{code="503"} 1`,
			`otw_attempt_answers_total{code="200"} 1`,
			`otw_delivery_attempts_total{outcome="retry"} 1`,
			"otw_attempt_duration_seconds_count 2",
			"otw_deliveries_pending 0",
			"otw_deliveries_in_flight 0",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
	})
}

// Creating an organization twice is a conflict the caller can act on
// (409 problem+json), not a server error (svix#1454), and changes nothing.
func TestDuplicateOrganizationIsAConflict(t *testing.T) {
	eachDB(t, func(t *testing.T, db database) {
		s := db.start(t, t.TempDir())
		key := s.createOrg(1111, "")
		r := s.do("POST", "/v1/organizations", s.Token, map[string]any{"organizationID": 1111, "name": "Other"})
		if r.Status != 409 || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("a second organization 1111: %d %s, want 409 problem+json", r.Status, r.Body)
		}
		// The first organization and its key are untouched.
		s.mustDo(404, "GET", "/v1/organizations/1111/webhook", key, nil)
	})
}
