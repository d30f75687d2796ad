package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Error is an answer of the service other than success: a 4xx at once, or
// the last 429 or 5xx when the retries ran out (then wrapped: find it with
// errors.As). It carries the RFC 9457 problem the service sends.
type Error struct {
	// StatusCode is the HTTP status: 422 for invalid fields, 401 for a bad
	// token, 503 when the service's database is down, and so on.
	StatusCode int
	// Type is the problem type, "urn:onetalk-webhooks:problem:<code>"
	// (invalid, malformed, too_large, unauthorized, …); "" when the answer
	// was not a problem document (a proxy's page, say).
	Type   string
	Title  string
	Detail string
	// Fields names every bad field: "integrationMessageStatus.status", or
	// in a batch "[1500].caseResolved.caseID", counted from the start of
	// the events given to PublishBatch (not of the chunk that held it).
	Fields []FieldError
	// RetryAfter is the wait the service asked for on a 429 or 503; 0 when
	// it did not say.
	RetryAfter time.Duration
}

// FieldError is one bad field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "onetalk-webhooks: %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(f.Field + ": " + f.Message)
		if i == len(e.Fields)-1 {
			b.WriteString(")")
		}
	}
	return b.String()
}

// Temporary reports whether the same request may succeed later: a 429 or
// a 5xx. The client has already retried those as far as its RetryPolicy
// allows.
func (e *Error) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// errorFrom builds the Error of an answer whose body is body.
func errorFrom(resp *http.Response, body []byte) *Error {
	e := &Error{StatusCode: resp.StatusCode, RetryAfter: retryAfter(resp.Header)}
	var p struct {
		Type   string       `json:"type"`
		Title  string       `json:"title"`
		Detail string       `json:"detail"`
		Errors []FieldError `json:"errors"`
	}
	if json.Unmarshal(body, &p) == nil && p.Type != "" {
		e.Type, e.Title, e.Detail, e.Fields = p.Type, p.Title, p.Detail, p.Errors
		return e
	}
	// Not a problem document: something between the client and the
	// service answered. Keep the start of what it said.
	e.Title = http.StatusText(resp.StatusCode)
	e.Detail = strings.TrimSpace(truncate(string(body), 200))
	return e
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// asError finds the *Error in err's chain.
func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
