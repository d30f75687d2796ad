package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

const deliveryColumns = `d.seq, d.id, e.id, d.organization_id, d.event_type, d.order_key, d.status, d.attempt_count, d.next_attempt_at,
	d.last_status_code, d.last_error, d.created_at, d.succeeded_at`

// waitColumns are what a pending delivery waits for, read in the same
// statement as the delivery: the nearest earlier pending delivery of its
// order key (the claim's order rule; deliveries_order answers it), and
// its webhook's rate limit.
const waitColumns = `
	(SELECT p.id FROM deliveries p INDEXED BY deliveries_order
	 WHERE d.order_key <> '' AND p.organization_id = d.organization_id AND p.order_key = d.order_key
	   AND p.status = 'pending' AND p.seq < d.seq
	 ORDER BY p.seq DESC LIMIT 1),
	(SELECT w.rate_limit FROM webhooks w WHERE w.organization_id = d.organization_id)`

func scanDelivery(row rowScanner, extra ...any) (otw.Delivery, int64, error) {
	var d otw.Delivery
	var seq, created int64
	var next, code, succeeded sql.NullInt64
	dest := append([]any{&seq, &d.ID, &d.EventID, &d.OrganizationID, &d.EventType, &d.OrderKey, &d.Status, &d.AttemptCount, &next,
		&code, &d.LastError, &created, &succeeded}, extra...)
	if err := row.Scan(dest...); err != nil {
		return d, 0, err
	}
	d.NextAttemptAt, d.LastStatusCode, d.SucceededAt = nullMs(next), nullInt(code), nullMs(succeeded)
	d.CreatedAt = fromMs(created)
	return d, seq, nil
}

func (s *Store) ListDeliveries(ctx context.Context, p store.ListParams) ([]otw.Delivery, string, error) {
	var args []any
	arg := func(v any) string { args = append(args, v); return "?" }
	q := `SELECT ` + deliveryColumns + ` FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE ` + p.Filter().Where(arg, "d.order_key")
	if p.Cursor != "" {
		after, err := strconv.ParseInt(p.Cursor, 10, 64)
		if err != nil {
			return nil, "", otw.Invalid("bad cursor", otw.FieldError{Field: "cursor", Message: "not a cursor this API returned"})
		}
		q += ` AND d.seq < ?`
		args = append(args, after)
	}
	q += ` ORDER BY d.seq DESC LIMIT ?`
	args = append(args, p.Limit+1)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", interpret(err)
	}
	defer rows.Close()
	page := make([]otw.Delivery, 0, p.Limit)
	var next string
	more := false // the extra row asked for: whether a next page exists
	for rows.Next() {
		d, seq, err := scanDelivery(rows)
		if err != nil {
			return nil, "", interpret(err)
		}
		if len(page) == p.Limit {
			more = true
			break
		}
		page = append(page, d)
		next = strconv.FormatInt(seq, 10)
	}
	if err := rows.Err(); err != nil {
		return nil, "", interpret(err)
	}
	if !more {
		next = ""
	}
	return page, next, nil
}

func (s *Store) GetDelivery(ctx context.Context, org int64, id string) (otw.Delivery, error) {
	var body []byte
	var earlier sql.NullString
	var rateLimit sql.NullInt64
	d, seq, err := scanDelivery(s.r.QueryRowContext(ctx, `SELECT `+deliveryColumns+`, e.body, `+waitColumns+`
		FROM deliveries d JOIN events e ON e.seq = d.event_seq
		WHERE d.id = ? AND d.organization_id = ?`, id, org), &body, &earlier, &rateLimit)
	if err == sql.ErrNoRows {
		return d, otw.Errorf(otw.ENOTFOUND, "delivery %s not found", id)
	}
	if err != nil {
		return d, interpret(err)
	}
	d.Payload = body
	d.WaitingFor = store.WaitOf(d.Status, earlier.String, int(rateLimit.Int64))
	rows, err := s.r.QueryContext(ctx, `SELECT n, started_at, duration_ms, status_code, error, response_body, url FROM attempts WHERE delivery_seq = ? ORDER BY n, seq`, seq)
	if err != nil {
		return d, interpret(err)
	}
	defer rows.Close()
	d.Attempts = []otw.Attempt{}
	for rows.Next() {
		var a otw.Attempt
		var started int64
		var code sql.NullInt64
		if err := rows.Scan(&a.N, &started, &a.DurationMs, &code, &a.Error, &a.ResponseBody, &a.URL); err != nil {
			return d, interpret(err)
		}
		a.StartedAt, a.StatusCode = fromMs(started), nullInt(code)
		d.Attempts = append(d.Attempts, a)
	}
	return d, interpret(rows.Err())
}

func (s *Store) RetryDelivery(ctx context.Context, org int64, id string, now time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var seq int64
		var status string
		err := tx.QueryRowContext(ctx, `SELECT seq, status FROM deliveries WHERE id = ? AND organization_id = ?`, id, org).Scan(&seq, &status)
		if err == sql.ErrNoRows {
			return otw.Errorf(otw.ENOTFOUND, "delivery %s not found", id)
		}
		if err != nil {
			return err
		}
		if status == otw.DeliveryPending && s.leases.active(seq, ms(now)) {
			return otw.Errorf(otw.ECONFLICT, "delivery %s is being attempted right now", id)
		}
		_, err = tx.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = ? WHERE seq = ?`, ms(now), seq)
		return err
	})
}

func (s *Store) RecoverDeliveries(ctx context.Context, org int64, since, now time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = ?
			WHERE organization_id = ? AND status = 'failed' AND created_at >= ?`, ms(now), org, ms(since))
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	return int(n), err
}

func (s *Store) RetryDeliveries(ctx context.Context, p store.RetryParams) (int, bool, error) {
	if err := p.Check(); err != nil {
		return 0, false, err
	}
	var args []any
	arg := func(v any) string { args = append(args, v); return "?" }
	// The oldest first: when more match than one call takes, each order
	// key's earliest are the ones sent, as the order rule wants.
	picked := `SELECT d.seq FROM deliveries d WHERE ` + p.Where(arg, "d.order_key") + ` ORDER BY d.seq LIMIT ?`
	var n int
	var more bool
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// One more than the limit says whether more match.
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM (`+picked+`)`, append(args, p.Limit+1)...).Scan(&n); err != nil {
			return err
		}
		more, n = n > p.Limit, min(n, p.Limit)
		if p.DryRun || n == 0 {
			return nil
		}
		// The same statement, in the same transaction: what is sent is
		// what was counted.
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = ? WHERE seq IN (`+picked+`)`,
			append(append([]any{ms(p.Now)}, args...), p.Limit)...)
		if err == nil {
			var affected int64
			affected, err = res.RowsAffected()
			n = int(affected)
		}
		return err
	})
	return n, more, err
}
