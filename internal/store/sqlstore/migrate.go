package sqlstore

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migration is one numbered schema change, read from a driver's embedded
// migrations folder (files named like 001_init.sql).
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// LoadMigrations reads every NNN_name.sql file of fsys in version order.
// Each driver keeps its own dialect's files; the numbering, the reading and
// the bookkeeping (Migrate) are the same for all.
func LoadMigrations(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, name := range names {
		num, _, ok := strings.Cut(path.Base(name), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %q: name must start with a number and an underscore", name)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("migrations %q and %q share version %d", ms[i-1].Name, ms[i].Name, ms[i].Version)
		}
	}
	return ms, nil
}

// recordMigration records a migration as applied, unless it is recorded
// already: then it changes no row.
const recordMigration = `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)
	ON CONFLICT (version) DO NOTHING`

// Migrate brings a schema up to date with the migrations of fsys (see
// LoadMigrations). It makes the bookkeeping table schema_migrations with
// createTable, the dialect's statement for it (columns version, name and
// applied_at), then applies in version order each migration not recorded
// there, in a transaction of its own (tx) that records it first: a
// migration is applied whole or not at all, and once. Several nodes
// starting together must not run Migrate at the same time: the driver
// serializes them (PostgreSQL holds a lock around it), and exec in tx
// must take a migration file of several statements.
func Migrate(ctx context.Context, fsys fs.FS, createTable string, tx func(context.Context, func(Querier) error) error) error {
	ms, err := LoadMigrations(fsys)
	if err != nil {
		return err
	}
	err = tx(ctx, func(q Querier) error {
		_, err := q.Exec(ctx, createTable)
		return err
	})
	if err != nil {
		return fmt.Errorf("migrations table: %w", err)
	}
	for _, m := range ms {
		err := tx(ctx, func(q Querier) error {
			recorded, err := q.Exec(ctx, recordMigration, m.Version, m.Name, time.Now().UnixMilli())
			if err != nil || recorded == 0 {
				return err
			}
			_, err = q.Exec(ctx, m.SQL)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	return nil
}
