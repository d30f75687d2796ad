package delivery

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// The rules judge each response without a server, a database or a real
// clock: these run in microseconds.

var t0 = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

func testRules() rules {
	return rules{schedule: []time.Duration{time.Second, time.Minute}, disableAfter: 5 * 24 * time.Hour,
		timeout: 15 * time.Second, now: func() time.Time { return t0 }}
}

func judged(p rules, c store.Claimed, r response) outcome {
	return p.judge(&c, r, t0, t0.Add(40*time.Millisecond))
}

func TestNextDelay(t *testing.T) {
	p := testRules()
	h := http.Header{"Retry-After": {"30"}}
	if got := p.nextDelay(1, 429, h, t0); got != 30*time.Second {
		t.Errorf("429 Retry-After 30: %s", got)
	}
	if got := p.nextDelay(1, 503, http.Header{"Retry-After": {"7200"}}, t0); got != time.Minute {
		t.Errorf("503 Retry-After 2h: %s, want capped at the longest step (1m)", got)
	}
	if got := p.nextDelay(1, 500, h, t0); got < 800*time.Millisecond || got > 1200*time.Millisecond {
		t.Errorf("500 with Retry-After: %s; only 429 and 503 are honoured", got)
	}
	if got := p.nextDelay(2, 0, nil, t0); got < 48*time.Second || got > 72*time.Second {
		t.Errorf("after attempt 2: %s, want the second step ±20%%", got)
	}
}

func TestJudgeSuccessRecordsTheStatus(t *testing.T) {
	o := judged(testRules(), store.Claimed{}, response{code: 204, body: "ok"})
	r := o.result
	if r.Status != otw.DeliverySucceeded || r.Attempt.Error != "" || *r.Attempt.StatusCode != 204 || r.Attempt.N != 1 ||
		r.Attempt.DurationMs != 40 || r.Attempt.ResponseBody != "ok" || o.disable != "" {
		t.Fatalf("2xx judged %+v, attempt %+v", o, r.Attempt)
	}
}

func TestJudgeRetryAfterOn429SetsTheNextAttempt(t *testing.T) {
	o := judged(testRules(), store.Claimed{}, response{code: 429, header: http.Header{"Retry-After": {"20"}}})
	r := o.result
	if r.Status != otw.DeliveryPending || !r.NextAttemptAt.Equal(t0.Add(40*time.Millisecond+20*time.Second)) {
		t.Fatalf("429 Retry-After 20: status %q, next %v; want pending 20 s after the attempt ended", r.Status, r.NextAttemptAt)
	}
	if r.Attempt.Error != "HTTP 429 Too Many Requests" {
		t.Fatalf("error %q", r.Attempt.Error)
	}
}

func TestJudgeEndOfTheScheduleFailsForGood(t *testing.T) {
	p := testRules()
	if o := judged(p, store.Claimed{AttemptCount: 1}, response{code: 500}); o.result.Status != otw.DeliveryPending {
		t.Fatalf("attempt 2 of 3: %q, want pending", o.result.Status)
	}
	o := judged(p, store.Claimed{AttemptCount: 2}, response{err: errors.New("connection refused")})
	if o.result.Status != otw.DeliveryFailed || !o.result.NextAttemptAt.IsZero() || o.result.Attempt.N != 3 {
		t.Fatalf("attempt 3 of 3: %+v, want failed with no next attempt", o.result)
	}
	if o.result.Attempt.StatusCode != nil || o.result.Attempt.Error != "connection refused" {
		t.Fatalf("a connection error recorded as %+v", o.result.Attempt)
	}
	if o.disable != "" {
		t.Fatalf("the end of a schedule disabled the webhook: %q", o.disable)
	}
}

func TestJudge410DisablesTheWebhook(t *testing.T) {
	o := judged(testRules(), store.Claimed{}, response{code: 410})
	if o.result.Status != otw.DeliveryFailed || o.disable != "the endpoint answered 410 Gone" {
		t.Fatalf("410: status %q, disable %q", o.result.Status, o.disable)
	}
}

func TestJudgeFailingForFiveDaysDisables(t *testing.T) {
	p := testRules()
	almost := t0.Add(-5*24*time.Hour + time.Minute)
	if o := judged(p, store.Claimed{FailingSince: &almost}, response{code: 500}); o.disable != "" || o.result.Status != otw.DeliveryPending {
		t.Fatalf("failing for 5 days less a minute: disable %q, status %q; want still retried", o.disable, o.result.Status)
	}
	long := t0.Add(-5 * 24 * time.Hour)
	o := judged(p, store.Claimed{FailingSince: &long}, response{code: 500})
	if o.result.Status != otw.DeliveryFailed || !strings.Contains(o.disable, "no successful delivery since 2026-11-27T12:00:00Z") {
		t.Fatalf("failing for 5 days: status %q, disable %q", o.result.Status, o.disable)
	}
	// A success ends the failing streak whatever its length.
	if o := judged(p, store.Claimed{FailingSince: &long}, response{code: 200}); o.disable != "" || o.result.Status != otw.DeliverySucceeded {
		t.Fatalf("a success after 5 days of failures: disable %q, status %q", o.disable, o.result.Status)
	}
}

func TestJudgeRedirectIsAFailureThatSaysWhy(t *testing.T) {
	o := judged(testRules(), store.Claimed{}, response{code: 302})
	if o.result.Status != otw.DeliveryPending || o.result.Attempt.Error != "HTTP 302 Found: redirects are not followed" {
		t.Fatalf("302: %q, %q", o.result.Status, o.result.Attempt.Error)
	}
}
