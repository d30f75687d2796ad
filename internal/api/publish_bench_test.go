package api_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/onetalk/onetalk-webhooks/internal/api"
	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/service"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// BenchmarkPublish is the publish path above the store: authentication,
// reading the body, the service's validation, the answer. The insert is
// a stand-in, so what it measures is the cost per event above the store.
func BenchmarkPublish(b *testing.B) {
	benchmarkPublish(b, "/v1/events", examplePublish(b))
}

// BenchmarkPublishBatch is BenchmarkPublish for a batch of 100 events, as
// a busy platform publishes: divide by 100 for the cost per event.
func BenchmarkPublishBatch(b *testing.B) {
	one := examplePublish(b)
	body := append([]byte("["), bytes.Repeat(append(one, ','), 100)...)
	body[len(body)-1] = ']'
	benchmarkPublish(b, "/v1/events/batch", body)
}

func examplePublish(b *testing.B) []byte {
	body, err := event.Example(event.TypeCaseResolved, 1)
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// benchmarkPublish posts body to path as the admin, through the API and
// the service over a stand-in insert, until the benchmark ends.
func benchmarkPublish(b *testing.B, path string, body []byte) {
	insert := func(_ context.Context, events []otw.Event) ([]store.Inserted, error) {
		ins := make([]store.Inserted, len(events))
		for i, e := range events {
			ins[i] = store.Inserted{EventID: e.ID, DeliveryID: "dlv_x"}
		}
		return ins, nil
	}
	mux := http.NewServeMux()
	svc := service.New(service.Config{Insert: insert, AdminTokenHash: service.HashToken("admin")})
	api.New(api.Config{Service: svc}).Register(mux)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer admin")
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
