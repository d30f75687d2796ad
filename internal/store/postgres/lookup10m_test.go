package postgres_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// lookupRows is how many deliveries the lookup measurement fills: ten
// million, four per message.
const lookupRows = 10_000_000

// TestLookupAmong10M fills a schema with ten million deliveries of one
// organization and times a trxID lookup through ListDeliveries. It takes
// minutes and gigabytes, so it runs only with OTW_BENCH_10M=1:
//
//	OTW_BENCH_10M=1 OTW_TEST_POSTGRES_URL=… go test ./store/postgres -run TestLookupAmong10M -v -timeout 1h
func TestLookupAmong10M(t *testing.T) {
	if os.Getenv("OTW_BENCH_10M") != "1" {
		t.Skip("set OTW_BENCH_10M=1 to fill 10 million deliveries and time a lookup")
	}
	ctx := context.Background()
	url := newSchema(t)
	s := open(t, url)
	newOrg(t, s, 1)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	start := time.Now()
	// The indexes (not the keys) are dropped while filling and made again
	// after: building one is much faster than ten million inserts into it.
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
	var steps []string
	for _, i := range indexes {
		steps = append(steps, "DROP INDEX "+i.name)
	}
	base := time.Now().Add(-30 * 24 * time.Hour).UnixMilli()
	steps = append(steps,
		fmt.Sprintf(`INSERT INTO events (seq, id, organization_id, type, order_key, body, created_at) OVERRIDING SYSTEM VALUE
			SELECT i, 'evt_' || lpad(i::text, 20, '0'), 1, 'integration_message_status', 'm:trx-' || lpad((i / 4)::text, 9, '0'), '\x7b7d', %d + i / 4
			FROM generate_series(1, %d) i`, base, lookupRows),
		`INSERT INTO deliveries (seq, id, event_seq, organization_id, event_type, order_key, status, attempt_count,
			last_status_code, last_error, created_at, succeeded_at) OVERRIDING SYSTEM VALUE
			SELECT seq, 'dlv_' || substr(id, 5), seq, 1, type, order_key, CASE WHEN seq % 50 = 0 THEN 'failed' ELSE 'succeeded' END, 1,
			200, '', created_at, created_at FROM events WHERE organization_id = 1`,
	)
	for _, i := range indexes {
		steps = append(steps, i.def)
	}
	steps = append(steps, "ANALYZE events", "ANALYZE deliveries")
	for _, q := range steps {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Logf("filled %d deliveries in %v", lookupRows, time.Since(start).Round(time.Second))

	rows, err = conn.Query(ctx, `EXPLAIN SELECT d.seq FROM deliveries d JOIN events e ON e.seq = d.event_seq
		WHERE d.organization_id = $1 AND d.order_key COLLATE "C" = $2 ORDER BY d.seq DESC LIMIT 51`, int64(1), "m:trx-000123456")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("plan of a trxID lookup:\n%s", strings.Join(plan, "\n"))
	if !strings.Contains(strings.Join(plan, "\n"), "deliveries_key") {
		t.Errorf("a trxID lookup does not use deliveries_key")
	}
	var took []time.Duration
	for i := range 200 {
		trx := fmt.Sprintf("trx-%09d", (i*12_497+7)%(lookupRows/4))
		start := time.Now()
		page, _, err := s.ListDeliveries(ctx, store.ListParams{OrganizationID: 1, TrxID: trx, Limit: 50})
		took = append(took, time.Since(start))
		if err != nil || len(page) == 0 {
			t.Fatalf("trxID %s: %d deliveries, %v", trx, len(page), err)
		}
	}
	slices.Sort(took)
	t.Logf("trxID lookup among %d deliveries: median %v, slowest %v (200 lookups)", lookupRows, took[len(took)/2], took[len(took)-1])
	start = time.Now()
	n, _, err := s.RetryDeliveries(ctx, store.RetryParams{DeliveryFilter: store.DeliveryFilter{OrganizationID: 1, Status: otw.DeliveryFailed,
		TrxID: fmt.Sprintf("trx-%09d", 12_312)}, Limit: 10_000, DryRun: true})
	t.Logf("dry run of a bulk retry by trxID: %d in %v (%v)", n, time.Since(start), err)
}
