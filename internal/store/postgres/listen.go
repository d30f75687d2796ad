package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// channel is the one notification channel. The payload is the schema the
// work was made in: notifications go to the whole database, and a database
// may hold several installations (the tests make one per test), so each
// listener takes only its own.
const channel = "otw_deliveries"

// notify tells every listening node, when tx commits, that deliveries are
// due. PostgreSQL delivers it only on commit and folds repeats within one
// transaction into one.
func notify(ctx context.Context, q querier) error {
	_, err := q.Exec(ctx, `SELECT pg_notify('`+channel+`', current_schema())`)
	return err
}

// Listen calls wake soon after any node commits work that is due now: new
// events with a delivery (InsertEvents), a manual retry or recover, a
// webhook saved enabled, deliveries given back at shutdown. It is how a
// dispatcher polls rarely and still starts on a new event within
// milliseconds. wake must not block: a non-blocking send on a channel of
// capacity one is the intended shape, so a burst of notifications costs one
// claim.
//
// Listen holds one connection of its own (not one of the pool's). When the
// connection drops it reconnects with backoff, from 100 ms doubling up to
// 5 s, and calls wake after each successful LISTEN: notifications sent
// while no one listened are lost, so the caller must look for work then.
// Listen runs until ctx is done and then returns ctx.Err().
//
// Wiring: go store.Listen(ctx, func() { select { case kick <- struct{}{}: default: } })
// next to the dispatcher's poll ticker, which stays as the safety net for
// retries that fall due by the clock (those notify nobody).
func (s *Store) Listen(ctx context.Context, wake func()) error {
	const first, most = 100 * time.Millisecond, 5 * time.Second
	backoff := first
	for {
		// The error itself is dropped: a database that is down shows in
		// every other call the service makes, and here only the retry
		// matters.
		if s.listenOnce(ctx, wake) {
			backoff = first
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, most)
	}
}

// idleCheck is how long the listening connection may stay silent before it
// is asked to answer: a connection cut without a reset (a NAT forgetting
// it, a failover) would otherwise wait for notifications forever.
const idleCheck = 30 * time.Second

// listenOnce connects, listens and forwards notifications until the
// connection fails. It reports whether LISTEN got through.
func (s *Store) listenOnce(ctx context.Context, wake func()) (listened bool) {
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = "onetalk-webhooks listen"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return false
	}
	if _, err := conn.Exec(ctx, `LISTEN `+channel); err != nil {
		return false
	}
	wake()
	for {
		wctx, cancel := context.WithTimeout(ctx, idleCheck)
		n, err := conn.WaitForNotification(wctx)
		silent := wctx.Err() != nil
		cancel()
		switch {
		case ctx.Err() != nil:
			return true
		case err == nil:
			if n.Payload == schema {
				wake()
			}
		case !silent:
			return true // the connection broke
		default:
			// A timed out wait leaves the connection usable; a ping that
			// does not come back means it is gone.
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return true
			}
		}
	}
}
