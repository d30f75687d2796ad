package delivery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// BenchmarkExecute is one attempt against a receiver on 127.0.0.1, as the
// dispatcher makes it (tracing off): what each delivery costs the sender.
func BenchmarkExecute(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer srv.Close()
	x := executor{
		client: &http.Client{}, timeout: 5 * time.Second,
		rules:   rules{schedule: DefaultSchedule(), disableAfter: time.Hour, timeout: 5 * time.Second, now: time.Now},
		signers: newSignerCache(func(b []byte) ([]byte, error) { return b, nil }), userAgent: "bench",
	}
	c := store.Claimed{DeliveryID: "dlv_1", EventID: "evt_1", OrganizationID: 1, URL: srv.URL,
		Body: []byte(`{"eventType":"case_resolved"}`), Secret: []byte("0123456789abcdef0123456789abcdef")}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if o := x.execute(ctx, &c); o.result.Attempt.Error != "" {
			b.Fatal(o.result.Attempt.Error)
		}
	}
}
