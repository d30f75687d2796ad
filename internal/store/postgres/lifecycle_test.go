package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/onetalk/onetalk-webhooks/internal/store/storetest"
)

// Deleting an organization leaves no row of it in any table: every table
// of the schema is read, by its organization column or, for attempts, by
// the delivery they belong to.
func TestDeleteOrganizationLeavesNoRowInAnyTable(t *testing.T) {
	schemaURL := newSchema(t)
	s := open(t, schemaURL)
	storetest.Populate(t, s, 1001)
	storetest.Populate(t, s, 1002)
	if err := s.DeleteOrganization(t.Context(), 1001); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn := connect(t, schemaURL)
	u, _ := url.Parse(schemaURL)
	// A partitioned table is read whole: its partitions are not tables of
	// their own here.
	rows, err := conn.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
		JOIN pg_class c ON c.relname = table_name AND c.relnamespace = table_schema::regnamespace
		WHERE table_schema = lower($1) AND NOT c.relispartition
		  AND (column_name = 'organization_id' OR (table_name = 'organizations' AND column_name = 'id'))`,
		u.Query().Get("search_path"))
	if err != nil {
		t.Fatal(err)
	}
	type col struct{ Table, Column string }
	cols, err := pgx.CollectRows(rows, pgx.RowToStructByPos[col])
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cols {
		var mine, others int
		conn.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FILTER (WHERE %[2]s = 1001), count(*) FILTER (WHERE %[2]s = 1002) FROM %[1]s`,
			pgx.Identifier{c.Table}.Sanitize(), pgx.Identifier{c.Column}.Sanitize())).Scan(&mine, &others)
		if mine != 0 || others == 0 {
			t.Errorf("table %s: %d rows of the deleted organization, %d of the other; want 0 and some", c.Table, mine, others)
		}
	}
	var orphans int
	conn.QueryRow(ctx, `SELECT count(*) FROM attempts a WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.seq = a.delivery_seq)`).Scan(&orphans)
	if orphans != 0 {
		t.Errorf("%d attempts of deleted deliveries left", orphans)
	}
	if len(cols) < 5 {
		t.Fatalf("only %d tables have an organization column; the check reads nothing", len(cols))
	}
}
