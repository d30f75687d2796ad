package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	otw "github.com/onetalk/onetalk-webhooks"
	"github.com/onetalk/onetalk-webhooks/event"
	"github.com/onetalk/onetalk-webhooks/store"
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
	ins, err := s.insertEvents(ctx, events)
	if err != nil {
		return nil, err
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
		body, err = readBody(r, event.MaxEventBytes)
	}
	if err == nil {
		var p event.Parsed
		if p, err = event.Parse(body); err == nil {
			var ins []store.Inserted
			if ins, err = s.insert(r.Context(), s.toEvents([]event.Parsed{p}, key, false)); err == nil {
				writeAccepted(w, ins[0].EventID, ins[0].DeliveryID)
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
		body, err = readBody(r, event.MaxBatchBytes)
	}
	if err == nil {
		var ps []event.Parsed
		if ps, err = event.ParseBatch(body); err == nil {
			var ins []store.Inserted
			if ins, err = s.insert(r.Context(), s.toEvents(ps, key, true)); err == nil {
				ids := make([]string, len(ins))
				for i, in := range ins {
					ids[i] = in.EventID
				}
				writeJSON(w, http.StatusAccepted, map[string]any{"eventIDs": ids})
				return
			}
		}
	}
	writeError(w, r, s.log, err)
}

// testWebhook publishes the example of a type for this organization, as
// if the platform had: it goes through the same store and dispatcher.
func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request, org int64) {
	body, err := readBody(r, maxSmallBody)
	var eventType string
	if err == nil {
		var m map[string]json.RawMessage
		if m, err = fields(body); err == nil {
			var c checker
			if c.decode(m, "eventType", "an event type name", &eventType) && !event.Known(eventType) {
				c.fail("eventType", "unknown event type %q", eventType)
			}
			err = c.err()
		}
	}
	var eventID, deliveryID string
	if err == nil {
		eventID, deliveryID, err = s.PublishTest(r.Context(), org, eventType)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeAccepted(w, eventID, deliveryID)
}

// writeAccepted answers a publish of one event: deliveryID is null when
// the event is stored but no webhook takes it.
func writeAccepted(w http.ResponseWriter, eventID, deliveryID string) {
	var dlv *string
	if deliveryID != "" {
		dlv = &deliveryID
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"eventID": eventID, "deliveryID": dlv})
}
