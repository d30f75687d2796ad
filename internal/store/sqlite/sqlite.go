// Package sqlite is the embedded store: one file, one process. It is the
// default, so a newcomer needs nothing but the binary.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQLite implementation of store.Store.
type Store struct {
	// SQLite runs one writer at a time: a pool of one connection for
	// writes queues them in Go instead of spinning on SQLITE_BUSY, and a
	// separate pool reads the WAL snapshot concurrently.
	w, r *sql.DB
	// stmts are the write path's statements and reads the claim's,
	// prepared at Open.
	stmts, reads map[string]*sql.Stmt
	leases       *leaseTable
	claiming     sync.Mutex
	// horizon is the highest delivery seq a claim may read. An insert
	// leases what it takes, then moves the horizon past its deliveries,
	// all while it holds the writer connection; a claim reads the horizon,
	// then lists the leases. So every delivery at or below the horizon
	// that an insert took is in the claim's list, and one above it waits
	// for the next claim. Without it a claim could list the leases before
	// an insert took a delivery and read after its commit, and send what
	// the insert's dispatcher sends too.
	horizon atomic.Int64
	// faults is the last write that failed for want of the database, for
	// CheckWrite.
	faults store.Faults
	lock   *os.File
	path   string
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it and its folder when needed) the database file,
// runs the migrations and takes an exclusive lock on the file: a second
// process on the same file would break the single-process assumptions
// below, so it is refused.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("sqlite: create folder: %w", err)
	}
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: lock file: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("sqlite: %s is in use by another process", path)
	}
	s := &Store{lock: lock, path: path, leases: newLeaseTable()}
	if s.w, err = openDB(path, true); err == nil {
		s.r, err = openDB(path, false)
	}
	if err == nil {
		err = s.migrate(ctx)
	}
	if err == nil {
		err = s.prepareHot(ctx)
	}
	if err == nil {
		var last int64
		err = s.w.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM deliveries`).Scan(&last)
		s.horizon.Store(last)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func openDB(path string, writer bool) (*sql.DB, error) {
	q := url.Values{}
	for _, p := range []string{
		"journal_mode(WAL)",
		// NORMAL for the dispatcher's writes; tx raises it to FULL for
		// everything a caller was promised (see tx and dispatchTx).
		"synchronous(NORMAL)",
		"busy_timeout(10000)",
		"foreign_keys(ON)",
		"cache_size(-32000)",
	} {
		q.Add("_pragma", p)
	}
	if writer {
		// Take the write lock at BEGIN, not at the first write, so a
		// transaction never fails half way on a lock upgrade.
		q.Set("_txlock", "immediate")
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	if writer {
		db.SetMaxOpenConns(1)
	} else {
		db.SetMaxOpenConns(4)
	}
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return db, nil
}

func (s *Store) migrate(ctx context.Context) error {
	ms, err := store.LoadMigrations(subFS(migrations, "migrations"))
	if err != nil {
		return err
	}
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrations table: %w", err)
	}
	for _, m := range ms {
		err := s.tx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil || n > 0 {
				return err
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.Version, m.Name, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return interpret(s.r.PingContext(ctx)) }

// Close closes both pools and releases the file lock.
func (s *Store) Close() error {
	var errs []error
	for _, db := range []*sql.DB{s.w, s.r} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	if s.lock != nil {
		errs = append(errs, s.lock.Close())
	}
	return errors.Join(errs...)
}

// tx runs fn in a write transaction, committing when it returns nil. The
// commit is on disk before tx returns (synchronous=FULL): an accepted
// event survives even a power cut, not only a crash.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	conn, err := s.w.Conn(ctx) // the one writer connection, held until Close
	if err != nil {
		return s.failed(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = FULL`); err != nil {
		return s.failed(err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = NORMAL`)
	return s.runTx(ctx, conn, fn)
}

// dispatchTx is tx for the dispatcher's own writes (leases, attempt
// outcomes), the most frequent: committed to the WAL without waiting for
// the disk (synchronous=NORMAL, the connection's default). A crash of the
// process loses none of them; only a power cut can lose the last ones, and
// then a delivery is sent again: at least once still holds, and events,
// which must never be lost, keep their fsync. This halves the fsyncs per
// delivery.
func (s *Store) dispatchTx(ctx context.Context, fn func(*sql.Tx) error) error {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return s.failed(err)
	}
	defer conn.Close()
	return s.runTx(ctx, conn, fn)
}

func (s *Store) runTx(ctx context.Context, conn *sql.Conn, fn func(*sql.Tx) error) error {
	if err := runTx(ctx, conn, fn); err != nil {
		return s.failed(err)
	}
	return nil
}

// failed interprets a write's error and remembers it for CheckWrite when
// the database was unavailable.
func (s *Store) failed(cause error) error {
	err := interpret(cause)
	s.faults.Record(cause, err)
	return err
}

func runTx(ctx context.Context, conn *sql.Conn, fn func(*sql.Tx) error) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return interpret(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return interpret(err)
	}
	return interpret(tx.Commit())
}

// interpret turns driver errors into domain errors, in one place.
func interpret(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return otw.Errorf(otw.ENOTFOUND, "not found")
	case strings.Contains(err.Error(), "UNIQUE constraint failed"):
		return &otw.Error{Code: otw.ECONFLICT, Message: "already exists"}
	}
	if e := unavailable(err); e != nil {
		return e
	}
	var e *otw.Error
	if errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("sqlite: %w", err)
}
