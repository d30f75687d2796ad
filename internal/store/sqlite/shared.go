package sqlite

import (
	"context"
	"database/sql"

	"github.com/onetalk/onetalk-webhooks/internal/store/sqlstore"
)

// shared is the Store as sqlstore runs its statements: reads on the reader
// pool, writes in tx.
type shared struct{ s *Store }

func (d shared) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return d.s.r.QueryRowContext(ctx, query, args...)
}

func (d shared) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return querier{d.s.r}.Query(ctx, query, args...)
}

func (d shared) Tx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return d.s.tx(ctx, func(tx *sql.Tx) error { return fn(querier{tx}) })
}

func (shared) Interpret(err error) error { return interpret(err) }

func (shared) NotFound(err error, format string, args ...any) error {
	return noRows(err, format, args...)
}

func (d shared) Announce(context.Context) { d.s.announcer.Announce() }

// querier runs sqlstore's statements on a pool or in a transaction.
type querier struct {
	q interface {
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
		QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	}
}

func (q querier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := q.q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q querier) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return q.q.QueryRowContext(ctx, query, args...)
}

func (q querier) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return closer{rows}, nil
}

// closer is sql.Rows with the Close of sqlstore.Rows, whose error says
// nothing Err does not.
type closer struct{ *sql.Rows }

func (r closer) Close() { r.Rows.Close() }
