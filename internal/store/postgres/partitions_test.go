package postgres_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/postgres"
	"github.com/onetalk/onetalk-webhooks/internal/store/sqlstore"
)

// openWidth opens a node on the schema at url whose partitions are width
// wide, closed when t ends.
func openWidth(t testing.TB, url string, width time.Duration, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url, append(opts, postgres.WithPartitionWidth(width))...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// partitionsOf lists table's partitions by name, in order.
func partitionsOf(t testing.TB, conn *pgx.Conn, table string) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT c.relname::text FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = $1::regclass ORDER BY 1`, table)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// eventAt is an event of org published at.
func eventAt(org int64, orderKey string, at time.Time) otw.Event {
	e := newEvent(org, "case_resolved", orderKey)
	e.CreatedAt = at
	return e
}

// deliverAt publishes one event at and returns its delivery, claimed and
// left in status (pending: leased, waiting for its outcome).
func deliverAt(t *testing.T, s store.Store, org int64, orderKey string, at time.Time, status string) store.Claimed {
	t.Helper()
	ctx := context.Background()
	in, taken, err := s.InsertEvents(ctx, []otw.Event{eventAt(org, orderKey, at)}, at,
		store.Take{LeaseUntil: at.Add(time.Minute), Room: map[int64]int{org: 1}})
	if err != nil || len(taken) != 1 || taken[0].DeliveryID != in[0].DeliveryID {
		t.Fatalf("InsertEvents at %v: %v, taken %d", at, err, len(taken))
	}
	c := taken[0]
	if status != otw.DeliveryPending {
		code := 200
		_, err := s.CompleteAttempts(ctx, store.Completion{Results: []store.AttemptResult{{Lease: c.Lease, OrganizationID: org, Status: status,
			Attempt: otw.Attempt{N: 1, StartedAt: at, DurationMs: 5, StatusCode: &code}}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// With partitions an hour wide, retention drops the partitions wholly past
// it, keeps a partition that holds a pending delivery (deleting the rest of
// it row by row), and leaves the window alone; inserts go on meanwhile.
func TestRetentionDropsOldPartitions(t *testing.T) {
	t.Parallel()
	url := newSchema(t)
	s := openWidth(t, url, time.Hour)
	conn := connect(t, url)
	ctx := context.Background()
	newOrg(t, s, 1)
	start := time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)
	for h := range 6 {
		if err := s.Maintain(ctx, start.Add(time.Duration(h)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	gone := deliverAt(t, s, 1, "", start.Add(10*time.Minute), otw.DeliverySucceeded)
	failed := deliverAt(t, s, 1, "", start.Add(20*time.Minute), otw.DeliveryFailed)
	pending := deliverAt(t, s, 1, "m:1", start.Add(time.Hour+10*time.Minute), otw.DeliveryPending)
	doneBeside := deliverAt(t, s, 1, "", start.Add(time.Hour+20*time.Minute), otw.DeliverySucceeded)
	edge := deliverAt(t, s, 1, "", start.Add(3*time.Hour+5*time.Minute), otw.DeliverySucceeded)
	young := deliverAt(t, s, 1, "", start.Add(4*time.Hour), otw.DeliverySucceeded)
	slot := func(table string, h int) string {
		return fmt.Sprintf("%s_%d", table, start.Add(time.Duration(h)*time.Hour).UnixMilli())
	}

	// Inserts into the window go on while partitions are dropped: none
	// waits long behind a drop's lock.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var slowest time.Duration
	inserts := 0
	wg.Go(func() {
		at := start.Add(5 * time.Hour)
		for {
			select {
			case <-stop:
				return
			default:
			}
			began := time.Now()
			if _, _, err := s.InsertEvents(ctx, []otw.Event{eventAt(1, "", at)}, at, store.Take{}); err != nil {
				t.Error(err)
				return
			}
			slowest, inserts = max(slowest, time.Since(began)), inserts+1
		}
	})

	// Retention of the events before 03:30: the partition of 03:00 holds
	// the cutoff, so what is before 03:00 goes.
	cutoff := start.Add(3*time.Hour + 30*time.Minute)
	var after int64
	removed := 0
	for {
		next, n, err := s.PruneEvents(ctx, store.PruneParams{Before: cutoff, KeyedBefore: cutoff, After: after, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		removed += n
		if next == after {
			break
		}
		after = next
	}
	close(stop)
	wg.Wait()
	t.Logf("%d inserts during the pass, the slowest %v", inserts, slowest)
	if slowest > 2*time.Second {
		t.Errorf("an insert waited %v while partitions were dropped", slowest)
	}
	if removed != 3 {
		t.Errorf("removed %d events, want 3: the two of 00:00 and the done one beside the pending delivery", removed)
	}
	for _, table := range []string{"events", "deliveries", "attempts"} {
		have := partitionsOf(t, conn, table)
		for h, want := range []bool{false, true, false, true, true, true} {
			if slices.Contains(have, slot(table, h)) != want {
				t.Errorf("%s: partition of %02d:00 there = %v, want %v (have %v)", table, h, !want, want, have)
			}
		}
	}
	for _, c := range []store.Claimed{gone, failed, doneBeside} {
		if _, err := s.GetDelivery(ctx, 1, c.DeliveryID); !otw.IsNotFound(err) {
			t.Errorf("delivery of %v: %v, want removed", c.EventCreatedAt, err)
		}
	}
	for _, c := range []store.Claimed{pending, edge, young} {
		if _, err := s.GetDelivery(ctx, 1, c.DeliveryID); err != nil {
			t.Errorf("delivery of %v: %v, want kept", c.EventCreatedAt, err)
		}
	}

	// Once its pending delivery is done, the kept partition goes too.
	code := 200
	if _, err := s.CompleteAttempts(ctx, store.Completion{Results: []store.AttemptResult{{Lease: pending.Lease, OrganizationID: 1, Status: otw.DeliverySucceeded,
		Attempt: otw.Attempt{N: 1, StartedAt: cutoff, DurationMs: 5, StatusCode: &code}}}}); err != nil {
		t.Fatal(err)
	}
	if _, n, err := s.PruneEvents(ctx, store.PruneParams{Before: cutoff, KeyedBefore: cutoff, Limit: 100}); err != nil || n != 1 {
		t.Fatalf("removed %d (%v) once the pending delivery was done, want 1", n, err)
	}
	if have := partitionsOf(t, conn, "deliveries"); slices.Contains(have, slot("deliveries", 1)) {
		t.Errorf("the partition of 01:00 is still there once its work is done: %v", have)
	}
}

// The partitions come ahead of time, with a width of seconds on the real
// clock: a node makes those of the next two widths while it runs.
func TestPartitionsMadeAhead(t *testing.T) {
	t.Parallel()
	url := newSchema(t)
	openWidth(t, url, 2*time.Second)
	conn := connect(t, url)
	want := fmt.Sprintf("events_%d", (time.Now().UnixMilli()/2000+3)*2000)
	for deadline := time.Now().Add(10 * time.Second); !slices.Contains(partitionsOf(t, conn, "events"), want); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no partition %s after 10 s: %v", want, partitionsOf(t, conn, "events"))
		}
	}
}

// A database of the previous schema (migrations up to 011) with rows is
// converted in place: every row is kept, the pending delivery is still
// claimed and delivered, and new rows follow the old ones.
func TestMigrationKeepsTheRows(t *testing.T) {
	t.Parallel()
	url := newSchema(t)
	conn := connect(t, url)
	ctx := context.Background()
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, sqlstore.PostgreSQL.MigrationsTable); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		v := 0
		fmt.Sscanf(filepath.Base(f), "%d_", &v)
		if v > 11 {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, string(b), pgx.QueryExecModeSimpleProtocol); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations VALUES ($1, $2, 0)`, v, filepath.Base(f)); err != nil {
			t.Fatal(err)
		}
	}
	// The rows as the previous version wrote them: an old succeeded
	// delivery with its attempt, a failed one, a pending one due now
	// behind which waits a second of its order key, and an event without
	// a delivery.
	now := time.Now().Truncate(time.Millisecond)
	old := now.Add(-72 * time.Hour).UnixMilli()
	for _, q := range []string{
		`INSERT INTO organizations VALUES (1, 'Org', 0)`,
		`INSERT INTO webhooks (organization_id, enabled, url, subscribed_events, state, secret, created_at, updated_at)
			VALUES (1, true, 'https://hooks.example.com/', '{case_resolved}', 'active', 'sealed', 0, 0)`,
		fmt.Sprintf(`INSERT INTO events (id, organization_id, type, order_key, body, idempotency_key, created_at) VALUES
			('evt_old', 1, 'case_resolved', '', '{"n":1}', NULL, %[1]d),
			('evt_failed', 1, 'case_resolved', '', '{"n":2}', NULL, %[1]d),
			('evt_pending', 1, 'case_resolved', 'm:7', '{"n":3}', NULL, %[2]d),
			('evt_behind', 1, 'case_resolved', 'm:7', '{"n":4}', NULL, %[2]d),
			('evt_unrouted', 2, 'case_resolved', '', '{"n":5}', 'key-1', %[2]d)`, old, now.UnixMilli()),
		fmt.Sprintf(`INSERT INTO deliveries (id, event_seq, organization_id, event_type, order_key, status, attempt_count,
				next_attempt_at, last_status_code, created_at, succeeded_at) VALUES
			('dlv_old', 1, 1, 'case_resolved', '', 'succeeded', 1, NULL, 200, %[1]d, %[1]d),
			('dlv_failed', 2, 1, 'case_resolved', '', 'failed', 1, NULL, 500, %[1]d, NULL),
			('dlv_pending', 3, 1, 'case_resolved', 'm:7', 'pending', 0, %[2]d, NULL, %[2]d, NULL),
			('dlv_behind', 4, 1, 'case_resolved', 'm:7', 'pending', 0, %[2]d, NULL, %[2]d, NULL)`, old, now.UnixMilli()),
		fmt.Sprintf(`INSERT INTO attempts (delivery_seq, n, started_at, duration_ms, status_code, url) VALUES
			(1, 1, %[1]d, 5, 200, 'https://hooks.example.com/'), (2, 1, %[1]d, 5, 500, 'https://hooks.example.com/')`, old),
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	s := open(t, url)
	var events, deliveries, attempts int
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM deliveries), (SELECT count(*) FROM attempts)`).
		Scan(&events, &deliveries, &attempts); err != nil {
		t.Fatal(err)
	}
	if events != 5 || deliveries != 4 || attempts != 2 {
		t.Fatalf("after the migration %d events, %d deliveries, %d attempts; want 5, 4, 2", events, deliveries, attempts)
	}
	for id, status := range map[string]string{"dlv_old": otw.DeliverySucceeded, "dlv_failed": otw.DeliveryFailed, "dlv_pending": otw.DeliveryPending} {
		d, err := s.GetDelivery(ctx, 1, id)
		if err != nil || d.Status != status || (status != otw.DeliveryPending) != (len(d.Attempts) == 1) {
			t.Fatalf("%s after the migration: %+v, %v", id, d, err)
		}
	}
	// The key of the migrated event is still remembered.
	repeat := eventAt(2, "", now)
	repeat.IdempotencyKey, repeat.Body = "key-1", []byte(`{"n":5}`)
	if in, _, err := s.InsertEvents(ctx, []otw.Event{repeat}, now, store.Take{}); err != nil || !in[0].Existing || in[0].EventID != "evt_unrouted" {
		t.Fatalf("a repeated publish after the migration: %+v, %v; want the old event", in, err)
	}
	// The pending delivery is claimed, alone (the one behind it waits),
	// and delivered; then the one behind it.
	claimOne := func(want string) store.Claimed {
		t.Helper()
		c, err := s.ClaimDeliveries(ctx, store.ClaimParams{Now: now.Add(time.Second), LeaseUntil: now.Add(time.Minute), Limit: 10, PerOrganization: 10})
		if err != nil || len(c) != 1 || c[0].DeliveryID != want || string(c[0].Body) == "" {
			t.Fatalf("claim after the migration: %+v, %v; want %s alone", c, err, want)
		}
		code := 200
		if _, err := s.CompleteAttempts(ctx, store.Completion{Results: []store.AttemptResult{{Lease: c[0].Lease, OrganizationID: 1, Status: otw.DeliverySucceeded,
			Attempt: otw.Attempt{N: 1, StartedAt: now, DurationMs: 5, StatusCode: &code}}}}); err != nil {
			t.Fatal(err)
		}
		return c[0]
	}
	claimOne("dlv_pending")
	claimOne("dlv_behind")
	if d, err := s.GetDelivery(ctx, 1, "dlv_pending"); err != nil || d.Status != otw.DeliverySucceeded || len(d.Attempts) != 1 {
		t.Fatalf("the migrated pending delivery once delivered: %+v, %v", d, err)
	}
	// New rows follow the old ones.
	in := insert(t, s, eventAt(1, "", now))
	var seq int64
	if err := conn.QueryRow(ctx, `SELECT seq FROM deliveries WHERE id = $1`, in[0].DeliveryID).Scan(&seq); err != nil || seq <= 4 {
		t.Fatalf("a new delivery's seq is %d (%v), want after the migrated ones", seq, err)
	}
}

// statements records what the store's connections run.
type statements struct {
	mu  sync.Mutex
	ran []ranStatement
}

type ranStatement struct {
	sql  string
	args []any
}

func (r *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ran = append(r.ran, ranStatement{d.SQL, d.Args})
	return ctx
}

func (*statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *statements) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (r *statements) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ran = append(r.ran, ranStatement{d.SQL, d.Args})
}

func (*statements) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// during returns the statements that fn ran.
func (r *statements) during(fn func()) []ranStatement {
	r.mu.Lock()
	r.ran = nil
	r.mu.Unlock()
	fn()
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ran)
}

// A delivery is found by its seq and its partition key on the hot paths:
// the claim's lease and its read of the event, the outcome's update and the
// attempt's insert each touch one partition of their table, however many
// there are. Each statement that a call ran is run again under EXPLAIN
// ANALYZE (in a transaction rolled back), and the partitions it read are
// counted.
func TestHotStatementsTouchOnePartition(t *testing.T) {
	t.Parallel()
	url := newSchema(t)
	trace := &statements{}
	s := openWidth(t, url, time.Hour, postgres.WithQueryTracer(trace))
	conn := connect(t, url)
	ctx := context.Background()
	newOrg(t, s, 1)
	start := time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)
	for h := range 4 {
		if err := s.Maintain(ctx, start.Add(time.Duration(h)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	// Deliveries done in every partition, a few thousand, analyzed, so
	// that the plans are those of tables with rows.
	for h := range 6 {
		at := start.Add(time.Duration(h) * time.Hour)
		for range 4 {
			events := make([]otw.Event, 500)
			for i := range events {
				events[i] = eventAt(1, "", at)
			}
			if _, _, err := s.InsertEvents(ctx, events, at, store.Take{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := conn.Exec(ctx, `UPDATE deliveries SET status = 'succeeded', next_attempt_at = NULL`); err != nil {
		t.Fatal(err)
	}
	mid := start.Add(2*time.Hour + time.Minute)
	in, _, err := s.InsertEvents(ctx, []otw.Event{eventAt(1, "m:1", mid)}, mid, store.Take{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `ANALYZE events; ANALYZE deliveries; ANALYZE attempts`); err != nil {
		t.Fatal(err)
	}

	now := start.Add(5 * time.Hour)
	var claimed []store.Claimed
	claim := trace.during(func() {
		var err error
		claimed, err = s.ClaimDeliveries(ctx, store.ClaimParams{Now: now, LeaseUntil: now.Add(time.Minute), Limit: 10, PerOrganization: 10})
		if err != nil || len(claimed) != 1 || claimed[0].DeliveryID != in[0].DeliveryID {
			t.Fatalf("claim: %+v, %v", claimed, err)
		}
	})
	code := 500
	result := store.AttemptResult{Lease: claimed[0].Lease, OrganizationID: 1, Status: otw.DeliveryPending, NextAttemptAt: now.Add(time.Minute),
		Attempt: otw.Attempt{N: 1, StartedAt: now, DurationMs: 5, StatusCode: &code}}
	complete := trace.during(func() {
		if _, err := s.CompleteAttempts(ctx, store.Completion{Results: []store.AttemptResult{result}}); err != nil {
			t.Fatal(err)
		}
	})
	// The ANALYZE runs each statement again, on the rows as they were
	// when the call ran it: the delivery not leased before the claim,
	// leased before the outcome, without an attempt.
	state := `UPDATE deliveries SET status = 'pending', next_attempt_at = ` + fmt.Sprint(mid.UnixMilli()) + `, lease_until = `
	unleased, leased := state+`NULL`, state+fmt.Sprint(claimed[0].LeaseUntil.UnixMilli())
	where := ` WHERE id = '` + in[0].DeliveryID + `'`

	scan := regexp.MustCompile(`Scan(?: using \S+)? on ((?:events|deliveries|attempts)_\w+)`)
	// read returns the partitions whose rows the statement looked up by
	// the partition key of a row of its own (key: how its plan names that
	// key, as "picked.event_created_at"), and the plan.
	read := func(before string, st ranStatement, key string) ([]string, string) {
		t.Helper()
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, before); err != nil {
			t.Fatal(err)
		}
		rows, err := tx.Query(ctx, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) "+st.sql, append([]any{pgx.QueryExecModeExec}, st.args...)...)
		if err != nil {
			t.Fatalf("%s: %v", st.sql, err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		var touched []string
		for i, line := range lines {
			m := scan.FindStringSubmatch(line)
			if m == nil || strings.Contains(line, "never executed") || i+1 == len(lines) || !strings.Contains(lines[i+1], key) {
				continue
			}
			touched = append(touched, m[1])
		}
		return touched, strings.Join(lines, "\n")
	}
	find := func(ran []ranStatement, fragment string) ranStatement {
		t.Helper()
		for _, st := range ran {
			if strings.Contains(st.sql, fragment) {
				return st
			}
		}
		t.Fatalf("no statement with %q ran", fragment)
		return ranStatement{}
	}
	for _, c := range []struct {
		what, before string
		statement    ranStatement
		key          string
	}{
		{"the claim's lease", unleased, find(claim, "UPDATE deliveries d SET lease_until"), "picked.event_created_at"},
		{"the claim's read of the event", unleased, find(claim, "UPDATE deliveries d SET lease_until"), "l.event_created_at"},
		{"the outcome", leased, find(complete, "UPDATE deliveries d SET status"), "r.event_created_at"},
		{"the attempt", leased, find(complete, "INSERT INTO attempts"), "u.event_created_at"},
	} {
		touched, plan := read(c.before+where, c.statement, c.key)
		if len(touched) != 1 {
			t.Errorf("%s reads %v, want one partition:\n%s", c.what, touched, plan)
		}
	}
}
