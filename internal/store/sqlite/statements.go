package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// Parsing SQL costs SQLite more than running these small statements, so
// every statement of the write path is prepared once, at Open, and used
// in transactions through tx.StmtContext. They must be prepared before
// any transaction: the writer pool has one connection, which a running
// transaction holds.

// rowSizes are the statement sizes multi-row inserts are cut into: one
// prepared text per size; 237 rows are 2 × 100, 3 × 10 and 7 × 1.
var rowSizes = [...]int{100, 10, 1}

// chunks cuts n rows into rowSizes.
func chunks(n int) []int {
	var out []int
	for _, size := range rowSizes {
		for ; n >= size; n -= size {
			out = append(out, size)
		}
	}
	return out
}

func insertEventsSQL(rows int) string {
	return `INSERT INTO events (id, organization_id, type, order_key, body, idempotency_key, created_at, trace_parent) VALUES ` +
		valuesList(rows, 8) + ` RETURNING id, seq`
}

func insertDeliveriesSQL(rows int) string {
	return `INSERT INTO deliveries (id, event_seq, organization_id, event_type, order_key, status, next_attempt_at, last_error, created_at) VALUES ` +
		valuesList(rows, 9)
}

func insertAttemptsSQL(rows int) string {
	return `INSERT INTO attempts (delivery_seq, n, started_at, duration_ms, status_code, error, response_body, url) VALUES ` +
		valuesList(rows, 8)
}

const (
	idempotencyQuery = `
		SELECT e.id, e.body, d.id FROM events e LEFT JOIN deliveries d ON d.event_seq = e.seq
		WHERE e.idempotency_key = ? AND e.created_at > ? ORDER BY e.seq LIMIT 1`
	routeQuery = `
		SELECT enabled, subscribed_events, state, disabled_reason, url, secret,
			CASE WHEN previous_secret_until > ?2 THEN previous_secret END, failing_since, coalesce(rate_limit, 0),
			coalesce(filters, '')
		FROM webhooks WHERE organization_id = ?1`
	orgExistsQuery    = `SELECT EXISTS (SELECT 1 FROM organizations WHERE id = ?)`
	deliverySeqQuery  = `SELECT seq FROM deliveries WHERE id = ?`
	lastDeliveryQuery = `SELECT max(seq) FROM deliveries`
	// Is a delivery of this order key pending, so that a new one waits?
	// INDEXED BY, here and in every first-in-line probe: deliveries_key
	// (all of a key's deliveries, for the log) matches the probe too, and
	// the planner took it; deliveries_order holds only the pending ones.
	pendingKeyQuery = `SELECT EXISTS (SELECT 1 FROM deliveries INDEXED BY deliveries_order WHERE organization_id = ? AND order_key = ? AND status = 'pending')`
	// Pending: a webhook disabled while the attempt ran has recorded the
	// delivery failed, and that stands.
	outcomeUpdate = `
		UPDATE deliveries SET status = ?, attempt_count = ?, next_attempt_at = ?,
			last_status_code = ?, last_error = ?, succeeded_at = ?
		WHERE seq = ? AND status = 'pending'`
	successUpdate = `UPDATE webhooks SET last_success_at = max(coalesce(last_success_at, 0), ?), failing_since = NULL WHERE organization_id = ?`
	failureUpdate = `UPDATE webhooks SET failing_since = coalesce(failing_since, ?) WHERE organization_id = ?`
)

// readQueries are the claim's statements, prepared at Open on the reader
// pool.
var readQueries = []string{orgsWithWork, claimQuery, nextOfKeyQuery}

// hotQueries are the write path's statements prepared at Open.
func hotQueries() []string {
	qs := []string{idempotencyQuery, routeQuery, pendingKeyQuery, deliverySeqQuery, lastDeliveryQuery, outcomeUpdate, successUpdate, failureUpdate}
	for _, n := range rowSizes {
		qs = append(qs, insertEventsSQL(n), insertDeliveriesSQL(n), insertAttemptsSQL(n))
	}
	return qs
}

func (s *Store) prepareHot(ctx context.Context) error {
	s.stmts = make(map[string]*sql.Stmt)
	for _, q := range hotQueries() {
		st, err := s.w.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("sqlite: preparing %q: %w", q, err)
		}
		s.stmts[q] = st
	}
	s.reads = make(map[string]*sql.Stmt)
	for _, q := range readQueries {
		st, err := s.r.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("sqlite: preparing %q: %w", q, err)
		}
		s.reads[q] = st
	}
	return nil
}

// stmt returns query's prepared statement for use in tx. Asking for one
// that hotQueries does not list is a bug that every test of the path
// finds at once.
func (s *Store) stmt(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	st, ok := s.stmts[query]
	if !ok {
		panic("sqlite: statement not prepared at Open: " + query)
	}
	return tx.StmtContext(ctx, st)
}
