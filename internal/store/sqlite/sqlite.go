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
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQLite implementation of store.Store.
type Store struct {
	// Store holds the methods both SQL drivers share (see sqlstore).
	sqlstore.Store
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
	// announcer wakes this process's listeners (Listen): a store on one
	// file has no others.
	announcer store.Announcer
	lock      *os.File
	path      string
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
	s.Store = sqlstore.New(shared{s}, sqlstore.SQLite)
	if err := s.open(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// open opens both pools, brings the schema up to date, prepares the hot
// statements and sets the horizon.
func (s *Store) open(ctx context.Context) error {
	var err error
	if s.w, err = openDB(s.path, true); err != nil {
		return err
	}
	if s.r, err = openDB(s.path, false); err != nil {
		return err
	}
	if err := sqlstore.Migrate(ctx, subFS(migrations, "migrations"), sqlstore.SQLite.MigrationsTable, shared{s}.Tx); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if err := s.prepareHot(ctx); err != nil {
		return err
	}
	var last int64
	if err := s.w.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM deliveries`).Scan(&last); err != nil {
		return err
	}
	s.horizon.Store(last)
	return nil
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

// Listen wakes on this store's announcements (see store.Store.Listen).
func (s *Store) Listen(ctx context.Context, wake func()) error { return s.announcer.Listen(ctx, wake) }

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
