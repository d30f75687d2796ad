package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The webhook keeps a rate limit (rateLimit, null for none); a pending
// delivery says what it waits for (waitingFor); a test event has an order
// key of its own, so it does not wait behind real traffic of the example's
// trxID, and is marked test in the log.
func TestRateLimitWaitingForAndTestEvents(t *testing.T) {
	eachDB(t, func(t *testing.T, db database) {
		// Every attempt fails and the retry is an hour away: what was
		// sent once stays pending, and what comes after it in order waits.
		rc := newReceiver(t, func(int, http.ResponseWriter, *http.Request) int { return 500 })
		s := db.start(t, t.TempDir(), "--retry-schedule", "1h")
		key := s.createOrg(1111, rc.URL)
		const hook = "/v1/organizations/1111/webhook"
		settings := func(rateLimit any) map[string]any {
			m := map[string]any{"enabled": true, "url": rc.URL, "subscribedEvents": []string{"integration_message_status", "case_resolved"}}
			if rateLimit != "absent" {
				m["rateLimit"] = rateLimit
			}
			return m
		}

		// rateLimit round-trips; absent and null are no limit.
		if wh := s.mustDo(200, "PUT", hook, key, settings(50)); wh["rateLimit"] != 50.0 {
			t.Fatalf("PUT rateLimit 50 answered %v", wh["rateLimit"])
		}
		if wh := s.mustDo(200, "GET", hook, key, nil); wh["rateLimit"] != 50.0 {
			t.Fatalf("GET after saving 50: rateLimit %v", wh["rateLimit"])
		}
		for _, bad := range []any{0, -1, 1.5, 100001, "5", true} {
			r := s.do("PUT", hook, key, settings(bad))
			if r.Status != 422 || !strings.Contains(string(r.Body), `"field":"rateLimit"`) {
				t.Errorf("rateLimit %v: %d %s, want 422 naming rateLimit", bad, r.Status, r.Body)
			}
		}
		if wh := s.mustDo(200, "GET", hook, key, nil); wh["rateLimit"] != 50.0 {
			t.Fatalf("refused saves changed rateLimit to %v", wh["rateLimit"])
		}
		for _, none := range []any{"absent", nil} {
			s.mustDo(200, "PUT", hook, key, settings(50))
			if wh := s.mustDo(200, "PUT", hook, key, settings(none)); wh["rateLimit"] != nil {
				t.Errorf("PUT with rateLimit %v kept %v, want null", none, wh["rateLimit"])
			}
			if wh := s.mustDo(200, "GET", hook, key, nil); wh["rateLimit"] != nil {
				t.Errorf("GET after a PUT with rateLimit %v: %v, want null", none, wh["rateLimit"])
			}
		}

		get := func(id string) map[string]any {
			return s.mustDo(200, "GET", "/v1/organizations/1111/deliveries/"+id, key, nil)
		}
		waitingFor := func(id string) string {
			b, _ := json.Marshal(get(id)["waitingFor"])
			return string(b)
		}
		tried := func(id string) func() bool {
			return func() bool { return get(id)["attemptCount"] == 1.0 }
		}
		publish := func(body string) string {
			return s.mustDo(202, "POST", "/v1/events", s.Token, body)["deliveryID"].(string)
		}

		// The example's own trxID, published for real: tried once, it
		// waits an hour for its retry, and the next status waits for it.
		example := string(readExample(t, "integration_message_status.json"))
		first := publish(example)
		eventually(t, 10*time.Second, "the first delivery to be tried", tried(first))
		second := publish(strings.Replace(example, `"delivered"`, `"read"`, 1))
		third := publish(strings.Replace(example, `"delivered"`, `"failed"`, 1))
		if w := waitingFor(first); w != "null" {
			t.Errorf("the first, waiting for its retry with no rate limit: waitingFor %s, want null", w)
		}
		if w := waitingFor(second); w != fmt.Sprintf(`{"deliveryID":%q}`, first) {
			t.Errorf("the second: waitingFor %s, want the first, %s", w, first)
		}
		if w := waitingFor(third); w != fmt.Sprintf(`{"deliveryID":%q}`, second) {
			t.Errorf("the third: waitingFor %s, want the nearest earlier, %s", w, second)
		}
		s.mustDo(200, "PUT", hook, key, settings(10))
		if w := waitingFor(first); w != `{"rateLimit":10}` {
			t.Errorf("the first with a rate limit of 10: waitingFor %s", w)
		}
		if w := waitingFor(second); w != fmt.Sprintf(`{"deliveryID":%q}`, first) {
			t.Errorf("the second with a rate limit: waitingFor %s, want still the first", w)
		}

		// A test of the same example is sent at once all the same.
		test := s.mustDo(202, "POST", hook+"/test", key, map[string]any{"eventType": "integration_message_status"})["deliveryID"].(string)
		eventually(t, 10*time.Second, "the test event to be sent past the pending real one", tried(test))
		if d := get(test); d["test"] != true {
			t.Errorf("the test delivery: test %v, want true", d["test"])
		}
		list := s.mustDo(200, "GET", "/v1/organizations/1111/deliveries", key, nil)["data"].([]any)
		for _, x := range list {
			d := x.(map[string]any)
			if (d["id"] == test) != (d["test"] == true) {
				t.Errorf("listed %s with test %v", d["id"], d["test"])
			}
			if _, ok := d["waitingFor"]; ok {
				t.Errorf("the list carries waitingFor for %s: it is the detail's", d["id"])
			}
		}
		if n := len(list); n != 4 {
			t.Errorf("the log lists %d deliveries, want 4", n)
		}
	})
}
