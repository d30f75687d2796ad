package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/service"
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

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request, org int64) {
	p, err := service.ParseListParams(r.URL.Query(), org)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	page, next, err := s.svc.ListDeliveries(r.Context(), p)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := make([]deliveryJSON, len(page))
	for i, d := range page {
		out[i] = toDeliveryJSON(d)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out, "nextCursor": cursorJSON(next)})
}

// cursorJSON is a list's nextCursor: null on the last page.
func cursorJSON(next string) *string {
	if next == "" {
		return nil
	}
	return &next
}

func (s *Server) getDelivery(w http.ResponseWriter, r *http.Request, org int64) {
	d, err := s.svc.GetDelivery(r.Context(), org, r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := deliveryDetailJSON{deliveryJSON: toDeliveryJSON(d)}
	if wt := d.WaitingFor; wt != nil {
		out.WaitingFor = &waitJSON{DeliveryID: wt.DeliveryID, RateLimit: wt.RateLimit}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request, org int64) {
	if err := s.svc.RetryDelivery(r.Context(), org, r.PathValue("id")); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"id": r.PathValue("id"), "status": otw.DeliveryPending})
}

func (s *Server) recoverDeliveries(w http.ResponseWriter, r *http.Request, org int64) {
	body, err := readBody(r, maxSmallBody, "a JSON object")
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	since, err := service.ParseRecover(body)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	n, note, err := s.svc.Recover(r.Context(), org, since)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	answer := map[string]any{"requeued": n}
	if note != "" {
		answer["note"] = note
	}
	writeJSON(w, http.StatusAccepted, answer)
}

// retryDeliveries sends again, in bulk, the deliveries a filter selects
// (or, with dryRun, only counts them).
func (s *Server) retryDeliveries(w http.ResponseWriter, r *http.Request, org int64) {
	body, err := readBody(r, maxSmallBody, "a JSON object")
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	p, err := service.ParseRetryFilter(body, org)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	n, more, err := s.svc.RetryDeliveries(r.Context(), p)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	answer := map[string]any{"count": n, "dryRun": p.DryRun, "more": more}
	if more {
		answer["note"] = "more than " + strconv.Itoa(service.MaxBulkRetry) + " deliveries match: one call retries the oldest " +
			strconv.Itoa(service.MaxBulkRetry) + "; call again for the rest"
	}
	status := http.StatusAccepted
	if p.DryRun {
		status = http.StatusOK
	}
	writeJSON(w, status, answer)
}
