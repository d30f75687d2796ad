package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/postgres"
)

// An insert that takes deliveries asks, for each candidate, whether a
// delivery of its order key is pending. That probe must read
// deliveries_order (one entry), never every pending delivery of the
// organization through deliveries_due or deliveries_log_status: on tables
// without statistics (a server with autovacuum off, or one just filled)
// the planner cannot tell those apart by cost, and the wrong one made a
// batched publish of 100,000 events 3-8x slower. The statement is cached,
// so its generic plan, made while the tables may be empty, must be right
// as well as a plan for today's sizes.
func TestInsertProbesTheOrderIndex(t *testing.T) {
	url := newSchema(t)
	s := open(t, url)
	newOrg(t, s, 1)
	conn := connect(t, url)
	wantOrderIndex(t, conn, "generic plan, empty tables", "force_generic_plan")
	fill(t, s, 0, 60, t0)
	wantOrderIndex(t, conn, "generic plan, 30,000 pending", "force_generic_plan")
	wantOrderIndex(t, conn, "custom plan, 30,000 pending", "force_custom_plan")
}

func wantOrderIndex(t *testing.T, conn *pgx.Conn, what, mode string) {
	t.Helper()
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "SET plan_cache_mode = "+mode); err != nil {
		t.Fatal(err)
	}
	plan := explain(t, conn, conn, "EXPLAIN "+postgres.InsertEventsQuery, pgx.QueryExecModeExec,
		[]string{"evt_plan"}, []int64{1}, []string{"case_resolved"}, []string{"m:0-1"}, [][]byte{[]byte("{}")},
		[]*string{nil}, []int64{0}, []string{"dlv_plan"}, []string{"pending"}, []int64{0}, []string{""},
		int64(0), []bool{true}, int64(1), []int64{1}, []int32{1}, []string(nil))
	if strings.Contains(plan, "deliveries_due") || strings.Contains(plan, "deliveries_log") || !strings.Contains(plan, "deliveries_order") {
		t.Fatalf("%s: the first-in-line probe does not read deliveries_order alone:\n%s", what, plan)
	}
}

// fill inserts rounds batches of 500 events of organization 1, created at
// createdAt, each with a delivery pending under an order key of its own
// (m:<round>-<i>, from round first on).
func fill(t *testing.T, s store.Store, first, rounds int, createdAt time.Time) {
	t.Helper()
	for round := first; round < first+rounds; round++ {
		events := make([]otw.Event, 0, 500)
		for i := range 500 {
			e := newEvent(1, "case_resolved", fmt.Sprintf("m:%d-%d", round, i))
			e.CreatedAt = createdAt
			events = append(events, e)
		}
		insert(t, s, events...)
	}
}

// preparedByIndex opens a transaction on conn (rolled back when t ends)
// with the planner settings the store sends before the statement
// (PlannedByIndex), and prepares it there: the first EXPLAIN EXECUTE in tx
// makes the plan the connection then keeps.
func preparedByIndex(t *testing.T, conn *pgx.Conn, prepare string) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback(ctx) })
	for _, q := range []string{postgres.PlannedByIndex, prepare} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return tx
}

// cacheGenericPlan prepares a statement on conn and has PostgreSQL make and
// cache its generic plan now, by running execute (an EXPLAIN EXECUTE of
// it) once: as PostgreSQL's choice comes to after five runs, the plan
// every later run uses.
func cacheGenericPlan(t *testing.T, conn *pgx.Conn, prepare, execute string) {
	t.Helper()
	for _, q := range []string{prepare, "SET plan_cache_mode = force_generic_plan", execute} {
		if _, err := conn.Exec(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
}

// explain runs an EXPLAIN through q (the connection conn, or a transaction
// on it) and returns the plan in the migrations' index names.
func explain(t *testing.T, conn *pgx.Conn, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, sql string, args ...any) string {
	t.Helper()
	rows, err := q.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return parentIndexNames(t, conn).Replace(strings.Join(lines, "\n"))
}

// parentIndexNames replaces, in a plan, the name of each index of a
// partition with the name of the partitioned table's index it is part of
// (deliveries_order, not deliveries_1735689600000_organization_id_…_idx),
// so that a plan reads in the names the migrations give.
func parentIndexNames(t *testing.T, conn *pgx.Conn) *strings.Replacer {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT c.relname::text, p.relname::text
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
		WHERE c.relkind = 'i' AND c.relnamespace = current_schema()::regnamespace
		ORDER BY length(c.relname) DESC`)
	if err != nil {
		t.Fatal(err)
	}
	var pairs []string
	var child, parent string
	if _, err := pgx.ForEachRow(rows, []any{&child, &parent}, func() error {
		pairs = append(pairs, child, parent)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer(pairs...)
}

// An outcome's write asks, for each attempt, whether it is stored already
// (a write repeated after its commit's answer was lost). That must be one
// lookup of attempts_delivery per attempt, on empty tables as on full ones
// and in the cached generic plan as in a custom one: a plan that scans
// attempts makes every write cost as much as all the attempts stored
// before it.
func TestAttemptsProbeTheirIndex(t *testing.T) {
	url := newSchema(t)
	open(t, url)
	conn := connect(t, url)
	// Today's partitions, made by open, as a running service writes to.
	now := time.Now()
	for _, mode := range []string{"force_generic_plan", "force_custom_plan"} {
		wantAttemptsIndex(t, conn, now, "empty tables", mode)
	}
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `INSERT INTO attempts (delivery_seq, event_created_at, n, started_at, duration_ms)
		SELECT s, $1, 1, $1, 3 FROM generate_series(1, 30000) AS s`, now.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"force_generic_plan", "force_custom_plan"} {
		wantAttemptsIndex(t, conn, now, "30,000 attempts", mode)
	}
}

func wantAttemptsIndex(t *testing.T, conn *pgx.Conn, now time.Time, what, mode string) {
	t.Helper()
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "SET plan_cache_mode = "+mode); err != nil {
		t.Fatal(err)
	}
	// A write's worth of attempts: a custom plan sees how many.
	const n = 64
	seqs, nums, started, durations, codes := make([]int64, n), make([]int32, n), make([]int64, n), make([]int64, n), make([]*int, n)
	texts, bodies := make([]string, n), make([][]byte, n)
	for i := range n {
		seqs[i], nums[i], started[i], durations[i] = int64(i+1), 1, now.UnixMilli(), 3
	}
	plan := explain(t, conn, conn, "EXPLAIN "+postgres.InsertAttemptsQuery, pgx.QueryExecModeExec,
		seqs, nums, started, durations, codes, texts, bodies, texts, started)
	if strings.Contains(plan, "Seq Scan on attempts") || !strings.Contains(plan, "attempts_delivery") {
		t.Fatalf("%s, %s: the stored-already probe does not look attempts up by attempts_delivery:\n%s", what, mode, plan)
	}
}

// An outcome's write finds each delivery by its primary key, however few
// rows the tables held when its connection made the statement's plan. The
// write has it planned once per connection (PlannedByIndex: a generic plan,
// made with hash and merge joins and sequential scans off), so here that
// plan is made while the tables are small, as a connection makes it at its
// first write to a new database, and must still look the deliveries up by
// primary key once 30,000 are stored and no statistics gathered. The plan
// PostgreSQL makes there by default joins the outcomes to every delivery by
// a sequential scan.
func TestOutcomesLookUpTheirRows(t *testing.T) {
	url := newSchema(t)
	s := open(t, url)
	newOrg(t, s, 1)
	conn := connect(t, url)
	now := time.Now()
	// 64 outcomes, as SQL literals: EXPLAIN EXECUTE takes no parameters.
	var seqs, times, statuses, nums, nulls, texts []string
	for i := range 64 {
		seqs, times = append(seqs, fmt.Sprint(i+1)), append(times, fmt.Sprint(now.UnixMilli()))
		statuses, nums, nulls, texts = append(statuses, "succeeded"), append(nums, "1"), append(nulls, "NULL"), append(texts, `""`)
	}
	arr := func(xs []string, typ string) string { return "'{" + strings.Join(xs, ",") + "}'::" + typ }
	execute := "EXPLAIN EXECUTE outcomes(" + strings.Join([]string{arr(seqs, "bigint[]"), arr(times, "bigint[]"), arr(statuses, "text[]"),
		arr(nums, "int[]"), arr(nulls, "bigint[]"), arr(nulls, "int[]"), arr(texts, "text[]"), arr(nulls, "bigint[]"),
		arr(times, "bigint[]"), arr(times, "bigint[]")}, ", ") + ")"
	fill(t, s, 0, 4, now) // a new database's first minutes
	tx := preparedByIndex(t, conn,
		"PREPARE outcomes(bigint[], bigint[], text[], int[], bigint[], int[], text[], bigint[], bigint[], bigint[]) AS "+postgres.OutcomesQuery)
	check := func(when string) {
		t.Helper()
		plan := explain(t, conn, tx, execute, pgx.QueryExecModeSimpleProtocol)
		if strings.Contains(plan, "Seq Scan on deliveries") || !strings.Contains(plan, "deliveries_pkey") {
			t.Fatalf("%s: the outcomes' write does not find its deliveries by primary key:\n%s", when, plan)
		}
	}
	check("2,000 deliveries") // the plan is made and cached here
	fill(t, s, 4, 56, now)
	check("30,000 deliveries")
}

// The completion's hand-off finds each key's next delivery through
// deliveries_order, and leases it by primary key, with the generic plan it
// keeps (it runs on its own, after the commit): here that plan is cached while the
// tables are empty, as a connection caches it on a new database, and must
// still probe the index once 30,000 deliveries are stored and no
// statistics gathered.
func TestNextOfKeysProbesTheOrderIndex(t *testing.T) {
	url := newSchema(t)
	s := open(t, url)
	newOrg(t, s, 1)
	conn := connect(t, url)
	now := time.Now().UnixMilli()
	execute := fmt.Sprintf(`EXPLAIN EXECUTE next_of_keys(%d, '{1,1}'::bigint[], '{"m:1-1","m:2-2"}'::text[], %d)`, now, now+30000)
	cacheGenericPlan(t, conn, "PREPARE next_of_keys(bigint, bigint[], text[], bigint) AS "+postgres.NextOfKeysQuery, execute)
	fill(t, s, 0, 60, time.Now())
	plan := explain(t, conn, conn, execute, pgx.QueryExecModeSimpleProtocol)
	if strings.Contains(plan, "Seq Scan on deliveries") || !strings.Contains(plan, "deliveries_order") ||
		strings.Contains(plan, "deliveries_due") || !strings.Contains(plan, "deliveries_pkey") {
		t.Fatalf("the hand-off does not probe deliveries_order for each key and lease by primary key:\n%s", plan)
	}
}

// The question an insert asks after its commit, whether what waited still
// waits, probes deliveries_order once per key, with the plan its connection
// makes once (PlannedByIndex): here made while the tables are small, and
// used again once 30,000 deliveries are pending without statistics.
func TestStillWaitsProbesTheOrderIndex(t *testing.T) {
	url := newSchema(t)
	s := open(t, url)
	newOrg(t, s, 1)
	conn := connect(t, url)
	tx := preparedByIndex(t, conn, "PREPARE still(bigint[], text[], text[]) AS "+postgres.StillWaitsQuery)
	execute := `EXPLAIN EXECUTE still('{1,1}'::bigint[], '{"m:0-1","m:0-2"}'::text[], '{"dlv_a","dlv_b"}'::text[])`
	check := func(when string) {
		t.Helper()
		plan := explain(t, conn, tx, execute, pgx.QueryExecModeSimpleProtocol)
		if strings.Contains(plan, "Seq Scan on deliveries") || strings.Contains(plan, "deliveries_due") || !strings.Contains(plan, "deliveries_order") {
			t.Fatalf("%s: the question does not probe deliveries_order:\n%s", when, plan)
		}
	}
	check("empty tables") // the plan is made and cached here
	fill(t, s, 0, 60, t0)
	check("30,000 pending")
}
