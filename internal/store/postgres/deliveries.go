package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

const deliveryColumns = `d.seq, d.id, e.id, d.organization_id, d.event_type, d.order_key, d.status, d.attempt_count, d.next_attempt_at,
	d.last_status_code, d.last_error, d.created_at, d.succeeded_at`

// waitColumns are what a pending delivery waits for, read in the same
// statement as the delivery: the nearest earlier pending delivery of its
// order key (the claim's order rule, asked as the claim asks it so that
// deliveries_order answers it; see migration 002), and its webhook's rate
// limit.
const waitColumns = `
	(SELECT p.id FROM deliveries p
	 WHERE d.order_key <> '' AND p.organization_id = d.organization_id AND p.order_key = d.order_key
	   AND p.next_attempt_at IS NOT NULL AND p.seq < d.seq
	 ORDER BY p.seq DESC LIMIT 1),
	(SELECT w.rate_limit FROM webhooks w WHERE w.organization_id = d.organization_id)`

// keyColumn is the order key as deliveries_key holds it (migration 010).
const keyColumn = `d.order_key COLLATE "C"`

func scanDelivery(row pgx.Row, extra ...any) (otw.Delivery, int64, error) {
	var d otw.Delivery
	var seq, created int64
	var next, succeeded *int64
	dest := append([]any{&seq, &d.ID, &d.EventID, &d.OrganizationID, &d.EventType, &d.OrderKey, &d.Status, &d.AttemptCount, &next,
		&d.LastStatusCode, &d.LastError, &created, &succeeded}, extra...)
	if err := row.Scan(dest...); err != nil {
		return d, 0, err
	}
	d.NextAttemptAt, d.SucceededAt = nullMs(next), nullMs(succeeded)
	d.CreatedAt = fromMs(created)
	return d, seq, nil
}

func (s *Store) ListDeliveries(ctx context.Context, p store.ListParams) ([]otw.Delivery, string, error) {
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	q := `SELECT ` + deliveryColumns + ` FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE ` + p.Filter().Where(arg, keyColumn)
	if p.Cursor != "" {
		after, err := strconv.ParseInt(p.Cursor, 10, 64)
		if err != nil {
			return nil, "", otw.Invalid("bad cursor", otw.FieldError{Field: "cursor", Message: "not a cursor this API returned"})
		}
		args = append(args, after)
		q += ` AND d.seq < $` + strconv.Itoa(len(args))
	}
	// One row more than the page: whether it comes says if a next page exists.
	args = append(args, p.Limit+1)
	q += ` ORDER BY d.seq DESC LIMIT $` + strconv.Itoa(len(args))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, "", interpret(err)
	}
	defer rows.Close()
	page := make([]otw.Delivery, 0, p.Limit)
	var next string
	more := false
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
	var earlier *string
	var rateLimit *int
	d, seq, err := scanDelivery(s.pool.QueryRow(ctx, `SELECT `+deliveryColumns+`, e.body, `+waitColumns+`
		FROM deliveries d JOIN events e ON e.seq = d.event_seq
		WHERE d.id = $1 AND d.organization_id = $2`, id, org), &body, &earlier, &rateLimit)
	if err == pgx.ErrNoRows {
		return d, otw.Errorf(otw.ENOTFOUND, "delivery %s not found", id)
	}
	if err != nil {
		return d, interpret(err)
	}
	d.Payload = body
	wait, limit := "", 0
	if earlier != nil {
		wait = *earlier
	}
	if rateLimit != nil {
		limit = *rateLimit
	}
	d.WaitingFor = store.WaitOf(d.Status, wait, limit)
	rows, err := s.pool.Query(ctx, `SELECT n, started_at, duration_ms, status_code, error, response_body, url FROM attempts WHERE delivery_seq = $1 ORDER BY n, seq`, seq)
	if err != nil {
		return d, interpret(err)
	}
	d.Attempts, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (otw.Attempt, error) {
		var a otw.Attempt
		var started int64
		var body []byte
		err := row.Scan(&a.N, &started, &a.DurationMs, &a.StatusCode, &a.Error, &body, &a.URL)
		a.StartedAt, a.ResponseBody = fromMs(started), string(body)
		return a, err
	})
	if d.Attempts == nil {
		d.Attempts = []otw.Attempt{}
	}
	return d, interpret(err)
}

func (s *Store) RetryDelivery(ctx context.Context, org int64, id string, now time.Time) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		var status string
		var lease *int64
		// FOR UPDATE: a claim on another node cannot slip in between the
		// check and the update.
		err := tx.QueryRow(ctx, `SELECT status, lease_until FROM deliveries WHERE id = $1 AND organization_id = $2 FOR UPDATE`, id, org).Scan(&status, &lease)
		if err == pgx.ErrNoRows {
			return otw.Errorf(otw.ENOTFOUND, "delivery %s not found", id)
		}
		if err != nil {
			return err
		}
		if status == otw.DeliveryPending && lease != nil && *lease > ms(now) {
			return otw.Errorf(otw.ECONFLICT, "delivery %s is being attempted right now", id)
		}
		if _, err = tx.Exec(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = $1, lease_until = NULL WHERE id = $2`, ms(now), id); err != nil {
			return err
		}
		return notify(ctx, tx)
	})
}

func (s *Store) RecoverDeliveries(ctx context.Context, org int64, since, now time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = $1, lease_until = NULL
			WHERE organization_id = $2 AND status = 'failed' AND created_at >= $3`, ms(now), org, ms(since))
		if n = tag.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return notify(ctx, tx)
	})
	return int(n), err
}

func (s *Store) DeliveryStats(ctx context.Context, org int64, since time.Time) ([]store.HourStats, error) {
	const hour = int64(time.Hour / time.Millisecond)
	rows, err := s.pool.Query(ctx, `
		SELECT created_at / $1 * $1 AS h,
		       count(*) FILTER (WHERE status = 'succeeded'),
		       count(*) FILTER (WHERE status = 'failed'),
		       count(*) FILTER (WHERE status = 'pending')
		FROM deliveries WHERE organization_id = $2 AND created_at >= $3
		GROUP BY h ORDER BY h`, hour, org, ms(since))
	if err != nil {
		return nil, interpret(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.HourStats, error) {
		var h int64
		var st store.HourStats
		err := row.Scan(&h, &st.Succeeded, &st.Failed, &st.Pending)
		st.Hour = fromMs(h)
		return st, err
	})
	return out, interpret(err)
}

func (s *Store) CountPending(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE status = 'pending'`).Scan(&n)
	return n, interpret(err)
}

func (s *Store) RetryDeliveries(ctx context.Context, p store.RetryParams) (int, bool, error) {
	if err := p.Check(); err != nil {
		return 0, false, err
	}
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	where := p.Where(arg, keyColumn)
	limit := arg(p.Limit + 1)
	// The oldest first: when more match than one call takes, each order
	// key's earliest are the ones sent, as the order rule wants. FOR
	// UPDATE: a concurrent retry or claim waits, so the rows counted are
	// the rows changed.
	picked := `SELECT d.seq FROM deliveries d WHERE ` + where + ` ORDER BY d.seq LIMIT ` + limit
	if !p.DryRun {
		picked += ` FOR UPDATE OF d`
	}
	var n int
	var more bool
	err := s.tx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, picked, args...)
		if err != nil {
			return err
		}
		seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		more = len(seqs) > p.Limit
		if more {
			seqs = seqs[:p.Limit]
		}
		n = len(seqs)
		if p.DryRun || n == 0 {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = $1, lease_until = NULL WHERE seq = ANY($2)`, ms(p.Now), seqs)
		if err != nil {
			return err
		}
		return notify(ctx, tx)
	})
	return n, more, err
}
