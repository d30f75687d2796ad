package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// A webhook filtered to failed statuses gets only the failed ones of a
// mixed stream of 1,000 events, published as a batch and one by one
// through the real serve; each of the others is answered
// notDelivered "filtered" and makes no delivery, so it can never arrive.
// Bad filters are refused naming their path.
func TestFilteredStream(t *testing.T) {
	eachDB(t, func(t *testing.T, db database) {
		rc := newReceiver(t, nil)
		s := db.start(t, t.TempDir())
		key := s.createOrg(1111, rc.URL)
		const hook = "/v1/organizations/1111/webhook"

		r := s.do("PUT", hook, key, `{"enabled":true,"url":"`+rc.URL+`","subscribedEvents":["integration_message_status"],
			"filters":{"integration_message_status":{"statuss":["failed"]},"case_resolved":{"topicID":["12"]}}}`)
		_, fields := refusal(t, r, 422)
		if !strings.Contains(fields["filters.integration_message_status.statuss"], "did you mean status?") ||
			!strings.Contains(fields["filters.case_resolved"], "not subscribed") {
			t.Errorf("bad filters: %s", r.Body)
		}
		wh := s.mustDo(200, "PUT", hook, key, map[string]any{"enabled": true, "url": rc.URL,
			"subscribedEvents": []string{"integration_message_status"},
			"filters":          map[string]any{"integration_message_status": map[string]any{"status": []string{"failed"}}}})
		if fmt.Sprint(wh["filters"]) != "map[integration_message_status:map[status:[failed]]]" {
			t.Fatalf("saved filters: %v", wh["filters"])
		}

		statuses := []string{"acknowledge", "delivered", "read", "failed"}
		status := func(i int) string { return statuses[(i*7+i/13)%len(statuses)] } // mixed, not in a cycle
		const n, batched = 1000, 800
		want := map[string]bool{} // the trxIDs of the failed ones
		var batch []string
		for i := range batched {
			batch = append(batch, messageStatus(1111, fmt.Sprintf("t%d", i), status(i)))
		}
		var answers []map[string]any
		for len(batch) > 0 {
			k := min(len(batch), 200)
			a := s.mustDo(202, "POST", "/v1/events/batch", s.Token, "["+strings.Join(batch[:k], ",")+"]")
			for _, e := range a["events"].([]any) {
				answers = append(answers, e.(map[string]any))
			}
			batch = batch[k:]
		}
		for i := batched; i < n; i++ {
			answers = append(answers, s.mustDo(202, "POST", "/v1/events", s.Token, messageStatus(1111, fmt.Sprintf("t%d", i), status(i))))
		}
		for i, a := range answers {
			if status(i) == "failed" {
				want[fmt.Sprintf("t%d", i)] = true
				wantAccepted(t, fmt.Sprintf("event %d (failed)", i), a, true, "")
			} else {
				wantAccepted(t, fmt.Sprintf("event %d (%s)", i, status(i)), a, false, "filtered")
			}
		}
		if len(want) < 200 || len(want) > 300 {
			t.Fatalf("%d failed statuses in the stream, want about 250", len(want))
		}
		got := rc.waitForDistinct(t, 60*time.Second, len(want))
		if len(got) != len(want) {
			t.Errorf("the receiver got %d distinct events, want %d", len(got), len(want))
		}
		for _, req := range rc.requests() {
			trx, st := eventOf(t, req.Body)
			if st != "failed" || !want[trx] {
				t.Errorf("the receiver got %s with status %s", trx, st)
			}
		}
	})
}
