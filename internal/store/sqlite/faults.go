package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"syscall"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	msqlite "modernc.org/sqlite" // also registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"
)

// minFreeBytes is the free disk space below which CheckWrite calls the
// database full: room for the largest batch (5 MB of events) written twice,
// to the log and then to the database file, with its deliveries and
// indexes. A disk with less may still take small publishes, but not every
// publish a ready service must take.
const minFreeBytes = 32 << 20

// unavailable returns the domain error for a driver error that means the
// database cannot serve now (disk full, I/O failing, locked, read-only),
// or nil for any other error. The messages are what a caller reads in a
// 503's problem detail.
func unavailable(err error) *otw.Error {
	var e *msqlite.Error
	if !errors.As(err, &e) {
		return nil
	}
	var msg string
	switch e.Code() & 0xff { // the primary code of an extended one
	case sqlite3.SQLITE_FULL:
		msg = "the database is out of disk space"
	case sqlite3.SQLITE_IOERR:
		// SQLite reports some writes that found no space (growing the
		// shared-memory index) as I/O errors.
		msg = "the database cannot read or write its disk"
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		msg = "the database is locked by another writer"
	case sqlite3.SQLITE_READONLY:
		msg = "the database is read-only"
	case sqlite3.SQLITE_CANTOPEN:
		msg = "the database file cannot be opened"
	case sqlite3.SQLITE_NOMEM:
		msg = "the database is out of memory"
	default:
		return nil
	}
	return otw.Errorf(otw.EUNAVAILABLE, "%s", msg)
}

// CheckWrite reports whether a publish would commit now: a publish failed
// for want of the database in the last store.FaultMemory, too little free
// disk space, or a small committed write that fails each say not.
func (s *Store) CheckWrite(ctx context.Context) error {
	if err := s.faults.Recent(); err != nil {
		return err
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(s.path), &fs); err == nil && fs.Bavail*uint64(fs.Bsize) < minFreeBytes {
		return otw.Errorf(otw.EUNAVAILABLE, "the database is out of disk space")
	}
	// Committed like the dispatcher's writes (to the log, no fsync): it
	// proves the file and its log take a write, at the cost of one page.
	return s.dispatchTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO health (id, checked_at) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`, time.Now().UnixMilli())
		return err
	})
}
