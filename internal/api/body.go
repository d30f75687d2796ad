package api

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// maxSmallBody bounds the bodies of every route but publishing.
const maxSmallBody = 64 << 10

// readBody reads a JSON request body of at most limit bytes: 415 when it
// is not declared JSON, 413 past the limit, 400 when it is empty (want
// says what to send instead, such as "a JSON object").
func readBody(r *http.Request, limit int64, want string) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, &otw.Error{Code: otw.EUNSUPPORTED, Message: "the body must be JSON, sent with Content-Type: application/json",
			Fields: []otw.FieldError{{Field: "Content-Type", Message: "must be application/json"}}}
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, otw.Errorf(otw.ETOOLARGE, "the body is larger than %d bytes", limit)
	}
	if err != nil {
		return nil, otw.Errorf(otw.EMALFORMED, "reading the body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, otw.Errorf(otw.EMALFORMED, "the body is empty: send %s", want)
	}
	return body, nil
}
