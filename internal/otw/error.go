package otw

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps each to one status in one place.
const (
	EINVALID      = "invalid"      // well-formed input that breaks a rule (422)
	EMALFORMED    = "malformed"    // input that is not what it claims to be (400)
	ETOOLARGE     = "too_large"    // input beyond a size limit (413)
	EUNSUPPORTED  = "unsupported"  // a media type we do not take (415)
	ENOTFOUND     = "not_found"    // 404
	ECONFLICT     = "conflict"     // 409
	EUNAUTHORIZED = "unauthorized" // no or a wrong credential (401)
	EFORBIDDEN    = "forbidden"    // a credential without the right (403)
	ETOOMANY      = "too_many"     // rate limited (429)
	EINTERNAL     = "internal"     // our fault (500)
	EUNAVAILABLE  = "unavailable"  // a dependency is down (503)
)

// FieldError names one bad field by its JSON path, such as
// "integrationMessageStatus.status" or "[2].organizationID" in a batch.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is a domain error: a code, a message a user can read, and the bad
// fields when the input had any.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("otw: %s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("otw: %s: %s (%s: %s…)", e.Code, e.Message, e.Fields[0].Field, e.Fields[0].Message)
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error naming the given fields.
func Invalid(message string, fields ...FieldError) *Error {
	return &Error{Code: EINVALID, Message: message, Fields: fields}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, and
// EINTERNAL otherwise.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of err if it is an *Error; internal
// errors get a generic message so nothing of the inside leaks out.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// IsNotFound reports whether err carries ENOTFOUND.
func IsNotFound(err error) bool { return ErrorCode(err) == ENOTFOUND }
