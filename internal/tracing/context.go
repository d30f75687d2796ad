package tracing

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/propagation"
)

// w3c reads and writes the traceparent (and tracestate) header.
var w3c propagation.TraceContext

// Extract returns ctx with the remote span context of a request's
// traceparent header, if it has a valid one.
func Extract(ctx context.Context, h http.Header) context.Context {
	return w3c.Extract(ctx, propagation.HeaderCarrier(h))
}

// Inject sets the traceparent header of ctx's span on h.
func Inject(ctx context.Context, h http.Header) {
	w3c.Inject(ctx, propagation.HeaderCarrier(h))
}

// TraceParent is the traceparent of ctx's span, to store with an event;
// "" when ctx has none.
func TraceParent(ctx context.Context) string {
	c := propagation.MapCarrier{}
	w3c.Inject(ctx, c)
	return c["traceparent"]
}

// FromTraceParent returns ctx with the remote span context that a stored
// traceparent names, so that a span started from it joins that trace; ctx
// itself when tp is "" or not a traceparent.
func FromTraceParent(ctx context.Context, tp string) context.Context {
	if tp == "" {
		return ctx
	}
	return w3c.Extract(ctx, propagation.MapCarrier{"traceparent": tp})
}
