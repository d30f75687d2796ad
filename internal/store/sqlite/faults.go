package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	msqlite "modernc.org/sqlite" // also registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/sqlstore"
)

// errs reads SQLite's errors as domain errors (see interpret).
var errs = sqlstore.Errors{Driver: "sqlite", NoRows: sql.ErrNoRows, Unavailable: unavailable,
	Conflict: func(err error) bool { return strings.Contains(err.Error(), "UNIQUE constraint failed") }}

// interpret turns driver errors into domain errors, in one place.
func interpret(err error) error { return errs.Interpret(err) }

// noRows is ENOTFOUND with the message when err says that a statement
// found no row, err otherwise: the one place for "no rows".
func noRows(err error, format string, args ...any) error { return errs.NotFound(err, format, args...) }

// unavailableCodes are the primary result codes that mean the database
// cannot serve now, with the reason. SQLite reports some writes that
// found no space (growing the shared-memory index) as I/O errors.
var unavailableCodes = map[int]string{
	sqlite3.SQLITE_FULL:     store.UnavailableDiskFull,
	sqlite3.SQLITE_IOERR:    store.UnavailableDisk,
	sqlite3.SQLITE_BUSY:     store.UnavailableLocked,
	sqlite3.SQLITE_LOCKED:   store.UnavailableLocked,
	sqlite3.SQLITE_READONLY: store.UnavailableReadOnly,
	sqlite3.SQLITE_CANTOPEN: store.UnavailableCannotOpen,
	sqlite3.SQLITE_NOMEM:    store.UnavailableMemory,
}

// unavailable returns the reason when err means that the database cannot
// serve now (disk full, I/O failing, locked, read-only), "" otherwise.
func unavailable(err error) string {
	var e *msqlite.Error
	if !errors.As(err, &e) {
		return ""
	}
	return unavailableCodes[e.Code()&0xff] // the primary code of an extended one
}

// minFreeBytes is the free disk space below which CheckWrite calls the
// database full: room for the largest batch (5 MB of events) written twice,
// to the log and then to the database file, with its deliveries and
// indexes. A disk with less may still take small publishes, but not every
// publish a ready service must take.
const minFreeBytes = 32 << 20

// CheckWrite reports whether a publish would commit now: a publish failed
// for want of the database in the last store.FaultMemory, too little free
// disk space, or a small committed write that fails each say not.
func (s *Store) CheckWrite(ctx context.Context) error {
	return s.faults.Check(s.checkSpace, func() error {
		// Committed like the dispatcher's writes (to the log, no fsync):
		// it proves the file and its log take a write, at the cost of one
		// page.
		return s.dispatchTx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, sqlstore.HealthProbe, time.Now().UnixMilli())
			return err
		})
	})
}

// checkSpace is EUNAVAILABLE when the disk has less than minFreeBytes free.
func (s *Store) checkSpace() error {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(s.path), &fs); err != nil {
		return nil // the write probe answers for the disk then
	}
	if fs.Bavail*uint64(fs.Bsize) < minFreeBytes {
		return otw.Errorf(otw.EUNAVAILABLE, "%s", store.UnavailableDiskFull)
	}
	return nil
}
