// Package reqlog gives every HTTP request an ID, answered in X-Request-ID
// and carried into each log line written for the request, so that one
// request's lines can be found among a busy node's.
package reqlog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
)

// Header is where a request's ID is answered, and where a caller (a load
// balancer, a publisher) may send one of its own for the service to use.
const Header = "X-Request-ID"

type key struct{}

// Middleware gives each request an ID: the caller's when it is a sane one,
// otherwise a new one. The answer carries it in Header.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(Header)
		if !sane(id) {
			id = newID()
		}
		w.Header().Set(Header, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), key{}, id)))
	})
}

// ID returns the request ID carried by ctx, or "".
func ID(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}

// sane accepts what a log line and a header can carry safely: 1 to 128
// letters, digits and . _ : - (a trace or load-balancer ID fits).
func sane(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

func newID() string {
	var b [12]byte
	rand.Read(b[:]) // never fails: see "Randomness cannot fail" in docs/design.md
	return hex.EncodeToString(b[:])
}

// Handler wraps h so that a line logged with a request's context (the
// *Context methods of slog.Logger) carries the request's ID as requestID.
func Handler(h slog.Handler) slog.Handler { return handler{h} }

type handler struct{ slog.Handler }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	if id := ID(ctx); id != "" {
		r.AddAttrs(slog.String("requestID", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return handler{h.Handler.WithAttrs(attrs)}
}

func (h handler) WithGroup(name string) slog.Handler { return handler{h.Handler.WithGroup(name)} }
