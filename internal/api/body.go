package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

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

// checker collects field errors so that a request hears of all of them.
type checker struct{ errs []otw.FieldError }

func (c *checker) fail(field, format string, args ...any) {
	c.errs = append(c.errs, otw.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return otw.Invalid("the request has invalid fields", c.errs...)
}

// decode decodes m[name] into v, recording a missing or mistyped field.
func (c *checker) decode(m map[string]json.RawMessage, name, want string, v any) bool {
	raw, ok := m[name]
	if !ok || string(raw) == "null" {
		c.fail(name, "required: %s", want)
		return false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		c.fail(name, "must be %s", want)
		return false
	}
	return true
}
