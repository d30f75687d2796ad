package delivery_test

import (
	"bytes"
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/api"
	"github.com/onetalk/onetalk-webhooks/internal/delivery"
	"github.com/onetalk/onetalk-webhooks/internal/ingest"
	"github.com/onetalk/onetalk-webhooks/internal/service"
	"github.com/onetalk/onetalk-webhooks/internal/tracing"
	"github.com/onetalk/onetalk-webhooks/webhook"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// A publish with a traceparent makes a publish span in that trace and an
// attempt span, its child, with the HTTP client semantic conventions; the
// receiver gets a traceparent of the same trace, whose parent is the
// attempt. The spans are recorded in memory.
func TestPublishAndAttemptSpansShareTheTrace(t *testing.T) {
	got := make(chan string, 1)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("traceparent")
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	rec := tracedService(t, receiver.URL+"/hook?token=s3cret", "/v1/events", "case_resolved.json", "00-"+traceID+"-00f067aa0ba902b7-01")
	var sent string
	select {
	case sent = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook request within 10 s")
	}

	publish, attempt := endedSpans(t, rec)
	if publish.Name() != "POST /v1/events" || publish.SpanContext().TraceID().String() != traceID ||
		publish.Parent().SpanID().String() != "00f067aa0ba902b7" {
		t.Errorf("publish span %q in trace %s, parent %s: want POST /v1/events continuing the publisher's",
			publish.Name(), publish.SpanContext().TraceID(), publish.Parent().SpanID())
	}
	pa := attrs(publish)
	if pa["otw.event_count"].AsInt64() != 1 || len(pa["otw.event_ids"].AsStringSlice()) != 1 ||
		!strings.HasPrefix(pa["otw.event_ids"].AsStringSlice()[0], "evt_") || pa["http.response.status_code"].AsInt64() != 202 {
		t.Errorf("publish attributes %v", pa)
	}
	if attempt.SpanContext().TraceID() != publish.SpanContext().TraceID() || attempt.Parent().SpanID() != publish.SpanContext().SpanID() {
		t.Errorf("attempt span in trace %s with parent %s; want a child of the publish span %s",
			attempt.SpanContext().TraceID(), attempt.Parent().SpanID(), publish.SpanContext().SpanID())
	}
	aa := attrs(attempt)
	wantURL := receiver.URL + "/hook?token=REDACTED"
	if attempt.Name() != "POST" || aa["http.request.method"].AsString() != "POST" || aa["url.full"].AsString() != wantURL ||
		aa["http.response.status_code"].AsInt64() != 204 || aa["server.address"].AsString() != "127.0.0.1" ||
		aa["server.port"].AsInt64() == 0 || aa["otw.event_id"].AsString() != pa["otw.event_ids"].AsStringSlice()[0] {
		t.Errorf("attempt span %q attributes %v; want the HTTP client conventions, url.full %s", attempt.Name(), aa, wantURL)
	}
	if attempt.Status().Code == codes.Error {
		t.Errorf("a 204 ended with status %v", attempt.Status())
	}
	if parts := strings.Split(sent, "-"); len(parts) != 4 || parts[1] != traceID || parts[2] != attempt.SpanContext().SpanID().String() {
		t.Errorf("receiver got traceparent %q; want trace %s, parent the attempt %s", sent, traceID, attempt.SpanContext().SpanID())
	}
}

// A failed attempt's span has an error status, the status code and
// error.type; a batch's publish span names every event.
func TestFailedAttemptSpanAndBatchPublish(t *testing.T) {
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer receiver.Close()
	rec := tracedService(t, receiver.URL, "/v1/events/batch", "case_resolved.json")
	publish, attempt := endedSpans(t, rec)
	pa := attrs(publish)
	if publish.Name() != "POST /v1/events/batch" || pa["otw.event_count"].AsInt64() != 1 || len(pa["otw.event_ids"].AsStringSlice()) != 1 {
		t.Errorf("publish span %q attributes %v", publish.Name(), pa)
	}
	aa := attrs(attempt)
	if attempt.Status().Code != codes.Error || attempt.Status().Description != "HTTP 503 Service Unavailable" ||
		aa["http.response.status_code"].AsInt64() != 503 || aa["error.type"].AsString() != "503" {
		t.Errorf("attempt span status %v attributes %v; want an error, 503", attempt.Status(), aa)
	}
	if attempt.Parent().SpanID() != publish.SpanContext().SpanID() {
		t.Error("the attempt of a publish without traceparent is not a child of its publish span")
	}
}

// tracedService runs the API and the dispatcher on a SQLite store whose
// organization 1 has a webhook at url for case_resolved, with spans
// recorded in memory, and publishes the example to path (a batch of it
// for /v1/events/batch), with traceparent when set.
func tracedService(t *testing.T, url, path, example string, traceparent ...string) *tracetest.SpanRecorder {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	tracer := tracing.Tracer(tp)
	s := delivery.OpenTestStore(t, "case_resolved", map[int64]string{1: url})
	d := delivery.New(delivery.Config{
		Store: s, OpenSecret: func(b []byte) ([]byte, error) { return b, nil }, Client: &http.Client{},
		PollInterval: time.Hour, Schedule: []time.Duration{time.Hour}, Tracer: tracer,
	})
	runCtx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- d.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-ran })
	committer := ingest.New(s, ingest.Options{Handoff: d})
	t.Cleanup(committer.Close)
	mux := http.NewServeMux()
	svc := service.New(service.Config{Store: s, Insert: committer.Insert, AdminTokenHash: service.HashToken("admin")})
	api.New(api.Config{Service: svc, Tracer: tracer}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	body, err := fs.ReadFile(webhook.Examples, example)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, "/batch") {
		body = append(append([]byte("["), body...), ']')
	}
	req, _ := http.NewRequest("POST", srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer admin")
	req.Header.Set("Content-Type", "application/json")
	for _, tp := range traceparent {
		req.Header.Set("traceparent", tp)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("publish: %d", resp.StatusCode)
	}
	return rec
}

// endedSpans waits for the publish (server) and attempt (client) spans.
func endedSpans(t *testing.T, rec *tracetest.SpanRecorder) (publish, attempt sdktrace.ReadOnlySpan) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); attempt == nil && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, sp := range rec.Ended() {
			switch sp.SpanKind() {
			case trace.SpanKindServer:
				publish = sp
			case trace.SpanKindClient:
				attempt = sp
			}
		}
	}
	if publish == nil || attempt == nil {
		t.Fatalf("spans ended: publish %v, attempt %v", publish != nil, attempt != nil)
	}
	return publish, attempt
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}
