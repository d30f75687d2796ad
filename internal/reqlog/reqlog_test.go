package reqlog_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/onetalk/onetalk-webhooks/internal/reqlog"
)

// A request gets an ID in its answer and in every line logged with its
// context; a sane ID sent by the caller is kept, an unsafe one replaced.
func TestRequestIDInAnswerAndLog(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(reqlog.Handler(slog.NewJSONHandler(&out, nil)))
	h := reqlog.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.ErrorContext(r.Context(), "request failed", "path", r.URL.Path)
	}))
	for _, c := range []struct{ sent, want string }{
		{"", ""},                   // a new one
		{"lb-7f3a:1", "lb-7f3a:1"}, // the caller's, kept
		{"bad id\nforged=1", ""},   // replaced
	} {
		out.Reset()
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/x", nil)
		if c.sent != "" {
			r.Header.Set(reqlog.Header, c.sent)
		}
		h.ServeHTTP(w, r)
		id := w.Header().Get(reqlog.Header)
		if id == "" || (c.want != "" && id != c.want) || (c.want == "" && id == c.sent) {
			t.Fatalf("sent %q: answered X-Request-ID %q", c.sent, id)
		}
		var line map[string]any
		if err := json.Unmarshal(out.Bytes(), &line); err != nil {
			t.Fatalf("log line %q is not one JSON object: %v", out.String(), err)
		}
		if line["requestID"] != id {
			t.Fatalf("log line %v lacks requestID %q", line, id)
		}
	}
}
