package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/storetest"
)

// details returns the fourth column of the rows q reads on the writer
// connection (the detail of a query plan's steps).
func details(t *testing.T, s *Store, q string) []string {
	t.Helper()
	rows, err := s.w.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		out = append(out, detail)
	}
	return out
}

// TestLookupAmong10M fills a database file with ten million deliveries and
// times a trxID lookup (see storetest.LookupAmong10M):
//
//	OTW_BENCH_10M=1 go test ./internal/store/sqlite -run TestLookupAmong10M -v -timeout 1h
func TestLookupAmong10M(t *testing.T) { storetest.LookupAmong10M(t, fillFile) }

// fillFile makes a database file of storetest.LookupRows deliveries, with
// SQL of its own on the writer connection, and returns the store and the
// plan of a lookup.
func fillFile(t *testing.T, base time.Time) (store.Store, string) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "10m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.CreateOrganization(t.Context(), otw.Organization{ID: 1, Name: "Big", CreatedAt: base},
		otw.APIKey{ID: "key_big", OrganizationID: 1, Hash: []byte("hash"), CreatedAt: base}); err != nil {
		t.Fatal(err)
	}
	// The indexes are dropped while filling and made again after: building
	// one is much faster than ten million inserts into it.
	indexes := details(t, s, `SELECT 0, 0, 0, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('events', 'deliveries') AND sql IS NOT NULL`)
	var steps []string
	for _, q := range indexes {
		steps = append(steps, "DROP INDEX "+strings.Fields(q)[2]) // CREATE INDEX name ON …
	}
	steps = append(steps,
		fmt.Sprintf(`INSERT INTO events (seq, id, organization_id, type, order_key, body, created_at)
			WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < %d)
			SELECT i, printf('evt_%%020d', i), 1, 'integration_message_status', printf('m:trx-%%09d', i / 4), x'7b7d', %d + i / 4 FROM g`,
			storetest.LookupRows, base.UnixMilli()),
		`INSERT INTO deliveries (seq, id, event_seq, organization_id, event_type, order_key, status, attempt_count,
			last_status_code, last_error, created_at, succeeded_at)
			SELECT seq, 'dlv_' || substr(id, 5), seq, 1, type, order_key, CASE WHEN seq % 50 = 0 THEN 'failed' ELSE 'succeeded' END, 1,
			200, '', created_at, created_at FROM events WHERE organization_id = 1`,
	)
	for _, q := range append(steps, indexes...) {
		if _, err := s.w.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	plan := details(t, s, `EXPLAIN QUERY PLAN SELECT d.seq FROM deliveries d JOIN events e ON e.seq = d.event_seq
		WHERE d.organization_id = 1 AND d.order_key = 'm:trx-000123456' ORDER BY d.seq DESC LIMIT 51`)
	return s, strings.Join(plan, "\n")
}
