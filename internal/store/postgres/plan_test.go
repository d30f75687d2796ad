package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
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
	for round := range 60 {
		events := make([]otw.Event, 0, 500)
		for i := range 500 {
			events = append(events, newEvent(1, "case_resolved", fmt.Sprintf("m:%d-%d", round, i)))
		}
		insert(t, s, events...)
	}
	wantOrderIndex(t, conn, "generic plan, 30,000 pending", "force_generic_plan")
	wantOrderIndex(t, conn, "custom plan, 30,000 pending", "force_custom_plan")
}

func wantOrderIndex(t *testing.T, conn *pgx.Conn, what, mode string) {
	t.Helper()
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "SET plan_cache_mode = "+mode); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, "EXPLAIN "+postgres.InsertEventsQuery, pgx.QueryExecModeExec,
		[]string{"evt_plan"}, []int64{1}, []string{"case_resolved"}, []string{"m:0-1"}, [][]byte{[]byte("{}")},
		[]*string{nil}, []int64{0}, []string{"dlv_plan"}, []string{"pending"}, []int64{0}, []string{""},
		int64(0), []bool{true}, int64(1), []int64{1}, []int32{1}, []string(nil))
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	plan := parentIndexNames(t, conn).Replace(strings.Join(lines, "\n"))
	if strings.Contains(plan, "deliveries_due") || strings.Contains(plan, "deliveries_log") || !strings.Contains(plan, "deliveries_order") {
		t.Fatalf("%s: the first-in-line probe does not read deliveries_order alone:\n%s", what, plan)
	}
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
