package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/onetalk/onetalk-webhooks/internal/store/sqlstore"
)

// querier is what a pool, a connection and a transaction have in common.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// shared is the Store as sqlstore runs its statements.
type shared struct{ s *Store }

func (d shared) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return d.s.pool.QueryRow(ctx, query, args...)
}

func (d shared) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return d.s.pool.Query(ctx, query, args...)
}

func (d shared) Tx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return d.s.tx(ctx, func(tx pgx.Tx) error { return fn(adapter{q: tx}) })
}

func (shared) Interpret(err error) error { return interpret(err) }

func (shared) NotFound(err error, format string, args ...any) error {
	return noRows(err, format, args...)
}

func (d shared) Announce(ctx context.Context) { d.s.announce(ctx) }

// adapter runs sqlstore's statements with q; simple sends them in the
// simple protocol, which takes a migration file of several statements.
type adapter struct {
	q      querier
	simple bool
}

func (a adapter) args(args []any) []any {
	if a.simple {
		return append([]any{pgx.QueryExecModeSimpleProtocol}, args...)
	}
	return args
}

func (a adapter) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := a.q.Exec(ctx, query, a.args(args)...)
	return tag.RowsAffected(), err
}

func (a adapter) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return a.q.QueryRow(ctx, query, a.args(args)...)
}

func (a adapter) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return a.q.Query(ctx, query, a.args(args)...)
}
