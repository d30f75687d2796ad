package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/sqlstore"
)

// errs reads PostgreSQL's errors as domain errors (see interpret).
var errs = sqlstore.Errors{Driver: "postgres", NoRows: pgx.ErrNoRows, Unavailable: unavailable,
	Conflict: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "23505" // unique_violation
	}}

// interpret turns driver errors into domain errors, in one place.
func interpret(err error) error { return errs.Interpret(err) }

// noRows is ENOTFOUND with the message when err says that a statement
// found no row, err otherwise: the one place for "no rows".
func noRows(err error, format string, args ...any) error { return errs.NotFound(err, format, args...) }

// unavailableCodes are the server's error codes that mean the database
// cannot serve now, with the reason.
var unavailableCodes = map[string]string{
	"53100": store.UnavailableDiskFull,     // disk_full
	"53200": store.UnavailableMemory,       // out_of_memory
	"53300": store.UnavailableNoConnection, // too_many_connections
	"57P01": store.UnavailableClosed,       // admin_shutdown, or a terminated backend
	"57P02": store.UnavailableClosed,       // crash_shutdown
	"57P03": store.UnavailableStarting,     // cannot_connect_now
	"25006": store.UnavailableReadOnly,     // read_only_sql_transaction: a standby
	"58030": store.UnavailableDisk,         // io_error
}

// unavailable returns the reason when err means that the database cannot
// serve now (unreachable, shutting down, out of disk space or connections,
// read-only), "" otherwise.
func unavailable(err error) string {
	var pe *pgconn.PgError
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "" // the caller gave up, not the database
	case errors.As(err, &pe):
		if strings.HasPrefix(pe.Code, "08") { // connection_exception
			return store.UnavailableNoAnswer
		}
		return unavailableCodes[pe.Code]
	case errors.As(err, &ce), errors.As(err, &ne),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		// Refused, reset, timed out or closed under a statement.
		return store.UnavailableNoAnswer
	}
	return ""
}

// CheckWrite reports whether a publish would commit now: a publish failed
// for want of the database in the last store.FaultMemory, or a small
// committed write fails, each say not.
func (s *Store) CheckWrite(ctx context.Context) error {
	return s.faults.Check(func() error {
		return s.tx(ctx, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, sqlstore.HealthProbe, time.Now().UnixMilli())
			return err
		})
	})
}
