package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // to read dbstat from the bench's file
)

// relSize is one table's or index's size on disk.
type relSize struct {
	name, kind string // kind: "table" or "index"
	bytes      int64
}

// printSizes prints each table's and index's size per event, so that disk
// per day can be modelled from a run (docs/capacity.md). SQLite: the dbstat
// virtual table (pages in use per b-tree, WAL included as SQLite sees it);
// PostgreSQL: pg_table_size (heap, TOAST, free-space and visibility maps)
// per table and pg_relation_size per index.
func printSizes(ctx context.Context, w io.Writer, cfg config, events int) error {
	var rels []relSize
	var err error
	if path := cfg.sqlitePath(); path != "" {
		rels, err = sqliteSizes(ctx, path)
	} else {
		rels, err = postgresSizes(ctx, cfg.db)
	}
	if err != nil {
		return fmt.Errorf("bench: sizes: %w", err)
	}
	var tables, indexes int64
	fmt.Fprintf(w, "\n%-36s %-6s %14s %10s\n", "table / index", "kind", "bytes", "per event")
	for _, r := range rels {
		fmt.Fprintf(w, "%-36s %-6s %14d %10.1f\n", r.name, r.kind, r.bytes, float64(r.bytes)/float64(events))
		if r.kind == "table" {
			tables += r.bytes
		} else {
			indexes += r.bytes
		}
	}
	fmt.Fprintf(w, "%-36s %-6s %14d %10.1f\n", "all tables", "", tables, float64(tables)/float64(events))
	fmt.Fprintf(w, "%-36s %-6s %14d %10.1f\n", "all indexes", "", indexes, float64(indexes)/float64(events))
	return nil
}

func sqliteSizes(ctx context.Context, path string) ([]relSize, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT d.name, coalesce(m.type, 'table'), sum(d.pgsize)
		FROM dbstat d LEFT JOIN sqlite_schema m ON m.name = d.name
		GROUP BY d.name ORDER BY coalesce(m.tbl_name, d.name), m.type DESC, d.name`)
	if err != nil {
		return nil, fmt.Errorf("dbstat (is it compiled in?): %w", err)
	}
	defer rows.Close()
	var out []relSize
	for rows.Next() {
		var r relSize
		if err := rows.Scan(&r.name, &r.kind, &r.bytes); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func postgresSizes(ctx context.Context, db string) ([]relSize, error) {
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT c.relname,
			CASE c.relkind WHEN 'i' THEN 'index' ELSE 'table' END,
			CASE c.relkind WHEN 'i' THEN pg_relation_size(c.oid) ELSE pg_table_size(c.oid) END
		FROM pg_class c
		JOIN pg_namespace ns ON ns.oid = c.relnamespace
		LEFT JOIN pg_index x ON x.indexrelid = c.oid
		LEFT JOIN pg_class t ON t.oid = x.indrelid
		WHERE ns.nspname = current_schema() AND c.relkind IN ('r', 'i')
		ORDER BY coalesce(t.relname, c.relname), c.relkind DESC, c.relname`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []relSize
	for rows.Next() {
		var r relSize
		if err := rows.Scan(&r.name, &r.kind, &r.bytes); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
