package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/service"
	"github.com/onetalk/onetalk-webhooks/internal/web"
)

// Through the API's own wrapper: wrong credentials are counted and then
// answered 429 with Retry-After, even a right one from that address; a
// missing credential and a right one count for nothing.
func TestAuthedRateLimitsFailures(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := New(Config{Service: service.New(service.Config{AdminTokenHash: service.HashToken("the-admin-token")}),
		Failures: &web.FailureLimiter{Now: func() time.Time { return now }}})
	h := s.authed(true, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	call := func(from, token string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/v1/x", nil)
		r.RemoteAddr = from
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		h(w, r)
		return w
	}

	for i := range 3 * web.FailureBurst {
		if w := call("192.0.2.9:4000", "the-admin-token"); w.Code != http.StatusNoContent {
			t.Fatalf("success %d: status %d", i, w.Code)
		}
		if w := call("192.0.2.9:4000", ""); w.Code != http.StatusUnauthorized {
			t.Fatalf("no token %d: status %d", i, w.Code)
		}
	}
	for i := range web.FailureBurst {
		if w := call(fmt.Sprintf("192.0.2.9:%d", 5000+i), "wrong-"+fmt.Sprint(i)); w.Code != http.StatusUnauthorized {
			t.Fatalf("wrong token %d: status %d, want 401", i, w.Code)
		}
	}
	for _, token := range []string{"wrong-again", "the-admin-token"} {
		w := call("192.0.2.9:6000", token)
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "3" {
			t.Fatalf("%s once blocked: status %d, Retry-After %q; want 429, 3", token, w.Code, w.Header().Get("Retry-After"))
		}
	}
	if w := call("[2001:db8::9]:4000", "the-admin-token"); w.Code != http.StatusNoContent {
		t.Fatalf("another address: status %d", w.Code)
	}
	now = now.Add(time.Minute / web.FailureBurst) // one attempt comes back
	if w := call("192.0.2.9:6000", "the-admin-token"); w.Code != http.StatusNoContent {
		t.Fatalf("after Retry-After: status %d", w.Code)
	}
}
