package webhook

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
)

// MaxBodySize is the largest body Handler reads; larger requests get 413.
// The service sends at most 256 KiB per event.
const MaxBodySize = 1 << 20

// ErrPermanent marks an error the sender should not retry: wrap it in the
// error your Handler function returns (fmt.Errorf("…: %w", ErrPermanent)) and
// the answer is 400 instead of 500.
//
// onetalk-webhooks retries every answer that is not 2xx, 400 included, on
// its retry schedule; the 400 only tells the delivery log that the receiver
// refused the event. To stop the retries, return nil and drop the event
// yourself; to stop all deliveries, answer 410 Gone, which disables the
// webhook.
var ErrPermanent = errors.New("webhook: permanent failure")

// Handler returns an http.Handler that verifies each request with the
// secret, parses it and calls fn with it. The answer: 405 to a method other
// than POST, 413 to a body above MaxBodySize, 401 to a missing or bad
// signature, 400 to a body Parse refuses; then, from fn: nil 204, an error
// wrapping ErrPermanent 400, any other error 500. fn's error text is not
// sent: it stays in your process.
//
// An event may arrive more than once (the sender retries until it sees a
// 2xx): Event.ID is the same on each.
func Handler(secret string, fn func(ctx context.Context, e *Event) error) (http.Handler, error) {
	v, err := NewVerifier(secret)
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			answer(w, http.StatusMethodNotAllowed, "webhook: POST only")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodySize))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				answer(w, http.StatusRequestEntityTooLarge, "webhook: body larger than "+strconv.Itoa(MaxBodySize)+" bytes")
				return
			}
			answer(w, http.StatusBadRequest, "webhook: read body: "+err.Error())
			return
		}
		// Verify before parsing: an unsigned body is not worth reading.
		if err := v.Verify(r.Header, body); err != nil {
			answer(w, http.StatusUnauthorized, err.Error())
			return
		}
		e, err := Parse(body)
		if err != nil {
			answer(w, http.StatusBadRequest, err.Error())
			return
		}
		e.ID = get(r.Header, HeaderID)
		// Verify has checked the timestamp parses.
		unix, _ := strconv.ParseInt(get(r.Header, HeaderTimestamp), 10, 64)
		e.Timestamp = time.Unix(unix, 0)
		switch err := fn(r.Context(), e); {
		case err == nil:
			w.WriteHeader(http.StatusNoContent)
		case errors.Is(err, ErrPermanent):
			answer(w, http.StatusBadRequest, http.StatusText(http.StatusBadRequest))
		default:
			answer(w, http.StatusInternalServerError, http.StatusText(http.StatusInternalServerError))
		}
	}), nil
}

// answer writes a short plain-text answer; the sender keeps the start of it
// in its delivery log, so it says what went wrong.
func answer(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	io.WriteString(w, msg+"\n")
}
