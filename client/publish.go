package client

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/onetalk/onetalk-webhooks/internal/event"
)

// Result is what the service answered for one published event.
type Result struct {
	// EventID is the stored event's ID ("evt_…"): the same on every
	// retry of the call that published it.
	EventID string
	// DeliveryID is the delivery that will send it ("dlv_…"), or "" when
	// none will: the organization has no webhook, it is switched off or
	// it does not subscribe to the type. A batch's answer does not name
	// deliveries, so it is "" for every event of PublishBatch unless the
	// service adds them.
	DeliveryID string
	// NotDelivered is the service's reason why the event will not be sent
	// ("no webhook", "webhook disabled", …), when the service gives one;
	// "" otherwise. Services that predate the field never give it.
	NotDelivered string
}

// Publish stores one event and returns once the service has committed it
// (its 202). It is sent under an Idempotency-Key (random unless given
// with WithIdempotencyKey) that each retry repeats, so a retry after a
// lost answer returns the first result and stores nothing twice.
//
// A 4xx answer other than 429 is returned at once as an *Error naming the
// bad fields; connection errors, 429 and 5xx are retried as the client's
// RetryPolicy and ctx allow, and after the last the error wraps the last
// *Error (if there was an answer).
func (c *Client) Publish(ctx context.Context, e Event) (Result, error) {
	body, err := e.JSON()
	if err != nil {
		return Result{}, err
	}
	if len(body) > event.MaxEventBytes {
		return Result{}, fmt.Errorf("client: the event is %d bytes, more than the %d the service takes", len(body), event.MaxEventBytes)
	}
	key, given := idempotencyKey(ctx)
	if given {
		if err := checkKey(key); err != nil {
			return Result{}, err
		}
	}
	var out acceptedJSON
	if err := c.do(ctx, request{method: "POST", path: "/v1/events", body: body, key: key}, &out); err != nil {
		return Result{}, err
	}
	return out.result(), nil
}

// acceptedJSON is the answer to a single publish. notDelivered is
// decoded when present: it is newer than the rest.
type acceptedJSON struct {
	EventID      string  `json:"eventID"`
	DeliveryID   *string `json:"deliveryID"`
	NotDelivered *string `json:"notDelivered"`
}

func (a acceptedJSON) result() Result {
	return Result{EventID: a.EventID, DeliveryID: deref(a.DeliveryID), NotDelivered: deref(a.NotDelivered)}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// PublishBatch stores events in order, as few requests as the service's
// limits allow: a request holds at most 1000 events and 5 MiB, so a longer
// or larger slice is split into chunks, each sent (and retried) as its own
// request under its own Idempotency-Key and stored all or nothing. Chunks
// go one after the other, so the events reach the service, and each
// message's or case's receiver, in the order given.
//
// On success it returns one Result per event, in order. On an error it
// returns the Results of the chunks stored before it, a prefix of events:
// those are stored, and the rest are not unless the error is a retry
// budget or context that ran out mid-chunk (then that chunk may be stored
// too; calling PublishBatch again with the same events under the same
// WithIdempotencyKey stores each event once in all).
//
// An event the service refuses is named in the *Error's Fields by its
// index in events ("[1500].caseResolved.caseID"), whichever chunk held it.
// Events over 256 KiB are refused before anything is sent. An empty slice
// publishes nothing.
func (c *Client) PublishBatch(ctx context.Context, events []Event) ([]Result, error) {
	bodies := make([][]byte, len(events))
	for i, e := range events {
		b, err := e.JSON()
		if err != nil {
			return nil, fmt.Errorf("client: event [%d]: %w", i, err)
		}
		if len(b) > event.MaxEventBytes {
			return nil, fmt.Errorf("client: event [%d] is %d bytes, more than the %d the service takes", i, len(b), event.MaxEventBytes)
		}
		bodies[i] = b
	}
	if len(bodies) == 0 {
		return nil, nil
	}
	chunks := split(bodies, event.MaxBatchLen, event.MaxBatchBytes)
	base, given := idempotencyKey(ctx)
	keys := make([]string, len(chunks))
	for i := range chunks {
		keys[i] = base
		if i > 0 {
			keys[i] += "/" + strconv.Itoa(i)
		}
		if given {
			if err := checkKey(keys[i]); err != nil {
				return nil, err
			}
		}
	}
	results := make([]Result, 0, len(events))
	for i, ch := range chunks {
		rs, err := c.publishChunk(ctx, bodies[ch.from:ch.to], keys[i])
		if err != nil {
			reindex(err, ch.from)
			return results, err
		}
		results = append(results, rs...)
	}
	return results, nil
}

// publishChunk publishes one batch request of bodies under key.
func (c *Client) publishChunk(ctx context.Context, bodies [][]byte, key string) ([]Result, error) {
	var out batchAcceptedJSON
	if err := c.do(ctx, request{method: "POST", path: "/v1/events/batch", body: batchBody(bodies), key: key}, &out); err != nil {
		return nil, err
	}
	return out.results(len(bodies))
}

// chunk is events[from:to] of a batch.
type chunk struct{ from, to int }

// split cuts bodies into runs of at most maxLen events whose batch body
// (the events, a comma between two, and the brackets) is at most maxBytes.
// Each body is at most event.MaxEventBytes, far below maxBytes, so every
// run holds at least one event.
func split(bodies [][]byte, maxLen, maxBytes int) []chunk {
	var out []chunk
	from, size := 0, 2 // "[" and "]"
	for i, b := range bodies {
		add := len(b)
		if i > from {
			add++ // the comma before it
		}
		if i > from && (i-from == maxLen || size+add > maxBytes) {
			out = append(out, chunk{from, i})
			from, size, add = i, 2, len(b)
		}
		size += add
	}
	return append(out, chunk{from, len(bodies)})
}

// batchBody is the JSON array of bodies.
func batchBody(bodies [][]byte) []byte {
	n := 1 + len(bodies)
	for _, b := range bodies {
		n += len(b)
	}
	out := make([]byte, 0, n)
	out = append(out, '[')
	for i, b := range bodies {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, b...)
	}
	return append(out, ']')
}

// batchAcceptedJSON is the answer to a batch: eventIDs, in order. The
// per-event delivery IDs and reasons are decoded in the shapes the service
// may grow them in (arrays beside eventIDs, or an array of objects), and
// ignored when absent.
type batchAcceptedJSON struct {
	EventIDs     []string        `json:"eventIDs"`
	DeliveryIDs  []*string       `json:"deliveryIDs"`
	NotDelivered json.RawMessage `json:"notDelivered"`
	Events       []acceptedJSON  `json:"events"`
}

func (a batchAcceptedJSON) results(n int) ([]Result, error) {
	if len(a.EventIDs) == 0 && len(a.Events) == n {
		rs := make([]Result, n)
		for i, e := range a.Events {
			rs[i] = e.result()
		}
		return rs, nil
	}
	if len(a.EventIDs) != n {
		// Not an answer to this request: nothing to pair the events
		// with. Not retried, since the same request would get the same.
		return nil, fmt.Errorf("client: the service answered %d event IDs for %d events", len(a.EventIDs), n)
	}
	rs := make([]Result, n)
	for i, id := range a.EventIDs {
		rs[i].EventID = id
		if i < len(a.DeliveryIDs) {
			rs[i].DeliveryID = deref(a.DeliveryIDs[i])
		}
	}
	// notDelivered: one reason (or null) per event, or reasons by
	// eventID.
	var list []*string
	var byID map[string]string
	if json.Unmarshal(a.NotDelivered, &list) == nil {
		for i := range min(n, len(list)) {
			rs[i].NotDelivered = deref(list[i])
		}
	} else if json.Unmarshal(a.NotDelivered, &byID) == nil {
		for i := range rs {
			rs[i].NotDelivered = byID[rs[i].EventID]
		}
	}
	return rs, nil
}

// reindex rewrites the field names of a refused chunk ("[3].trxID") to
// the events' indexes in the whole batch, which is what the caller knows.
func reindex(err error, offset int) {
	e, ok := asError(err)
	if !ok || offset == 0 {
		return
	}
	for i, f := range e.Fields {
		rest, ok := strings.CutPrefix(f.Field, "[")
		if !ok {
			continue
		}
		num, tail, ok := strings.Cut(rest, "]")
		if n, err := strconv.Atoi(num); ok && err == nil {
			e.Fields[i].Field = "[" + strconv.Itoa(n+offset) + "]" + tail
		}
	}
}
