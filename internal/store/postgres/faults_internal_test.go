package postgres

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// The server's error codes for faults that the tests cannot cause on a
// shared server (a full disk, no connection to spare) map as the ones they
// can cause: EUNAVAILABLE, with the reason. Errors of the request stay
// what they were.
func TestServerFaultCodes(t *testing.T) {
	for code, want := range map[string]string{
		"53100": "the database is out of disk space",
		"53200": "the database is out of memory",
		"53300": "the database has no connection to spare",
		"57P01": "the database closed the connection",
		"57P03": "the database is starting up",
		"25006": "the database is read-only",
		"58030": "the database cannot read or write its disk",
		"08006": "the database does not answer",
	} {
		err := interpret(fmt.Errorf("insert: %w", &pgconn.PgError{Code: code, Message: "from the server"}))
		if otw.ErrorCode(err) != otw.EUNAVAILABLE || otw.ErrorMessage(err) != want {
			t.Errorf("%s: %v; want %s: %q", code, err, otw.EUNAVAILABLE, want)
		}
	}
	for _, code := range []string{"23503", "22P02", "40001"} {
		if err := interpret(&pgconn.PgError{Code: code}); otw.ErrorCode(err) != otw.EINTERNAL {
			t.Errorf("%s: %v; want an internal error", code, err)
		}
	}
}
