package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/storetest"
)

// TestLookupAmong10M fills a schema with ten million deliveries and times
// a trxID lookup (see storetest.LookupAmong10M):
//
//	OTW_BENCH_10M=1 OTW_TEST_POSTGRES_URL=… go test ./internal/store/postgres -run TestLookupAmong10M -v -timeout 1h
func TestLookupAmong10M(t *testing.T) { storetest.LookupAmong10M(t, fillSchema) }

// fillSchema makes a schema of storetest.LookupRows deliveries with SQL of
// its own, and returns it open and the plan of a lookup.
func fillSchema(t *testing.T, base time.Time) (store.Store, string) {
	url := newSchema(t)
	s := open(t, url)
	newOrg(t, s, 1)
	ctx := context.Background()
	conn := connect(t, url)
	// The indexes (not the keys) are dropped while filling and made
	// again after: building one is much faster than ten million inserts
	// into it.
	rows, err := conn.Query(ctx, `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()
			AND tablename IN ('events', 'deliveries') AND indexname NOT LIKE '%pkey' AND indexname NOT LIKE '%_id_key'`)
	if err != nil {
		t.Fatal(err)
	}
	type index struct{ name, def string }
	indexes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (index, error) {
		var i index
		return i, r.Scan(&i.name, &i.def)
	})
	if err != nil {
		t.Fatal(err)
	}
	var drops, creates []string
	for _, i := range indexes {
		drops, creates = append(drops, "DROP INDEX "+i.name), append(creates, i.def)
	}
	fills := []string{
		fmt.Sprintf(`INSERT INTO events (seq, id, organization_id, type, order_key, body, created_at) OVERRIDING SYSTEM VALUE
				SELECT i, 'evt_' || lpad(i::text, 20, '0'), 1, 'integration_message_status', 'm:trx-' || lpad((i / 4)::text, 9, '0'), '\x7b7d', %d + i / 4
				FROM generate_series(1, %d) i`, base.UnixMilli(), storetest.LookupRows),
		`INSERT INTO deliveries (seq, id, event_seq, organization_id, event_type, order_key, status, attempt_count,
				last_status_code, last_error, created_at, succeeded_at) OVERRIDING SYSTEM VALUE
				SELECT seq, 'dlv_' || substr(id, 5), seq, 1, type, order_key, CASE WHEN seq % 50 = 0 THEN 'failed' ELSE 'succeeded' END, 1,
				200, '', created_at, created_at FROM events WHERE organization_id = 1`,
	}
	for _, q := range append(append(append(drops, fills...), creates...), "ANALYZE events", "ANALYZE deliveries") {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	rows, err = conn.Query(ctx, `EXPLAIN SELECT d.seq FROM deliveries d JOIN events e ON e.seq = d.event_seq
			WHERE d.organization_id = $1 AND d.order_key COLLATE "C" = $2 ORDER BY d.seq DESC LIMIT 51`, int64(1), "m:trx-000123456")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return s, strings.Join(plan, "\n")
}
