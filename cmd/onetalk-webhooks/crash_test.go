package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// 2000 events accepted, the process killed with SIGKILL while it delivers,
// restarted on the same file: every accepted event arrives. Duplicates are
// possible (at least once) and bounded by what was in flight at the kill
// or sent and not yet written.
func TestCrashWhileDeliveringLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	t.Parallel()
	const events, perBatch = 2000, 200
	// A slow receiver keeps many deliveries in flight when the kill comes.
	rc := newReceiver(t, func(int, http.ResponseWriter, *http.Request) int { time.Sleep(20 * time.Millisecond); return 200 })
	dir := t.TempDir()
	s := sqliteDB.start(t, dir, "--retry-schedule", "100ms")
	s.createOrg(1111, rc.URL)

	accepted := map[string]bool{}
	for b := 0; b < events/perBatch; b++ {
		var batch []string
		for i := range perBatch {
			batch = append(batch, fmt.Sprintf(`{"type":"integration_message_status","organizationID":1111,"integrationMessageStatus":{"channelID":"1","channelType":"whatsapp","contactPhone":"628123456789","reason":"","status":"delivered","timestamp":1587352926788,"trxID":"trx-%d-%d"}}`, b, i))
		}
		ans := s.mustDo(202, "POST", "/v1/events/batch", s.Token, "["+strings.Join(batch, ",")+"]")
		for _, id := range ans["eventIDs"].([]any) {
			accepted[id.(string)] = true
		}
	}
	rc.waitFor(t, 30*time.Second, "deliveries under way", func(r []received) bool { return len(r) >= 300 })
	s.kill()
	atKill := len(rc.requests())
	if atKill >= events {
		t.Fatalf("all %d events arrived before the kill; the test must kill mid-delivery", atKill)
	}

	sqliteDB.start(t, dir, "--retry-schedule", "100ms")
	count := rc.waitForDistinct(t, 60*time.Second, len(accepted))
	for id := range count {
		if !accepted[id] {
			t.Errorf("webhook-id %q was never accepted", id)
		}
	}
	twice := duplicates(count)
	t.Logf("%d events accepted, %d requests before SIGKILL, %d distinct events arrived, %d duplicates", len(accepted), atKill, len(count), twice)
	// What can arrive twice is what was in flight at the kill, or sent and
	// not yet written: each at most the dispatcher's per-webhook limit.
	if twice > 2*64 {
		t.Errorf("%d duplicates: more than could have been in flight or unwritten", twice)
	}
}
