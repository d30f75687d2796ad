package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/web"
)

// problem is an RFC 9457 problem details body.
type problem struct {
	Type   string           `json:"type"`
	Title  string           `json:"title"`
	Status int              `json:"status"`
	Detail string           `json:"detail,omitempty"`
	Errors []otw.FieldError `json:"errors,omitempty"`
}

// writeError answers with the problem for err, its status web.Status's.
// Only internal errors are logged: the others are the caller's, and the
// answer tells them.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := otw.ErrorCode(err)
	status := web.Status(code)
	if status >= 500 {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	p := problem{
		Type:   "urn:onetalk-webhooks:problem:" + code,
		Title:  http.StatusText(status),
		Status: status,
		Detail: otw.ErrorMessage(err),
	}
	if e := (*otw.Error)(nil); errors.As(err, &e) {
		p.Errors = e.Fields
	}
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="onetalk-webhooks"`)
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", web.RetryAfterUnavailable)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	// A detail quotes what the client sent (a URL, a field name); escaped
	// as \u003c it would read wrong wherever the problem is shown as text,
	// and a problem is never HTML.
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p)
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
