package service

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/trace"

	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/tracing"
)

// maxIdempotencyKey bounds an idempotency key.
const maxIdempotencyKey = 255

// EventTypes are the event types a publisher may send and a webhook may
// subscribe to, with their descriptions, examples and schemas.
func (s *Service) EventTypes() []event.Type { return event.Types() }

// CheckIdempotencyKey refuses a key the store cannot keep apart from
// another: too long, with control characters (the store separates a
// batch's key from an event's index with one, see store.IdempotencyKey) or
// surrounding spaces. "" is no key. The error names the field
// Idempotency-Key, the header that carries it.
func CheckIdempotencyKey(key string) error {
	if len(key) > maxIdempotencyKey || strings.TrimSpace(key) != key || strings.ContainsFunc(key, isControl) {
		return otw.Invalid("bad Idempotency-Key",
			otw.FieldError{Field: "Idempotency-Key", Message: "at most 255 characters, no control characters, no surrounding spaces"})
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// Publish validates one event (event.Parse), stores it and returns once
// it is committed: from then on it survives any crash. Under an
// idempotency key a repeat answers the first event. The outcome says
// whether a delivery was made and, when not, why (store.Inserted's
// NotDelivered).
func (s *Service) Publish(ctx context.Context, body []byte, idempotencyKey string) (store.Inserted, error) {
	if err := CheckIdempotencyKey(idempotencyKey); err != nil {
		return store.Inserted{}, err
	}
	p, err := event.Parse(body)
	if err != nil {
		return store.Inserted{}, err
	}
	ins, err := s.insert(ctx, s.toEvents([]event.Parsed{p}, idempotencyKey, false))
	if err != nil {
		return store.Inserted{}, err
	}
	return ins[0], nil
}

// PublishBatch is Publish for a JSON array of events, stored all or
// nothing. Under an idempotency key, a retry with the same body answers
// the first events, and one with another body (another length included)
// is refused.
func (s *Service) PublishBatch(ctx context.Context, body []byte, idempotencyKey string) ([]store.Inserted, error) {
	if err := CheckIdempotencyKey(idempotencyKey); err != nil {
		return nil, err
	}
	ps, err := event.ParseBatch(body)
	if err != nil {
		return nil, err
	}
	return s.insert(ctx, s.toEvents(ps, idempotencyKey, true))
}

// toEvents turns parsed events into domain events with fresh IDs. The
// events of a batch under an idempotency key each get their place in it
// (see otw.Event's BatchSize).
func (s *Service) toEvents(parsed []event.Parsed, idempotencyKey string, batch bool) []otw.Event {
	now := s.now().UTC()
	events := make([]otw.Event, len(parsed))
	var ids []string
	if len(parsed) > 1 {
		ids = otw.NewIDs("evt_", now, len(parsed)) // one allocation, not one each
	} else {
		ids = []string{otw.NewID("evt_", now)}
	}
	for i, p := range parsed {
		events[i] = otw.Event{ID: ids[i], OrganizationID: p.OrganizationID, Type: p.Type,
			OrderKey: p.OrderKey, Body: p.Body, CreatedAt: now, IdempotencyKey: idempotencyKey}
		if batch && idempotencyKey != "" {
			events[i].BatchIndex, events[i].BatchSize = i, len(parsed)
		}
	}
	return events
}

// insert stores events, counts the new ones and wakes the dispatcher for
// the deliveries it did not take at insert. A publish made in a trace
// (ctx carries its span) stores the traceparent with each event, so that
// its delivery attempts join the trace.
func (s *Service) insert(ctx context.Context, events []otw.Event) ([]store.Inserted, error) {
	// Checked first, without allocating: with tracing off no span is ever
	// in ctx, and the publish pays nothing for it.
	if trace.SpanContextFromContext(ctx).IsValid() {
		if tp := tracing.TraceParent(ctx); tp != "" {
			for i := range events {
				events[i].TraceParent = tp
			}
		}
	}
	ins, err := s.insertEvents(ctx, events)
	if err != nil {
		return nil, err
	}
	fresh := 0
	for _, in := range ins {
		if !in.Existing {
			fresh++
		}
	}
	s.metrics.EventsAccepted(fresh)
	return ins, nil
}
