package sqlite

import (
	"context"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/store"
)

func (s *Store) DeliveryStats(ctx context.Context, org int64, since time.Time) ([]store.HourStats, error) {
	const hour = int64(time.Hour / time.Millisecond)
	rows, err := s.r.QueryContext(ctx, `
		SELECT created_at / ?1 * ?1 AS h,
		       sum(status = 'succeeded'), sum(status = 'failed'), sum(status = 'pending')
		FROM deliveries WHERE organization_id = ?2 AND created_at >= ?3
		GROUP BY h ORDER BY h`, hour, org, ms(since))
	if err != nil {
		return nil, interpret(err)
	}
	defer rows.Close()
	var out []store.HourStats
	for rows.Next() {
		var h int64
		var st store.HourStats
		if err := rows.Scan(&h, &st.Succeeded, &st.Failed, &st.Pending); err != nil {
			return nil, interpret(err)
		}
		st.Hour = fromMs(h)
		out = append(out, st)
	}
	return out, interpret(rows.Err())
}

func (s *Store) CountPending(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE status = 'pending'`).Scan(&n)
	return n, interpret(err)
}
