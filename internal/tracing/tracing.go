// Package tracing sets up OpenTelemetry traces from the standard
// environment and carries a trace from a publish to its delivery attempts
// as a W3C traceparent. Tracing is off unless an OTLP endpoint is set: the
// service then holds a nil trace.Tracer, and every traced path checks for
// nil first, so that it costs nothing.
package tracing

import (
	"context"
	"os"
	"strings"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Name is the instrumentation scope of every span, and the default
// service.name (OTEL_SERVICE_NAME overrides it).
const Name = "onetalk-webhooks"

// Enabled reports whether the environment asks for traces: an OTLP
// endpoint for all signals or for traces, and the SDK not disabled
// (OTEL_SDK_DISABLED=true).
func Enabled() bool {
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// FromEnv returns the tracer that exports spans with OTLP over HTTP to the
// endpoint the environment names (the exporter reads the OTEL_EXPORTER_OTLP_*
// variables, the sampler OTEL_TRACES_SAMPLER, the resource
// OTEL_RESOURCE_ATTRIBUTES), and shutdown, which exports what is left.
// Without an endpoint it returns a nil tracer: tracing is off.
func FromEnv(ctx context.Context) (trace.Tracer, func(context.Context) error, error) {
	if !Enabled() {
		return nil, func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, nil, err
	}
	res, err := resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithAttributes(semconv.ServiceName(Name), semconv.ServiceVersion(otw.Version)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(), // last: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
	)
	if err != nil {
		return nil, nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return Tracer(tp), tp.Shutdown, nil
}

// Tracer is the service's tracer of a provider (tests pass one that
// records in memory).
func Tracer(tp trace.TracerProvider) trace.Tracer {
	return tp.Tracer(Name, trace.WithInstrumentationVersion(otw.Version), trace.WithSchemaURL(semconv.SchemaURL))
}
