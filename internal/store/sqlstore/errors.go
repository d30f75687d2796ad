package sqlstore

import (
	"errors"
	"fmt"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// Errors turns a driver's errors into domain errors by the rules both
// drivers keep; the driver knows its own errors. A driver's interpret is
// its Interpret, and its NotFound is the one place where a statement that
// found no row becomes ENOTFOUND.
type Errors struct {
	Driver string // names a driver error passed on: "sqlite: …"
	NoRows error  // the error of a statement that found no row
	// Conflict reports a unique key violated.
	Conflict func(error) bool
	// Unavailable returns the reason (one of store's Unavailable…) when
	// the error says that the database cannot serve now, "" otherwise.
	Unavailable func(error) string
}

// Interpret keeps nil and domain errors as they are and makes of a
// driver's error: ENOTFOUND for no row (see NotFound), ECONFLICT for a
// unique key violated, EUNAVAILABLE with the reason for a database that
// cannot serve, and otherwise an internal error naming the driver.
func (x Errors) Interpret(err error) error {
	err = x.NotFound(err, "not found")
	var e *otw.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e):
		return err
	case x.Conflict(err):
		return &otw.Error{Code: otw.ECONFLICT, Message: "already exists"}
	}
	if reason := x.Unavailable(err); reason != "" {
		return otw.Errorf(otw.EUNAVAILABLE, "%s", reason)
	}
	return fmt.Errorf("%s: %w", x.Driver, err)
}

// NotFound returns ENOTFOUND with the message when err says that a
// statement found no row, and err as it is otherwise (for Interpret, or
// for a transaction to interpret with its cause).
func (x Errors) NotFound(err error, format string, args ...any) error {
	if x.NoRow(err) {
		return otw.Errorf(otw.ENOTFOUND, format, args...)
	}
	return err
}

// NoRow reports whether err says that a statement found no row, for a
// driver to whom none is no error (an idempotency key not used yet).
func (x Errors) NoRow(err error) bool { return errors.Is(err, x.NoRows) }
