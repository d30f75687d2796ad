// Package postgres is the store for several nodes on one database. Any
// number of `serve` processes may open the same database: they share the
// delivery work through row locks and leases, never through memory.
//
//   - Claims take rows with FOR UPDATE SKIP LOCKED, so two nodes never
//     lease the same delivery, and a node that dies gives its work back when
//     the lease runs out (nothing is released at Open: the other nodes'
//     leases are live).
//   - Idempotency keys are serialized with a transaction-scoped advisory lock
//     on the key, so two nodes cannot both insert the "first" event.
//   - The writes that announce (see store.Store.Listen) also notify every
//     node, and Listen turns a notification into a wake-up, so other nodes
//     start on new events without polling hard.
//   - events, deliveries and attempts are partitioned by time, and every
//     node makes the partitions ahead (see partitions.go).
package postgres

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Advisory lock classes (the first key of the two-key form), so that this
// service's locks never meet another application's on the same database.
const (
	lockMigrate     = 0x6f74_7701 // "otw" 1
	lockIdempotency = 0x6f74_7702
)

// Store is the PostgreSQL implementation of store.Store.
type Store struct {
	// Store holds the methods both SQL drivers share (see sqlstore).
	sqlstore.Store
	pool *pgxpool.Pool
	// faults is the last write that failed for want of the database, for
	// CheckWrite.
	faults store.Faults
	// announcer wakes this process's listeners; other nodes hear a
	// notification (see announce).
	announcer store.Announcer
	// node names this Store in its notifications' payload: one that
	// carries it was this store's own, and its listeners heard it from the
	// announcer already. Not the sending connection's PID: a connection
	// the server dropped keeps its PID in the pool until it is next used,
	// and after a restart another node's connection may get that PID.
	node string
	opts options
	// stop ends the partitions' maintenance, and done says it has.
	stop context.CancelFunc
	done chan struct{}
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (postgres://…; pool settings such
// as pool_max_conns may be given in it) and brings the schema up to date.
// Several nodes may open the same database at once: the migrations run
// under an advisory lock, so exactly one applies each of them. Open makes
// the partitions of now and ahead, and keeps making them until Close.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// Not the driver's message: it quotes the URL, password and all,
		// when it cannot tell where the password ends.
		return nil, errors.New("postgres: the database URL does not parse (want postgres://user:password@host:port/database?options)")
	}
	s := &Store{node: rand.Text(), opts: options{partitionWidth: DefaultPartitionWidth, logger: slog.Default()}}
	for _, o := range opts {
		o(&s.opts)
	}
	s.Store = sqlstore.New(shared{s}, sqlstore.PostgreSQL)
	cfg.ConnConfig.Tracer = s.opts.tracer
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s.pool = pool
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := s.Maintain(ctx, time.Now()); err != nil {
		pool.Close()
		return nil, err
	}
	mctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop, s.done = stop, make(chan struct{})
	go func() {
		defer close(s.done)
		s.maintainPartitions(mctx)
	}()
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Release()
	// A session lock, held across the per-migration transactions. Keyed by
	// the schema as well, so databases holding several installations (the
	// tests do) only wait for their own.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext(current_schema()))`, lockMigrate); err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, hashtext(current_schema()))`, lockMigrate)
	// Each migration in a transaction on the locked connection.
	err = sqlstore.Migrate(ctx, sub, sqlstore.PostgreSQL.MigrationsTable, func(ctx context.Context, fn func(sqlstore.Querier) error) error {
		return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error { return fn(adapter{q: tx, simple: true}) })
	})
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return interpret(s.pool.Ping(ctx)) }

// Close stops the partitions' maintenance and closes the pool. A running
// Listen stops with its context, not here.
func (s *Store) Close() error {
	s.stop()
	<-s.done
	s.pool.Close()
	return nil
}

// tx runs fn in a transaction, committing when it returns nil.
func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return s.failed(pgx.BeginFunc(ctx, s.pool, fn))
}

// failed interprets a write's error and remembers it for CheckWrite when
// the database was unavailable.
func (s *Store) failed(cause error) error {
	err := interpret(cause)
	s.faults.Record(cause, err)
	return err
}
