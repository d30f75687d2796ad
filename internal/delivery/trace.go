package delivery

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strconv"

	"github.com/onetalk/onetalk-webhooks/internal/netguard"
	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/tracing"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// startAttempt starts the span of one delivery attempt, an HTTP client
// span named as the semantic conventions name one without a URL template.
// Its parent is the publish's span, stored with the event, so that
// attempts made on any node, hours later, belong to the publish's trace.
func (x *executor) startAttempt(ctx context.Context, c *store.Claimed) (context.Context, trace.Span) {
	attrs := []attribute.KeyValue{
		semconv.HTTPRequestMethodPost,
		semconv.URLFull(redactURL(c.URL)),
		attribute.String("otw.delivery_id", c.DeliveryID),
		attribute.String("otw.event_id", c.EventID),
		attribute.Int64("otw.organization_id", c.OrganizationID),
	}
	if u, err := url.Parse(c.URL); err == nil {
		attrs = append(attrs, semconv.ServerAddress(u.Hostname()))
		if port := portOf(u); port > 0 {
			attrs = append(attrs, semconv.ServerPort(port))
		}
	}
	if c.AttemptCount > 0 {
		attrs = append(attrs, semconv.HTTPRequestResendCount(c.AttemptCount))
	}
	return x.tracer.Start(tracing.FromTraceParent(ctx, c.TraceParent), "POST",
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
}

// endAttempt records how the attempt ended: the status code, and an error
// status for a transport error or a status that is not a success (the
// conventions make 4xx an error of a client span, as it is of a webhook).
func endAttempt(span trace.Span, r response, errorText string) {
	switch {
	case r.err != nil:
		span.SetAttributes(semconv.ErrorTypeKey.String(errorType(r.err)))
		span.SetStatus(codes.Error, errorText)
	default:
		span.SetAttributes(semconv.HTTPResponseStatusCode(r.code))
		if r.code < 200 || r.code > 299 {
			span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(r.code)))
			span.SetStatus(codes.Error, errorText)
		}
	}
	span.End()
}

// errorType is error.type of an attempt that got no status: a few
// values, as the conventions ask, the details being in the status's
// description.
func errorType(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, netguard.ErrForbiddenAddress):
		return "forbidden_address"
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return "timeout"
	}
	return "_OTHER"
}

// redactURL is a webhook URL fit for a span: no userinfo, and no query
// value, since receivers often put a token there.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	u.User = nil
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q[k] = []string{"REDACTED"}
		}
		u.RawQuery = q.Encode()
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// portOf is the URL's port, or its scheme's.
func portOf(u *url.URL) int {
	if p := u.Port(); p != "" {
		n, _ := strconv.Atoi(p)
		return n
	}
	switch u.Scheme {
	case "https":
		return 443
	case "http":
		return 80
	}
	return 0
}
