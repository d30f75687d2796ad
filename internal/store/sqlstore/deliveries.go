package sqlstore

import (
	"context"
	"strconv"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

const deliveryColumns = `d.seq, d.id, e.id, d.organization_id, d.event_type, d.order_key, d.status, d.attempt_count, d.next_attempt_at,
	d.last_status_code, d.last_error, d.created_at, d.succeeded_at`

func scanDelivery(row Row, extra ...any) (otw.Delivery, int64, error) {
	var d otw.Delivery
	var seq, created int64
	var next, succeeded *int64
	dest := append([]any{&seq, &d.ID, &d.EventID, &d.OrganizationID, &d.EventType, &d.OrderKey, &d.Status, &d.AttemptCount, &next,
		&d.LastStatusCode, &d.LastError, &created, &succeeded}, extra...)
	if err := row.Scan(dest...); err != nil {
		return d, 0, err
	}
	d.NextAttemptAt, d.SucceededAt = NullTime(next), NullTime(succeeded)
	d.CreatedAt = fromMs(created)
	return d, seq, nil
}

// waitColumns are what a pending delivery waits for, read in the same
// statement as the delivery: the nearest earlier pending delivery of its
// order key (the order rule, see store.ClaimParams; asked as the claim
// asks it, so that the order index answers it), and its webhook's rate
// limit.
func (s *Store) waitColumns() string {
	return `
	(SELECT p.id FROM ` + s.d.OrderIndex + `
	 WHERE d.order_key <> '' AND p.organization_id = d.organization_id AND p.order_key = d.order_key
	   AND ` + s.d.Pending + ` AND p.seq < d.seq
	 ORDER BY p.seq DESC LIMIT 1),
	(SELECT w.rate_limit FROM webhooks w WHERE w.organization_id = d.organization_id)`
}

func (s *Store) ListDeliveries(ctx context.Context, p store.ListParams) ([]otw.Delivery, string, error) {
	page, err := p.Page()
	if err != nil {
		return nil, "", err
	}
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	q := `SELECT ` + deliveryColumns + ` FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE ` + p.Filter().Where(arg, s.d.OrderKey)
	if page.After > 0 {
		q += ` AND d.seq < ` + arg(page.After)
	}
	q += ` ORDER BY d.seq DESC LIMIT ` + arg(page.Fetch())
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, "", s.db.Interpret(err)
	}
	defer rows.Close()
	ds, next, err := store.CollectPage(page, rows, func(row store.Rows) (otw.Delivery, int64, error) { return scanDelivery(row) })
	return ds, next, s.db.Interpret(err)
}

func (s *Store) GetDelivery(ctx context.Context, org int64, id string) (otw.Delivery, error) {
	var body []byte
	var earlier *string
	var rateLimit *int
	d, seq, err := scanDelivery(s.db.QueryRow(ctx, `SELECT `+deliveryColumns+`, e.body, `+s.waitColumns()+`
		FROM deliveries d JOIN events e ON e.seq = d.event_seq
		WHERE d.id = $1 AND d.organization_id = $2`, id, org), &body, &earlier, &rateLimit)
	if err != nil {
		return d, s.lookup(err, "delivery %s not found", id)
	}
	d.Payload = body
	d.WaitingFor = store.WaitOf(d.Status, value(earlier), value(rateLimit))
	rows, err := s.db.Query(ctx, `SELECT n, started_at, duration_ms, status_code, error, response_body, url
		FROM attempts WHERE delivery_seq = $1 ORDER BY n, seq`, seq)
	if err != nil {
		return d, s.db.Interpret(err)
	}
	defer rows.Close()
	d.Attempts = []otw.Attempt{}
	for rows.Next() {
		var a otw.Attempt
		var started int64
		var body []byte // PostgreSQL keeps it as bytea: a response need not be text
		if err := rows.Scan(&a.N, &started, &a.DurationMs, &a.StatusCode, &a.Error, &body, &a.URL); err != nil {
			return d, s.db.Interpret(err)
		}
		a.StartedAt, a.ResponseBody = fromMs(started), string(body)
		d.Attempts = append(d.Attempts, a)
	}
	return d, s.db.Interpret(rows.Err())
}

// value is what v points to, the zero value for nil (NULL).
func value[T any](v *T) T {
	if v == nil {
		var zero T
		return zero
	}
	return *v
}

func (s *Store) DeliveryStats(ctx context.Context, org int64, since time.Time) ([]store.HourStats, error) {
	const hour = int64(time.Hour / time.Millisecond)
	rows, err := s.db.Query(ctx, `
		SELECT created_at / $1 * $1 AS h,
		       count(*) FILTER (WHERE status = 'succeeded'),
		       count(*) FILTER (WHERE status = 'failed'),
		       count(*) FILTER (WHERE status = 'pending')
		FROM deliveries WHERE organization_id = $2 AND created_at >= $3
		GROUP BY h ORDER BY h`, hour, org, ms(since))
	if err != nil {
		return nil, s.db.Interpret(err)
	}
	defer rows.Close()
	var out []store.HourStats
	for rows.Next() {
		var h int64
		var st store.HourStats
		if err := rows.Scan(&h, &st.Succeeded, &st.Failed, &st.Pending); err != nil {
			return nil, s.db.Interpret(err)
		}
		st.Hour = fromMs(h)
		out = append(out, st)
	}
	return out, s.db.Interpret(rows.Err())
}

func (s *Store) CountPending(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE status = 'pending'`).Scan(&n)
	return n, s.db.Interpret(err)
}

// HealthProbe is the small write of a driver's CheckWrite: one row, one
// page, committed.
const HealthProbe = `INSERT INTO health (id, checked_at) VALUES (1, $1)
	ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`
