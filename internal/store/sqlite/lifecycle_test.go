package sqlite_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/onetalk/onetalk-webhooks/internal/store/sqlite"
	"github.com/onetalk/onetalk-webhooks/internal/store/storetest"
)

// Deleting an organization leaves no row of it in any table: every table
// of the file is read, by its organization column or, for attempts, by
// the delivery they belong to.
func TestDeleteOrganizationLeavesNoRowInAnyTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "otw.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	storetest.Populate(t, s, 1001)
	storetest.Populate(t, s, 1002)
	if err := s.DeleteOrganization(t.Context(), 1001); err != nil {
		t.Fatal(err)
	}
	s.Close()

	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tables, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var name string
		tables.Scan(&name)
		names = append(names, name)
	}
	tables.Close()
	checked := 0
	for _, table := range names {
		for _, column := range []string{"organization_id", "id"} {
			if table != "organizations" && column == "id" {
				continue
			}
			var has int
			db.QueryRow(`SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`, table, column).Scan(&has)
			if has == 0 {
				continue
			}
			var mine, others int
			db.QueryRow(fmt.Sprintf(`SELECT count(*) FROM %q WHERE %q = 1001`, table, column)).Scan(&mine)
			db.QueryRow(fmt.Sprintf(`SELECT count(*) FROM %q WHERE %q = 1002`, table, column)).Scan(&others)
			if mine != 0 || others == 0 {
				t.Errorf("table %s: %d rows of the deleted organization, %d of the other; want 0 and some", table, mine, others)
			}
			checked++
		}
	}
	var orphans int
	db.QueryRow(`SELECT count(*) FROM attempts WHERE delivery_seq NOT IN (SELECT seq FROM deliveries)`).Scan(&orphans)
	if orphans != 0 {
		t.Errorf("%d attempts of deleted deliveries left", orphans)
	}
	if checked < 5 {
		t.Fatalf("only %d tables have an organization column; the check reads nothing", checked)
	}
}
