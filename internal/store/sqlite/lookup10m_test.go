package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/sqlite"
)

// lookupRows is how many deliveries the lookup measurement fills: ten
// million, four per message (acknowledge, delivered, read, one more).
const lookupRows = 10_000_000

// TestLookupAmong10M fills a database file with ten million deliveries of
// one organization and times a trxID lookup through ListDeliveries. It
// takes minutes and gigabytes, so it runs only with OTW_BENCH_10M=1:
//
//	OTW_BENCH_10M=1 go test ./store/sqlite -run TestLookupAmong10M -v -timeout 1h
func TestLookupAmong10M(t *testing.T) {
	if os.Getenv("OTW_BENCH_10M") != "1" {
		t.Skip("set OTW_BENCH_10M=1 to fill 10 million deliveries and time a lookup")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "10m.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	if err := s.CreateOrganization(ctx, otw.Organization{ID: 1, Name: "Big", CreatedAt: now},
		otw.APIKey{ID: "key_big", OrganizationID: 1, Hash: []byte("hash"), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	start := time.Now()
	// The indexes are dropped while filling and made again after: building
	// one is much faster than ten million inserts into it.
	var indexes []string
	rows, err := db.QueryContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('events', 'deliveries') AND sql IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var q string
		if err := rows.Scan(&q); err != nil {
			t.Fatal(err)
		}
		indexes = append(indexes, q)
	}
	rows.Close()
	base := now.Add(-30 * 24 * time.Hour).UnixMilli()
	steps := []string{}
	for _, q := range indexes {
		name := strings.Fields(q)[2] // CREATE INDEX name ON …
		steps = append(steps, "DROP INDEX "+name)
	}
	steps = append(steps,
		fmt.Sprintf(`INSERT INTO events (seq, id, organization_id, type, order_key, body, created_at)
			WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < %d)
			SELECT i, printf('evt_%%020d', i), 1, 'integration_message_status', printf('m:trx-%%09d', i / 4), x'7b7d', %d + i / 4 FROM g`, lookupRows, base),
		fmt.Sprintf(`INSERT INTO deliveries (seq, id, event_seq, organization_id, event_type, order_key, status, attempt_count,
			last_status_code, last_error, created_at, succeeded_at)
			SELECT seq, 'dlv_' || substr(id, 5), seq, 1, type, order_key, CASE WHEN seq %% 50 = 0 THEN 'failed' ELSE 'succeeded' END, 1,
			200, '', created_at, created_at FROM events WHERE organization_id = 1`),
	)
	steps = append(steps, indexes...)
	for _, q := range steps {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Logf("filled %d deliveries in %v", lookupRows, time.Since(start).Round(time.Second))

	var plan []string
	rows, err = db.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT d.seq FROM deliveries d JOIN events e ON e.seq = d.event_seq
		WHERE d.organization_id = ? AND d.order_key = ? ORDER BY d.seq DESC LIMIT 51`, 1, "m:trx-000123456")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	rows.Close()
	t.Logf("plan of a trxID lookup: %s", strings.Join(plan, "; "))
	if !strings.Contains(strings.Join(plan, "\n"), "deliveries_key") {
		t.Errorf("a trxID lookup does not use deliveries_key: %v", plan)
	}
	timeLookups(t, s)
}

// timeLookups looks up 200 messages spread over the table, by trxID, and
// logs the median and the slowest.
func timeLookups(t *testing.T, s store.Store) {
	ctx := context.Background()
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
	start := time.Now()
	n, _, err := s.RetryDeliveries(ctx, store.RetryParams{DeliveryFilter: store.DeliveryFilter{OrganizationID: 1, Status: otw.DeliveryFailed,
		TrxID: fmt.Sprintf("trx-%09d", 12_312)}, Limit: 10_000, DryRun: true})
	t.Logf("dry run of a bulk retry by trxID: %d in %v (%v)", n, time.Since(start), err)
}
