// Package sqlstore is what the two SQL drivers, store/sqlite and
// store/postgres, share beneath the contract: the statements that read and
// write alike in both dialects, written once, and the migration runner. A
// driver hands over its database as a DB and the few differences of its
// dialect as a Dialect; Store then implements those methods of
// store.Store, and the driver embeds it. What differs (the insert, the
// claim, the outcomes, leases) stays in each driver.
//
// Statements use $1, $2, … placeholders, which pgx and modernc.org/sqlite
// both take.
package sqlstore

import (
	"context"
	"time"
)

// Row is one result row, as database/sql and pgx both give it.
type Row interface {
	Scan(dest ...any) error
}

// Rows are the result rows of a query; the caller closes them.
type Rows interface {
	Row
	Next() bool
	Err() error
	Close()
}

// Reader runs reads.
type Reader interface {
	QueryRow(ctx context.Context, query string, args ...any) Row
	Query(ctx context.Context, query string, args ...any) (Rows, error)
}

// Querier runs statements in one of a driver's transactions.
type Querier interface {
	Reader
	// Exec runs a statement and returns how many rows it changed.
	Exec(ctx context.Context, query string, args ...any) (rowsAffected int64, err error)
}

// DB is a driver's database as Store uses it. Its reads run outside any
// transaction (on SQLite, on the reader pool).
type DB interface {
	Reader
	// Tx runs fn in a write transaction, committing when it returns nil,
	// and returns fn's or the commit's error as a domain error.
	Tx(ctx context.Context, fn func(Querier) error) error
	// Interpret turns a driver's error into a domain error (the driver's
	// interpret).
	Interpret(err error) error
	// NotFound returns ENOTFOUND with the message when err says that a
	// statement found no row, and err itself otherwise: it is the driver's
	// one place for "no rows".
	NotFound(err error, format string, args ...any) error
	// Announce tells the store's listeners (store.Store.Listen), after a
	// commit, that the write made work due.
	Announce(ctx context.Context)
}

// Store implements, on a driver's DB, the methods of store.Store that
// both drivers run alike. Make it with New.
type Store struct {
	db DB
	d  Dialect
}

// New returns the shared methods for db in its dialect d.
func New(db DB, d Dialect) Store { return Store{db: db, d: d} }

// lookup is the error of a read outside a transaction that looked for one
// row: ENOTFOUND with the message when there was none.
func (s *Store) lookup(err error, format string, args ...any) error {
	return s.db.Interpret(s.db.NotFound(err, format, args...))
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMs(v int64) time.Time { return time.UnixMilli(v).UTC() }

// NullTime is a nullable Unix-ms column as a time (nil for NULL).
func NullTime(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := fromMs(*v)
	return &t
}
