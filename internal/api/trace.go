package api

import (
	"context"
	"net/http"

	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/tracing"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// traced makes a server span of each request to a publishing route, in the
// trace of the publisher's traceparent when it sends one; the service
// stores the span's traceparent with the events, so that their delivery
// attempts join the trace. The handler itself is returned when tracing is
// off.
func (s *Server) traced(pattern string, h http.HandlerFunc) http.HandlerFunc {
	if s.tracer == nil {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, span := s.tracer.Start(tracing.Extract(r.Context(), r.Header), pattern,
			trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(semconv.HTTPRequestMethodPost, semconv.HTTPRoute(pattern[len("POST "):])))
		defer span.End()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h(sw, r.WithContext(ctx))
		span.SetAttributes(semconv.HTTPResponseStatusCode(sw.code))
		if sw.code >= 500 {
			// A server span fails on 5xx only: a 4xx is the caller's.
			span.SetStatus(codes.Error, http.StatusText(sw.code))
		}
	}
}

// traceInserted names the published events on the publish span.
func traceInserted(ctx context.Context, ins []store.Inserted) {
	ids := make([]string, len(ins))
	for i, in := range ins {
		ids[i] = in.EventID
	}
	trace.SpanFromContext(ctx).SetAttributes(attribute.StringSlice("otw.event_ids", ids), attribute.Int("otw.event_count", len(ids)))
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
