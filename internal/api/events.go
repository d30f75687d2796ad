package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 255

func (s *Server) eventTypes(w http.ResponseWriter, r *http.Request) {
	type typeJSON struct {
		Type        string          `json:"type"`
		Description string          `json:"description"`
		Example     json.RawMessage `json:"example"`
		Schema      json.RawMessage `json:"schema"`
	}
	var out []typeJSON
	for _, t := range event.Types() {
		out = append(out, typeJSON{t.Name, t.Description, t.Example, t.Schema})
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

// toEvents turns parsed events into domain events with fresh IDs. The
// events of a batch under an Idempotency-Key each get their place in it
// (see otw.Event's BatchSize).
func (s *Server) toEvents(parsed []event.Parsed, idempotencyKey string, batch bool) []otw.Event {
	now := s.now().UTC()
	events := make([]otw.Event, len(parsed))
	for i, p := range parsed {
		events[i] = otw.Event{ID: otw.NewID("evt_", now), OrganizationID: p.OrganizationID, Type: p.Type,
			OrderKey: p.OrderKey, Body: p.Body, CreatedAt: now, IdempotencyKey: idempotencyKey}
		if batch && idempotencyKey != "" {
			events[i].BatchIndex, events[i].BatchSize = i, len(parsed)
		}
	}
	return events
}

// idempotencyKey reads the Idempotency-Key header ("" when absent).
func idempotencyKey(r *http.Request) (string, error) {
	key := r.Header.Get("Idempotency-Key")
	if len(key) > maxIdempotencyKey || strings.TrimSpace(key) != key || strings.ContainsFunc(key, isControl) {
		return "", otw.Invalid("bad Idempotency-Key",
			otw.FieldError{Field: "Idempotency-Key", Message: "at most 255 characters, no control characters, no surrounding spaces"})
	}
	return key, nil
}

// isControl reports the characters a key may not hold: the store separates
// a batch's key from an event's index with one (store.IdempotencyKey).
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// insert stores events and answers only once they are committed: a 202
// means the event survives any crash from here on.
func (s *Server) insert(ctx context.Context, events []otw.Event) ([]store.Inserted, error) {
	if s.tracer != nil {
		s.traceEvents(ctx, events)
	}
	ins, err := s.insertEvents(ctx, events)
	if err != nil {
		return nil, err
	}
	if s.tracer != nil {
		traceInserted(ctx, ins)
	}
	fresh, due := 0, false
	for _, in := range ins {
		if !in.Existing {
			fresh++
			// A taken delivery is being sent already; the rest waits
			// for a claim.
			due = due || (in.DeliveryID != "" && !in.Taken)
		}
	}
	s.metrics.EventsAccepted(fresh)
	if due {
		s.notify()
	}
	return ins, nil
}

func (s *Server) publishEvent(w http.ResponseWriter, r *http.Request) {
	key, err := idempotencyKey(r)
	var body []byte
	if err == nil {
		body, err = readBody(r, event.MaxEventBytes, "one event, a JSON object")
	}
	if err == nil {
		var p event.Parsed
		p, err = event.Parse(body)
		err = misrouted(body, err, '[', "the body is an array: send an array to /v1/events/batch, or one event object here")
		if err == nil {
			var ins []store.Inserted
			if ins, err = s.insert(r.Context(), s.toEvents([]event.Parsed{p}, key, false)); err == nil {
				writeJSON(w, http.StatusAccepted, accepted(ins[0]))
				return
			}
		}
	}
	writeError(w, r, s.log, err)
}

// publishBatch stores a batch all or nothing. Under an Idempotency-Key, a
// retry with the same body answers the first eventIDs, and one with
// another body (another length included) is refused.
func (s *Server) publishBatch(w http.ResponseWriter, r *http.Request) {
	key, err := idempotencyKey(r)
	var body []byte
	if err == nil {
		body, err = readBody(r, event.MaxBatchBytes, "a JSON array of events")
	}
	if err == nil {
		var ps []event.Parsed
		ps, err = event.ParseBatch(body)
		err = misrouted(body, err, '{', "the body is an object: send one event to /v1/events, or an array of events here")
		if err == nil {
			var ins []store.Inserted
			if ins, err = s.insert(r.Context(), s.toEvents(ps, key, true)); err == nil {
				ids := make([]string, len(ins))
				each := make([]acceptedJSON, len(ins))
				for i, in := range ins {
					ids[i], each[i] = in.EventID, accepted(in)
				}
				// eventIDs came first and stays for the clients that read
				// it; events says of each what happens to it.
				writeJSON(w, http.StatusAccepted, batchAcceptedJSON{EventIDs: ids, Events: each})
				return
			}
		}
	}
	writeError(w, r, s.log, err)
}

// misrouted rewords the refusal of a body that belongs to the other
// publishing route, an array sent for one event or an object sent for a
// batch (opening with other), to say where it belongs.
func misrouted(body []byte, err error, other byte, message string) error {
	if otw.ErrorCode(err) != otw.EMALFORMED {
		return err
	}
	if b := bytes.TrimLeft(body, " \t\r\n"); len(b) > 0 && b[0] == other && json.Valid(b) {
		return otw.Errorf(otw.EMALFORMED, "%s", message)
	}
	return err
}

// testWebhook publishes the example of a type for this organization, as
// if the platform had: it goes through the same store and dispatcher.
func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request, org int64) {
	body, err := readBody(r, maxSmallBody, "a JSON object")
	var eventType string
	if err == nil {
		var c checker
		var m map[string]json.RawMessage
		if m, err = c.fields(body, "eventType"); err == nil {
			if c.decode(m, "eventType", "an event type name", &eventType) && !event.Known(eventType) {
				c.fail("eventType", "unknown event type %q; the types are %s", eventType, knownTypes())
			}
			err = c.err()
		}
	}
	var in store.Inserted
	if err == nil {
		in, err = s.publishTest(r.Context(), org, eventType)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusAccepted, accepted(in))
}

// acceptedJSON answers for one stored event. deliveryID is null when no
// webhook takes it; notDelivered says why it will not be sent now (a
// store.NotDelivered… reason), so that a publisher need not guess between
// a typo in organizationID and a webhook switched off.
type acceptedJSON struct {
	EventID      string  `json:"eventID"`
	DeliveryID   *string `json:"deliveryID"`
	NotDelivered string  `json:"notDelivered,omitempty"`
}

type batchAcceptedJSON struct {
	EventIDs []string       `json:"eventIDs"`
	Events   []acceptedJSON `json:"events"`
}

func accepted(in store.Inserted) acceptedJSON {
	a := acceptedJSON{EventID: in.EventID, NotDelivered: in.NotDelivered}
	if in.DeliveryID != "" {
		a.DeliveryID = &in.DeliveryID
	}
	return a
}
