package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

type deliveryJSON struct {
	ID             string          `json:"id"`
	EventID        string          `json:"eventID"`
	EventType      string          `json:"eventType"`
	Test           bool            `json:"test"` // of a test event ("Send test event")
	Status         string          `json:"status"`
	AttemptCount   int             `json:"attemptCount"`
	NextAttemptAt  *time.Time      `json:"nextAttemptAt"`
	LastStatusCode *int            `json:"lastStatusCode"`
	LastError      string          `json:"lastError"`
	CreatedAt      time.Time       `json:"createdAt"`
	SucceededAt    *time.Time      `json:"succeededAt"`
	Payload        json.RawMessage `json:"payload,omitempty"`
	Attempts       []attemptJSON   `json:"attempts,omitempty"`
}

// deliveryDetailJSON is one delivery on its own: with what it waits for,
// null when nothing (or when it is not pending).
type deliveryDetailJSON struct {
	deliveryJSON
	WaitingFor *waitJSON `json:"waitingFor"`
}

// waitJSON has exactly one member: deliveryID or rateLimit.
type waitJSON struct {
	DeliveryID string `json:"deliveryID,omitempty"`
	RateLimit  int    `json:"rateLimit,omitempty"`
}

type attemptJSON struct {
	N            int       `json:"n"`
	StartedAt    time.Time `json:"startedAt"`
	DurationMs   int64     `json:"durationMs"`
	StatusCode   *int      `json:"statusCode"`
	Error        string    `json:"error"`
	ResponseBody string    `json:"responseBody"`
	URL          string    `json:"url"`
}

func toDeliveryJSON(d otw.Delivery) deliveryJSON {
	out := deliveryJSON{ID: d.ID, EventID: d.EventID, EventType: d.EventType, Test: d.IsTest(), Status: d.Status, AttemptCount: d.AttemptCount,
		NextAttemptAt: d.NextAttemptAt, LastStatusCode: d.LastStatusCode, LastError: d.LastError, CreatedAt: d.CreatedAt,
		SucceededAt: d.SucceededAt, Payload: d.Payload}
	if d.Attempts != nil {
		out.Attempts = make([]attemptJSON, len(d.Attempts))
		for i, a := range d.Attempts {
			out.Attempts[i] = attemptJSON(a)
		}
	}
	return out
}

// ParseListParams reads the deliveries list's query: status, eventType,
// trxID, caseID, eventID, since and until (RFC 3339), limit (1 to 250,
// default 50) and cursor.
func ParseListParams(r *http.Request, org int64) (store.ListParams, error) {
	q := r.URL.Query()
	p := store.ListParams{OrganizationID: org, Status: q.Get("status"), EventType: q.Get("eventType"), Limit: 50, Cursor: q.Get("cursor")}
	var c checker
	switch p.Status {
	case "", otw.DeliveryPending, otw.DeliverySucceeded, otw.DeliveryFailed:
	default:
		c.fail("status", "must be pending, succeeded or failed")
	}
	if p.EventType != "" && !event.Known(p.EventType) {
		c.fail("eventType", "unknown event type %q", p.EventType)
	}
	p.TrxID, p.CaseID, p.EventID = q.Get("trxID"), q.Get("caseID"), q.Get("eventID")
	p.Since, p.Until = c.window(q.Get("since"), q.Get("until"))
	c.ids(p.TrxID, p.CaseID, p.EventID)
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 250 {
			c.fail("limit", "must be an integer from 1 to 250")
		}
		p.Limit = n
	}
	if p.Cursor != "" {
		if n, err := strconv.ParseInt(p.Cursor, 10, 64); err != nil || n <= 0 {
			c.fail("cursor", "not a cursor this API returned")
		}
	}
	return p, c.err()
}

// maxLookupID bounds a trxID, caseID or event ID looked up: far beyond any
// real one, short enough that no lookup carries a page of text.
const maxLookupID = 255

// ids checks the IDs a filter looks up.
func (c *checker) ids(trxID, caseID, eventID string) {
	for _, f := range []struct{ name, v string }{{"trxID", trxID}, {"caseID", caseID}, {"eventID", eventID}} {
		if len(f.v) > maxLookupID {
			c.fail(f.name, "must be at most %d characters", maxLookupID)
		}
	}
	if eventID != "" && !strings.HasPrefix(eventID, "evt_") {
		c.fail("eventID", "must be an event ID (evt_…)")
	}
}

// window reads since and until, RFC 3339 times ("" for none); until must
// come after since.
func (c *checker) window(since, until string) (from, to time.Time) {
	parse := func(name, v string) time.Time {
		if v == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			c.fail(name, "must be an RFC 3339 time such as 2026-11-25T10:00:00Z")
		}
		return t
	}
	from, to = parse("since", since), parse("until", until)
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		c.fail("until", "must be after since")
	}
	return from, to
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request, org int64) {
	p, err := ParseListParams(r, org)
	var page []otw.Delivery
	var next string
	if err == nil {
		page, next, err = s.store.ListDeliveries(r.Context(), p)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := make([]deliveryJSON, len(page))
	for i, d := range page {
		out[i] = toDeliveryJSON(d)
	}
	var nextCursor *string
	if next != "" {
		nextCursor = &next
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out, "nextCursor": nextCursor})
}

func (s *Server) getDelivery(w http.ResponseWriter, r *http.Request, org int64) {
	d, err := s.store.GetDelivery(r.Context(), org, r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.log, s.gone(err, r.PathValue("id")))
		return
	}
	out := deliveryDetailJSON{deliveryJSON: toDeliveryJSON(d)}
	if wt := d.WaitingFor; wt != nil {
		out.WaitingFor = &waitJSON{DeliveryID: wt.DeliveryID, RateLimit: wt.RateLimit}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request, org int64) {
	if err := s.store.RetryDelivery(r.Context(), org, r.PathValue("id"), s.now()); err != nil {
		writeError(w, r, s.log, s.gone(err, r.PathValue("id")))
		return
	}
	s.notify()
	writeJSON(w, http.StatusAccepted, map[string]any{"id": r.PathValue("id"), "status": otw.DeliveryPending})
}

func (s *Server) recoverDeliveries(w http.ResponseWriter, r *http.Request, org int64) {
	body, err := readBody(r, maxSmallBody, "a JSON object")
	var since time.Time
	if err == nil {
		var c checker
		var m map[string]json.RawMessage
		if m, err = c.fields(body, "since"); err == nil {
			var raw string
			if c.decode(m, "since", "an RFC 3339 time", &raw) {
				if since, err = time.Parse(time.RFC3339Nano, raw); err != nil {
					c.fail("since", "must be an RFC 3339 time such as 2026-11-25T10:00:00Z")
				}
			}
			err = c.err()
		}
	}
	var n int
	if err == nil {
		n, err = s.store.RecoverDeliveries(r.Context(), org, since, s.now())
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if n > 0 {
		s.notify()
	}
	answer := map[string]any{"requeued": n}
	if note := s.pastRetention(since); note != "" {
		answer["note"] = note
	}
	writeJSON(w, http.StatusAccepted, answer)
}

// MaxBulkRetry bounds one bulk retry: the work of one request (one
// transaction) stays small; more are sent by calling again.
const MaxBulkRetry = 10000

// ParseRetryFilter reads a bulk retry's body: the list's filters (status,
// failed when left out; pending refused), and dryRun.
func ParseRetryFilter(body []byte, org int64) (store.RetryParams, error) {
	p := store.RetryParams{DeliveryFilter: store.DeliveryFilter{OrganizationID: org, Status: otw.DeliveryFailed}, Limit: MaxBulkRetry}
	var c checker
	m, err := c.fields(body, "status", "eventType", "trxID", "caseID", "eventID", "since", "until", "dryRun")
	if err != nil {
		return p, err
	}
	str := func(name string, v *string) {
		if raw, ok := m[name]; ok && string(raw) != "null" {
			c.decode(m, name, "a string", v)
		}
	}
	var since, until string
	str("status", &p.Status)
	str("eventType", &p.EventType)
	str("trxID", &p.TrxID)
	str("caseID", &p.CaseID)
	str("eventID", &p.EventID)
	str("since", &since)
	str("until", &until)
	if raw, ok := m["dryRun"]; ok && string(raw) != "null" {
		c.decode(m, "dryRun", "true or false", &p.DryRun)
	}
	switch p.Status {
	case otw.DeliveryFailed, otw.DeliverySucceeded:
	case otw.DeliveryPending:
		c.fail("status", "must be failed or succeeded: pending deliveries are being sent")
	default:
		c.fail("status", "must be failed or succeeded")
	}
	if p.EventType != "" && !event.Known(p.EventType) {
		c.fail("eventType", "unknown event type %q", p.EventType)
	}
	p.Since, p.Until = c.window(since, until)
	c.ids(p.TrxID, p.CaseID, p.EventID)
	return p, c.err()
}

// retryDeliveries sends again, in bulk, the deliveries a filter selects
// (or, with dryRun, only counts them).
func (s *Server) retryDeliveries(w http.ResponseWriter, r *http.Request, org int64) {
	body, err := readBody(r, maxSmallBody, "a JSON object")
	var p store.RetryParams
	if err == nil {
		p, err = ParseRetryFilter(body, org)
	}
	var n int
	var more bool
	if err == nil {
		p.Now = s.now()
		n, more, err = s.store.RetryDeliveries(r.Context(), p)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if n > 0 && !p.DryRun {
		s.notify()
	}
	answer := map[string]any{"count": n, "dryRun": p.DryRun, "more": more}
	if more {
		answer["note"] = "more than " + strconv.Itoa(MaxBulkRetry) + " deliveries match: one call retries the oldest " + strconv.Itoa(MaxBulkRetry) + "; call again for the rest"
	}
	status := http.StatusAccepted
	if p.DryRun {
		status = http.StatusOK
	}
	writeJSON(w, status, answer)
}
