package web

import (
	"net/http"
	"testing"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// Every domain error code has its own status; an unknown one is a 500.
func TestStatus(t *testing.T) {
	for code, want := range map[string]int{
		otw.EINVALID: 422, otw.EMALFORMED: 400, otw.ETOOLARGE: 413, otw.EUNSUPPORTED: 415,
		otw.ENOTFOUND: 404, otw.ECONFLICT: 409, otw.EUNAUTHORIZED: 401, otw.EFORBIDDEN: 403,
		otw.ETOOMANY: 429, otw.EINTERNAL: 500, otw.EUNAVAILABLE: 503, "no such code": 500,
	} {
		if got := Status(code); got != want {
			t.Errorf("Status(%q) = %d, want %d", code, got, want)
		}
	}
	if got := Status(otw.ErrorCode(otw.Errorf(otw.ECONFLICT, "taken"))); got != http.StatusConflict {
		t.Errorf("a conflict: %d", got)
	}
}
