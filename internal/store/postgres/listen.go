package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// channel is the one notification channel. The payload is the schema the
// work was made in and the sending Store's node name, "schema node":
// notifications go to the whole database, and a database may hold several
// installations (the tests make one per test), so each listener takes only
// its own schema's, and passes over its own node's.
const channel = "otw_deliveries"

// notifyTimeout bounds a notification sent after a commit. It runs apart
// from the caller's context: a client that hung up once its write was
// committed must not keep the other nodes from hearing of it.
const notifyTimeout = 2 * time.Second

// announce tells this process's listeners, and then every node through a
// notification, that a committed write made work due (see
// store.Store.Listen): one notification per announcing write, after its
// commit. A lost notification costs a node a poll interval, not an event,
// so its error is not the caller's.
func (s *Store) announce(ctx context.Context) {
	s.announcer.Announce()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
	defer cancel()
	_, _ = s.pool.Exec(ctx, `SELECT pg_notify('`+channel+`', current_schema() || ' ' || $1)`, s.node)
}

// Listen wakes on the announcements of every node on the database (see
// store.Store.Listen): this store's from its announcer, the others' from
// their notifications. Its own notifications are passed over: they were
// heard already.
//
// Listen holds one connection of its own (not one of the pool's). When the
// connection drops it reconnects with backoff, from 100 ms doubling up to
// 5 s, and calls wake after each successful LISTEN: notifications sent
// while no one listened are lost, so the caller must look for work then.
func (s *Store) Listen(ctx context.Context, wake func()) error {
	defer s.announcer.Subscribe(wake)()
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
			if from, node, _ := strings.Cut(n.Payload, " "); from == schema && node != s.node {
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
