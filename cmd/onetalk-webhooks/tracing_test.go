package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// otlpReceiver is an OTLP/HTTP trace receiver on 127.0.0.1: it takes
// POST /v1/traces and counts the requests and their protobuf bytes.
type otlpReceiver struct {
	*httptest.Server
	mu            sync.Mutex
	requests      int
	bytes         int
	protobufTypes bool
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	o := &otlpReceiver{protobufTypes: true}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" {
			http.NotFound(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		o.mu.Lock()
		o.requests++
		o.bytes += len(b)
		o.protobufTypes = o.protobufTypes && r.Header.Get("Content-Type") == "application/x-protobuf"
		o.mu.Unlock()
		// An empty ExportTraceServiceResponse: everything accepted.
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *otlpReceiver) counts() (requests, bytes int, protobuf bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.requests, o.bytes, o.protobufTypes
}

// With OTEL_EXPORTER_OTLP_ENDPOINT set, serve exports spans with OTLP over
// HTTP, and the webhook request carries a traceparent in the trace the
// publisher's traceparent started.
func TestTracesExportedWithOTLP(t *testing.T) {
	otlp := newOTLPReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.URL)
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "100") // ms: export soon, not after 5 s
	rc := newReceiver(t, nil)
	dir := t.TempDir()
	s := startServer(t, dir, "--db", "sqlite:"+filepath.Join(dir, "otw.db"))
	s.createOrg(7, rc.URL)
	raw := bytes.Replace(readExample(t, "case_resolved.json"), []byte(`"organizationID": 1,`), []byte(`"organizationID": 7,`), 1)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	r := s.doWith("POST", "/v1/events", s.Token, raw, map[string]string{"traceparent": "00-" + traceID + "-00f067aa0ba902b7-01"})
	if r.Status != 202 {
		t.Fatalf("publish: %d %s", r.Status, r.Body)
	}
	got := rc.waitFor(t, 10*time.Second, "the webhook request", func(r []received) bool { return len(r) > 0 })
	tp := got[0].Header.Get("traceparent")
	if parts := strings.Split(tp, "-"); len(parts) != 4 || parts[1] != traceID {
		t.Errorf("webhook traceparent = %q, want one in trace %s", tp, traceID)
	}
	eventually(t, 10*time.Second, "spans to reach the OTLP receiver", func() bool {
		n, b, _ := otlp.counts()
		return n > 0 && b > 0
	})
	if _, _, protobuf := otlp.counts(); !protobuf {
		t.Error("an export was not application/x-protobuf")
	}
}

// Without an OTLP endpoint nothing is traced: no traceparent reaches the
// receiver.
func TestNoTraceparentWithoutTracing(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	rc := newReceiver(t, nil)
	dir := t.TempDir()
	s := startServer(t, dir, "--db", "sqlite:"+filepath.Join(dir, "otw.db"))
	s.createOrg(7, rc.URL)
	raw := bytes.Replace(readExample(t, "case_resolved.json"), []byte(`"organizationID": 1,`), []byte(`"organizationID": 7,`), 1)
	s.doWith("POST", "/v1/events", s.Token, raw, map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
	got := rc.waitFor(t, 10*time.Second, "the webhook request", func(r []received) bool { return len(r) > 0 })
	if tp := got[0].Header.Get("traceparent"); tp != "" {
		t.Errorf("traceparent %q sent with tracing off", tp)
	}
}
