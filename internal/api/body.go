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
	// The exact form most clients send is taken without parsing: parsing
	// builds a map of parameters on every request.
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, &otw.Error{Code: otw.EUNSUPPORTED, Message: "the body must be JSON, sent with Content-Type: application/json",
				Fields: []otw.FieldError{{Field: "Content-Type", Message: "must be application/json"}}}
		}
	}
	body, err := readAll(http.MaxBytesReader(nil, r.Body, limit), sizeHint(r.ContentLength, limit))
	if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
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

// sizeHint is the buffer to read a body into: its declared length and one
// byte more (where the end is read), never past the limit; without a
// declared length, what io.ReadAll starts with.
func sizeHint(contentLength, limit int64) int {
	if contentLength < 0 {
		return 512
	}
	return int(min(contentLength, limit)) + 1
}

// readAll is io.ReadAll into a buffer of size first: a body read whole in
// one allocation rather than grown by copies.
func readAll(r io.Reader, size int) ([]byte, error) {
	b := make([]byte, 0, size)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow as append does
		}
	}
}
