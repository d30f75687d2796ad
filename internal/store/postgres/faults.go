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

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// unavailable returns the domain error for a driver error that means the
// database cannot serve now (unreachable, shutting down, out of disk space
// or connections, read-only), or nil for any other error. The messages are
// what a caller reads in a 503's problem detail.
func unavailable(err error) *otw.Error {
	var pe *pgconn.PgError
	var ce *pgconn.ConnectError
	var ne net.Error
	var msg string
	switch {
	case errors.Is(err, context.Canceled):
		return nil // the caller gave up, not the database
	case errors.As(err, &pe):
		switch {
		case pe.Code == "53100": // disk_full
			msg = "the database is out of disk space"
		case pe.Code == "53200": // out_of_memory
			msg = "the database is out of memory"
		case pe.Code == "53300": // too_many_connections
			msg = "the database has no connection to spare"
		case pe.Code == "57P01", pe.Code == "57P02": // admin_shutdown (or a terminated backend), crash_shutdown
			msg = "the database closed the connection"
		case pe.Code == "57P03": // cannot_connect_now
			msg = "the database is starting up"
		case pe.Code == "25006": // read_only_sql_transaction: a standby
			msg = "the database is read-only"
		case pe.Code == "58030": // io_error
			msg = "the database cannot read or write its disk"
		case strings.HasPrefix(pe.Code, "08"): // connection_exception
			msg = "the database does not answer"
		default:
			return nil
		}
	case errors.As(err, &ce), errors.As(err, &ne),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		// Refused, reset, timed out or closed under a statement.
		msg = "the database does not answer"
	default:
		return nil
	}
	return otw.Errorf(otw.EUNAVAILABLE, "%s", msg)
}

// CheckWrite reports whether a publish would commit now: a publish failed
// for want of the database in the last store.FaultMemory, or a small
// committed write fails, each say not.
func (s *Store) CheckWrite(ctx context.Context) error {
	if err := s.faults.Recent(); err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO health (id, checked_at) VALUES (1, $1)
			ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`, time.Now().UnixMilli())
		return err
	})
}
