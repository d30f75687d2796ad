package api

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/service"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

func (s *Server) eventTypes(w http.ResponseWriter, r *http.Request) {
	type typeJSON struct {
		Type        string          `json:"type"`
		Description string          `json:"description"`
		Example     json.RawMessage `json:"example"`
		Schema      json.RawMessage `json:"schema"`
	}
	var out []typeJSON
	for _, t := range s.svc.EventTypes() {
		out = append(out, typeJSON{t.Name, t.Description, t.Example, t.Schema})
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

// idempotencyKey reads the Idempotency-Key header ("" when absent). It is
// checked before the body is read, so that a bad key is refused without
// reading up to a batch's worth of bytes.
func idempotencyKey(r *http.Request) (string, error) {
	key := r.Header.Get("Idempotency-Key")
	return key, service.CheckIdempotencyKey(key)
}

// publishEvent answers 202 only once the event is committed: from then on
// it survives any crash.
func (s *Server) publishEvent(w http.ResponseWriter, r *http.Request) {
	key, err := idempotencyKey(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	body, err := readBody(r, event.MaxEventBytes, "one event, a JSON object")
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	in, err := s.svc.Publish(r.Context(), body, key)
	if err != nil {
		writeError(w, r, s.log, misrouted(body, err, '[', "the body is an array: send an array to /v1/events/batch, or one event object here"))
		return
	}
	if s.tracer != nil {
		traceInserted(r.Context(), []store.Inserted{in})
	}
	writeJSON(w, http.StatusAccepted, accepted(&in))
}

// publishBatch stores a batch all or nothing. Under an Idempotency-Key, a
// retry with the same body answers the first eventIDs, and one with
// another body (another length included) is refused.
func (s *Server) publishBatch(w http.ResponseWriter, r *http.Request) {
	key, err := idempotencyKey(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	body, err := readBody(r, event.MaxBatchBytes, "a JSON array of events")
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	ins, err := s.svc.PublishBatch(r.Context(), body, key)
	if err != nil {
		writeError(w, r, s.log, misrouted(body, err, '{', "the body is an object: send one event to /v1/events, or an array of events here"))
		return
	}
	if s.tracer != nil {
		traceInserted(r.Context(), ins)
	}
	ids := make([]string, len(ins))
	each := make([]acceptedJSON, len(ins))
	for i := range ins {
		ids[i], each[i] = ins[i].EventID, accepted(&ins[i])
	}
	// eventIDs came first and stays for the clients that read it; events
	// says of each what happens to it.
	writeJSON(w, http.StatusAccepted, batchAcceptedJSON{EventIDs: ids, Events: each})
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
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	eventType, err := service.ParseTestEvent(body)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	in, err := s.svc.SendTestEvent(r.Context(), org, eventType)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusAccepted, accepted(&in))
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

// accepted answers for *in, pointing into it: copying a batch's outcomes
// to answer each would cost an allocation apiece.
func accepted(in *store.Inserted) acceptedJSON {
	a := acceptedJSON{EventID: in.EventID, NotDelivered: in.NotDelivered}
	if in.DeliveryID != "" {
		a.DeliveryID = &in.DeliveryID
	}
	return a
}
