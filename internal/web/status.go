package web

import (
	"net/http"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// statuses maps each domain error code to its HTTP status: the one place
// where the two meet, for the API's problems and the UI's error pages.
var statuses = map[string]int{
	otw.EINVALID:      http.StatusUnprocessableEntity,
	otw.EMALFORMED:    http.StatusBadRequest,
	otw.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	otw.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	otw.ENOTFOUND:     http.StatusNotFound,
	otw.ECONFLICT:     http.StatusConflict,
	otw.EUNAUTHORIZED: http.StatusUnauthorized,
	otw.EFORBIDDEN:    http.StatusForbidden,
	otw.ETOOMANY:      http.StatusTooManyRequests,
	otw.EINTERNAL:     http.StatusInternalServerError,
	otw.EUNAVAILABLE:  http.StatusServiceUnavailable,
}

// Status is the HTTP status of a domain error code; a code without one is
// our fault, 500.
func Status(code string) int {
	if status, ok := statuses[code]; ok {
		return status
	}
	return http.StatusInternalServerError
}

// RetryAfterUnavailable is the Retry-After of every 503, in seconds. A
// database fault is either over in a moment (a restart, a lock, a freed
// disk) or needs a person; asking again after a couple of seconds lets
// clients find the first case quickly without hammering the second.
const RetryAfterUnavailable = "2"
