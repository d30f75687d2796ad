package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/webhook"
)

// messageStatus is an integration_message_status event for org and trx.
func messageStatus(org int, trx, status string) string {
	return fmt.Sprintf(`{"type":"integration_message_status","organizationID":%d,"integrationMessageStatus":{"channelID":"0123456","channelType":"whatsapp","contactPhone":"628123456789","reason":"","status":%q,"timestamp":1587352926788,"trxID":%q}}`, org, status, trx)
}

// eventOf decodes the trxID and status of a delivered message status.
func eventOf(t *testing.T, body []byte) (trx, status string) {
	t.Helper()
	var e struct {
		IntegrationMessageStatus struct{ TrxID, Status string }
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Error(err) // Error, not Fatal: receivers call this off the test goroutine
	}
	return e.IntegrationMessageStatus.TrxID, e.IntegrationMessageStatus.Status
}

// The events of one message arrive in publish order even when the first
// needs a retry; another message's events do not wait for that retry.
func TestOrderPerMessage(t *testing.T) {
	eachDB(t, func(t *testing.T, db database) {
		var failedOnce atomic.Bool
		rc := newReceiver(t, func(_ int, _ http.ResponseWriter, r *http.Request) int {
			body, _ := io.ReadAll(r.Body)
			if trx, status := eventOf(t, body); trx == "A" && status == "acknowledge" && failedOnce.CompareAndSwap(false, true) {
				return 500
			}
			return 200
		})
		s := db.start(t, t.TempDir(), "--retry-schedule", "1s")
		s.createOrg(1111, rc.URL)
		for _, e := range []string{
			messageStatus(1111, "A", "acknowledge"),
			messageStatus(1111, "B", "acknowledge"),
			messageStatus(1111, "A", "delivered"),
			messageStatus(1111, "B", "delivered"),
			messageStatus(1111, "A", "read"),
			messageStatus(1111, "B", "read"),
		} {
			s.mustDo(202, "POST", "/v1/events", s.Token, e)
		}
		got := rc.waitFor(t, 10*time.Second, "all six events", func(r []received) bool { return len(r) >= 7 })
		var seq []string
		retryAt := time.Time{}
		var lastB time.Time
		for i, r := range got {
			trx, status := eventOf(t, r.Body)
			seq = append(seq, trx+":"+status)
			if trx == "A" && status == "acknowledge" && i > 0 {
				retryAt = r.At
			}
			if trx == "B" {
				lastB = r.At
			}
		}
		var a, b []string
		for _, x := range seq {
			if strings.HasPrefix(x, "A:") {
				a = append(a, x)
			} else {
				b = append(b, x)
			}
		}
		if fmt.Sprint(a) != "[A:acknowledge A:acknowledge A:delivered A:read]" {
			t.Errorf("message A arrived as %v; want acknowledge (failed), acknowledge, delivered, read", a)
		}
		if fmt.Sprint(b) != "[B:acknowledge B:delivered B:read]" {
			t.Errorf("message B arrived as %v", b)
		}
		if retryAt.IsZero() || !lastB.Before(retryAt) {
			t.Errorf("message B waited for A's retry: B's last event at %v, A's retry at %v (all: %v)", lastB, retryAt, seq)
		}
	})
}

// A webhook that answers after 10 s holds only its own share of the
// dispatcher: another organization's 200 events all arrive within 2 s.
func TestSlowEndpointOnlySlowsItself(t *testing.T) {
	eachDB(t, func(t *testing.T, db database) {
		release := make(chan struct{})
		slow := newReceiver(t, func(int, http.ResponseWriter, *http.Request) int {
			select {
			case <-time.After(10 * time.Second):
			case <-release:
			}
			return 200
		})
		t.Cleanup(func() { close(release) })
		fast := newReceiver(t, nil)
		s := db.start(t, t.TempDir())
		s.createOrg(1, slow.URL)
		s.createOrg(2, fast.URL)
		var slowBatch, fastBatch []string
		for i := range 300 {
			slowBatch = append(slowBatch, messageStatus(1, fmt.Sprint("slow-", i), "delivered"))
		}
		for i := range 200 {
			fastBatch = append(fastBatch, messageStatus(2, fmt.Sprint("fast-", i), "delivered"))
		}
		s.mustDo(202, "POST", "/v1/events/batch", s.Token, "["+strings.Join(slowBatch, ",")+"]")
		slow.waitFor(t, 5*time.Second, "the slow endpoint to be busy", func(r []received) bool { return len(r) > 0 })
		start := time.Now()
		s.mustDo(202, "POST", "/v1/events/batch", s.Token, "["+strings.Join(fastBatch, ",")+"]")
		fast.waitFor(t, 2*time.Second, "200 events to the other organization within 2 s", func(r []received) bool { return len(r) >= 200 })
		t.Logf("200 events to the healthy endpoint arrived in %s while %d requests hung on the slow one", time.Since(start), len(slow.requests()))
	})
}

// 429 with Retry-After: 2 delays the next attempt by at least 2 s.
func TestRetryAfterIsHonoured(t *testing.T) {
	eachDB(t, func(t *testing.T, db database) {
		rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) int {
			if n == 1 {
				w.Header().Set("Retry-After", "2")
				return 429
			}
			return 200
		})
		s := db.start(t, t.TempDir(), "--retry-schedule", "100ms,10s")
		key := s.createOrg(1111, rc.URL)
		dlv := s.mustDo(202, "POST", "/v1/events", s.Token, messageStatus(1111, "t", "read"))["deliveryID"].(string)
		got := rc.waitFor(t, 10*time.Second, "the retry", func(r []received) bool { return len(r) >= 2 })
		if gap := got[1].At.Sub(got[0].At); gap < 2*time.Second {
			t.Errorf("retry came %s after a 429 with Retry-After: 2", gap)
		}
		eventually(t, 5*time.Second, "succeeded", func() bool {
			return s.mustDo(200, "GET", "/v1/organizations/1111/deliveries/"+dlv, key, nil)["status"] == "succeeded"
		})
	})
}

// 410 Gone disables the webhook; the API says why, and events published
// while it is disabled are recorded as failed, not dropped unseen.
func TestGoneDisablesTheWebhook(t *testing.T) {
	eachDB(t, func(t *testing.T, db database) {
		rc := newReceiver(t, func(int, http.ResponseWriter, *http.Request) int { return 410 })
		s := db.start(t, t.TempDir())
		key := s.createOrg(1111, rc.URL)
		s.mustDo(202, "POST", "/v1/events", s.Token, messageStatus(1111, "t1", "read"))
		var wh map[string]any
		eventually(t, 5*time.Second, "the webhook to be disabled", func() bool {
			wh = s.mustDo(200, "GET", "/v1/organizations/1111/webhook", key, nil)
			return wh["state"] == "disabled"
		})
		if !strings.Contains(wh["disabledReason"].(string), "410") {
			t.Errorf("disabledReason %q does not say why", wh["disabledReason"])
		}
		dlv := s.mustDo(202, "POST", "/v1/events", s.Token, messageStatus(1111, "t2", "read"))["deliveryID"].(string)
		d := s.mustDo(200, "GET", "/v1/organizations/1111/deliveries/"+dlv, key, nil)
		if d["status"] != "failed" || !strings.Contains(d["lastError"].(string), "410") {
			t.Errorf("an event published while disabled: %v; want failed with the reason", d)
		}
		if n := len(rc.requests()); n != 1 {
			t.Errorf("%d requests reached the disabled endpoint", n)
		}
		// Saving it enabled makes it active again, and recover sends what failed.
		rc.setAnswer(func(int, http.ResponseWriter, *http.Request) int { return 200 })
		wh = s.mustDo(200, "PUT", "/v1/organizations/1111/webhook", key, map[string]any{"enabled": true, "url": rc.URL, "subscribedEvents": []string{"integration_message_status"}})
		if wh["state"] != "active" || wh["disabledReason"] != "" {
			t.Errorf("after saving enabled: %v", wh)
		}
		n := s.mustDo(202, "POST", "/v1/organizations/1111/deliveries/recover", key, map[string]any{"since": time.Now().Add(-time.Hour).Format(time.RFC3339)})
		if n["requeued"].(float64) != 2 {
			t.Errorf("recover requeued %v, want 2", n["requeued"])
		}
		rc.waitFor(t, 5*time.Second, "both recovered events", func(r []received) bool { return len(r) >= 3 })
	})
}

// During a rotation both secrets verify a delivery; once the overlap is
// over only the new one signs.
func TestSecretRotation(t *testing.T) {
	eachDB(t, func(t *testing.T, db database) {
		rc := newReceiver(t, nil)
		s := db.start(t, t.TempDir(), "--secret-rotation-overlap", "2s")
		key := s.createOrg(1111, rc.URL)
		old := s.mustDo(200, "GET", "/v1/organizations/1111/webhook/secret", key, nil)["secret"].(string)
		rotated := s.mustDo(200, "POST", "/v1/organizations/1111/webhook/secret/rotate", key, nil)["secret"].(string)
		if rotated == old || s.mustDo(200, "GET", "/v1/organizations/1111/webhook/secret", key, nil)["secret"] != rotated {
			t.Fatalf("rotate must return and keep a new secret")
		}
		s.mustDo(202, "POST", "/v1/events", s.Token, messageStatus(1111, "r1", "read"))
		got := rc.waitFor(t, 5*time.Second, "a delivery during the rotation", func(r []received) bool { return len(r) >= 1 })
		if sigs := strings.Fields(got[0].Header.Get("webhook-signature")); len(sigs) != 2 {
			t.Errorf("during the rotation: %d signatures, want 2", len(sigs))
		}
		for name, secret := range map[string]string{"old": old, "new": rotated} {
			if err := webhook.Verify(secret, got[0].Header, got[0].Body); err != nil {
				t.Errorf("during the rotation the %s secret does not verify: %v", name, err)
			}
		}
		time.Sleep(2500 * time.Millisecond)
		s.mustDo(202, "POST", "/v1/events", s.Token, messageStatus(1111, "r2", "read"))
		got = rc.waitFor(t, 5*time.Second, "a delivery after the rotation", func(r []received) bool { return len(r) >= 2 })
		if sigs := strings.Fields(got[1].Header.Get("webhook-signature")); len(sigs) != 1 {
			t.Errorf("after the overlap: %d signatures, want 1", len(sigs))
		}
		if webhook.Verify(old, got[1].Header, got[1].Body) == nil || webhook.Verify(rotated, got[1].Header, got[1].Body) != nil {
			t.Errorf("after the overlap only the new secret must verify")
		}
	})
}

// The same Idempotency-Key twice: one event, one delivery; with another
// body: 422.
func TestIdempotencyKey(t *testing.T) {
	eachDB(t, func(t *testing.T, db database) {
		rc := newReceiver(t, nil)
		s := db.start(t, t.TempDir())
		key := s.createOrg(1111, rc.URL)
		post := func(body string) response {
			return s.doWith("POST", "/v1/events", s.Token, body, map[string]string{"Idempotency-Key": "publish-42"})
		}
		e := messageStatus(1111, "idem", "read")
		first, second := post(e), post(e)
		if first.Status != 202 || second.Status != 202 {
			t.Fatalf("statuses %d, %d", first.Status, second.Status)
		}
		if a, b := first.json(t)["eventID"], second.json(t)["eventID"]; a != b {
			t.Errorf("eventIDs %v and %v; the same key must return the first", a, b)
		}
		if r := post(messageStatus(1111, "idem", "delivered")); r.Status != 422 || !strings.Contains(string(r.Body), "Idempotency-Key") {
			t.Errorf("the same key with another body: %d %s", r.Status, r.Body)
		}
		rc.waitFor(t, 5*time.Second, "the event", func(r []received) bool { return len(r) >= 1 })
		time.Sleep(200 * time.Millisecond)
		if n := len(rc.requests()); n != 1 {
			t.Errorf("%d requests; one event means one delivery", n)
		}
		if list := s.mustDo(200, "GET", "/v1/organizations/1111/deliveries", key, nil)["data"].([]any); len(list) != 1 {
			t.Errorf("%d deliveries listed, want 1", len(list))
		}
	})
}

// SIGTERM while 500 deliveries are in flight to a slow receiver: the
// process exits 0, no attempt is recorded as failed because of the
// shutdown, and after a restart every event arrives.
func TestGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("shutdown test skipped in -short mode")
	}
	eachDB(t, func(t *testing.T, db database) {
		var slow atomic.Bool
		slow.Store(true)
		rc := newReceiver(t, func(int, http.ResponseWriter, *http.Request) int {
			if slow.Load() {
				time.Sleep(3 * time.Second)
			}
			return 200
		})
		dir := t.TempDir()
		args := []string{"--shutdown-grace", "1s", "--max-in-flight", "600", "--max-in-flight-per-webhook", "600"}
		s := db.start(t, dir, args...)
		key := s.createOrg(1111, rc.URL)
		var batch []string
		for i := range 500 {
			batch = append(batch, messageStatus(1111, fmt.Sprint("g", i), "read"))
		}
		s.mustDo(202, "POST", "/v1/events/batch", s.Token, "["+strings.Join(batch, ",")+"]")
		rc.waitFor(t, 10*time.Second, "500 requests in flight", func(r []received) bool { return len(r) >= 500 })
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(15 * time.Second):
			t.Fatal("serve did not exit within 15 s of SIGTERM")
		}
		if code := s.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("exit code %d after SIGTERM, want 0", code)
		}

		slow.Store(false)
		s2 := db.start(t, dir, args...)
		rc.waitForDistinct(t, 20*time.Second, 500)
		failedAttempts, cursor := 0, ""
		for {
			page := s2.mustDo(200, "GET", "/v1/organizations/1111/deliveries?limit=250&cursor="+cursor, key, nil)
			for _, d := range page["data"].([]any) {
				d := d.(map[string]any)
				if d["lastError"] != "" {
					failedAttempts++
				}
			}
			next, _ := page["nextCursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		if failedAttempts != 0 {
			t.Errorf("%d deliveries carry an error from the shutdown", failedAttempts)
		}
	})
}

// recover re-queues exactly the failed deliveries created since the given
// time; retry sends one delivery once more; test sends the example.
func TestRecoverRetryAndTestEvent(t *testing.T) {
	eachDB(t, func(t *testing.T, db database) {
		rc := newReceiver(t, func(int, http.ResponseWriter, *http.Request) int { return 500 })
		s := db.start(t, t.TempDir(), "--retry-schedule", "20ms")
		key := s.createOrg(1111, rc.URL)
		publish := func(trx string) string {
			return s.mustDo(202, "POST", "/v1/events", s.Token, messageStatus(1111, trx, "read"))["deliveryID"].(string)
		}
		failed := func(id string) func() bool {
			return func() bool {
				return s.mustDo(200, "GET", "/v1/organizations/1111/deliveries/"+id, key, nil)["status"] == "failed"
			}
		}
		before := publish("before")
		eventually(t, 5*time.Second, "the first delivery to fail", failed(before))
		time.Sleep(50 * time.Millisecond)
		since := time.Now().UTC()
		time.Sleep(50 * time.Millisecond)
		after := []string{publish("after-1"), publish("after-2")}
		for _, id := range after {
			eventually(t, 5*time.Second, "the later deliveries to fail", failed(id))
		}
		failedList := s.mustDo(200, "GET", "/v1/organizations/1111/deliveries?status=failed", key, nil)["data"].([]any)
		if len(failedList) != 3 {
			t.Fatalf("status=failed lists %d deliveries, want 3", len(failedList))
		}

		rc.setAnswer(func(int, http.ResponseWriter, *http.Request) int { return 200 })
		requestsBefore := len(rc.requests())
		n := s.mustDo(202, "POST", "/v1/organizations/1111/deliveries/recover", key, map[string]any{"since": since.Format(time.RFC3339Nano)})
		if n["requeued"].(float64) != 2 {
			t.Fatalf("recover requeued %v, want exactly the 2 created since %s", n["requeued"], since)
		}
		got := rc.waitFor(t, 5*time.Second, "the two recovered deliveries", func(r []received) bool { return len(r) >= requestsBefore+2 })
		for _, r := range got[requestsBefore:] {
			if trx, _ := eventOf(t, r.Body); !strings.HasPrefix(trx, "after-") {
				t.Errorf("recover sent %q, created before since", trx)
			}
		}
		if d := s.mustDo(200, "GET", "/v1/organizations/1111/deliveries/"+before, key, nil); d["status"] != "failed" {
			t.Errorf("the delivery before since is %v, want still failed", d["status"])
		}

		// retry: one more attempt now.
		s.mustDo(202, "POST", "/v1/organizations/1111/deliveries/"+before+"/retry", key, nil)
		eventually(t, 5*time.Second, "the retried delivery to succeed", func() bool {
			return s.mustDo(200, "GET", "/v1/organizations/1111/deliveries/"+before, key, nil)["status"] == "succeeded"
		})
		s.mustDo(404, "POST", "/v1/organizations/1111/deliveries/dlv_unknown/retry", key, nil)
		if r := s.do("POST", "/v1/organizations/1111/deliveries/recover", key, `{"since":"yesterday"}`); r.Status != 422 || !strings.Contains(string(r.Body), `"field":"since"`) {
			t.Errorf("recover with a bad since: %d %s", r.Status, r.Body)
		}

		// test: the example of the type, with this organization's ID.
		count := len(rc.requests())
		s.mustDo(202, "POST", "/v1/organizations/1111/webhook/test", key, map[string]any{"eventType": "case_resolved"})
		got = rc.waitFor(t, 5*time.Second, "the test event", func(r []received) bool { return len(r) > count })
		var e struct {
			Type           string
			OrganizationID int64
			CaseResolved   struct{ CaseID string }
		}
		if err := json.Unmarshal(got[count].Body, &e); err != nil || e.Type != "case_resolved" || e.OrganizationID != 1111 || e.CaseResolved.CaseID != "958CCF3BB6" {
			t.Errorf("test event arrived as %s (%v)", got[count].Body, err)
		}
		if r := s.do("POST", "/v1/organizations/1111/webhook/test", key, `{"eventType":"case_opened"}`); r.Status != 422 || !strings.Contains(string(r.Body), `"field":"eventType"`) {
			t.Errorf("test with an unknown type: %d %s", r.Status, r.Body)
		}
		// Filters and paging.
		if r := s.do("GET", "/v1/organizations/1111/deliveries?status=lost", key, nil); r.Status != 422 {
			t.Errorf("status=lost: %d", r.Status)
		}
		page := s.mustDo(200, "GET", "/v1/organizations/1111/deliveries?limit=2", key, nil)
		next, _ := page["nextCursor"].(string)
		page2 := s.mustDo(200, "GET", "/v1/organizations/1111/deliveries?limit=2&cursor="+next, key, nil)
		ids := map[any]bool{}
		for _, p := range [][]any{page["data"].([]any), page2["data"].([]any)} {
			for _, d := range p {
				ids[d.(map[string]any)["id"]] = true
			}
		}
		if len(ids) != 4 || page2["nextCursor"] != nil {
			t.Errorf("two pages of 2 over 4 deliveries gave %d distinct, next %v", len(ids), page2["nextCursor"])
		}
		if only := s.mustDo(200, "GET", "/v1/organizations/1111/deliveries?eventType=case_resolved", key, nil)["data"].([]any); len(only) != 1 {
			t.Errorf("eventType=case_resolved lists %d, want 1", len(only))
		}
	})
}
