package api

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// A body is read whole up to its limit, whether its length is declared or
// not; beyond the limit it is 413, not JSON 415, empty 400.
func TestReadBody(t *testing.T) {
	const limit = 1000
	for _, c := range []struct {
		name, contentType, body string
		chunked                 bool
		wantCode                string
	}{
		{"declared length", "application/json", `{"a":1}`, false, ""},
		{"no declared length", "application/json", `{"a":1}`, true, ""},
		{"with a charset", "application/json; charset=utf-8", `{"a":1}`, false, ""},
		{"in capitals", "Application/JSON", `{"a":1}`, false, ""},
		{"not JSON", "text/plain", `{"a":1}`, false, otw.EUNSUPPORTED},
		{"no type", "", `{"a":1}`, false, otw.EUNSUPPORTED},
		{"empty", "application/json", "", false, otw.EMALFORMED},
		{"spaces", "application/json", " \n ", true, otw.EMALFORMED},
		{"exactly the limit", "application/json", strings.Repeat(" ", limit-2) + "{}", false, ""},
		{"exactly the limit, no declared length", "application/json", strings.Repeat(" ", limit-2) + "{}", true, ""},
		{"one byte over", "application/json", strings.Repeat(" ", limit-1) + "{}", false, otw.ETOOLARGE},
		{"one byte over, no declared length", "application/json", strings.Repeat(" ", limit-1) + "{}", true, otw.ETOOLARGE},
		{"far over, no declared length", "application/json", strings.Repeat(" ", 10*limit) + "{}", true, otw.ETOOLARGE},
	} {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(c.body)
			if c.chunked {
				body = iotest.HalfReader(body) // no length, and read in pieces
			}
			r := httptest.NewRequest("POST", "/v1/events", body)
			if c.chunked {
				r.ContentLength = -1
			}
			r.Header.Set("Content-Type", c.contentType)
			got, err := readBody(r, limit, "a JSON object")
			if c.wantCode != "" {
				if code := otw.ErrorCode(err); code != c.wantCode {
					t.Fatalf("error %v (%s), want %s", err, code, c.wantCode)
				}
				return
			}
			if err != nil || string(got) != c.body {
				t.Fatalf("read %d bytes, %v; want the %d bytes sent", len(got), err, len(c.body))
			}
		})
	}
}
