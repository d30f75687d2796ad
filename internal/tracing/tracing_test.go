package tracing

import (
	"context"
	"testing"
)

// Tracing is off without an endpoint, or with the SDK disabled: no tracer.
func TestOffWithoutEndpoint(t *testing.T) {
	for _, env := range []map[string]string{
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": ""},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_SDK_DISABLED": "true"},
	} {
		for k, v := range env {
			t.Setenv(k, v)
		}
		tr, shutdown, err := FromEnv(context.Background())
		if err != nil || tr != nil {
			t.Errorf("%v: tracer %v, err %v; want off", env, tr, err)
		}
		if err := shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	}
}

// A stored traceparent comes back as the parent of what starts from it;
// "" and garbage leave the context alone.
func TestTraceParentRoundTrip(t *testing.T) {
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	if got := TraceParent(FromTraceParent(context.Background(), tp)); got != tp {
		t.Errorf("round trip: %q, want %q", got, tp)
	}
	for _, bad := range []string{"", "not-a-traceparent"} {
		if got := TraceParent(FromTraceParent(context.Background(), bad)); got != "" {
			t.Errorf("FromTraceParent(%q) gave a span context: %q", bad, got)
		}
	}
}
