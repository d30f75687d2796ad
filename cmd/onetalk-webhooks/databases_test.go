package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// database is a backend the end-to-end tests run the service on.
type database struct {
	name string
	// args returns serve's flags for the database kept in dir: the same
	// dir gives the same database, so a restart finds its data.
	args func(t *testing.T, dir string) []string
}

var sqliteDB = database{name: "sqlite", args: func(t *testing.T, dir string) []string {
	return []string{"--db", "sqlite:" + filepath.Join(dir, "otw.db")}
}}

// postgresDB runs the service on a fresh schema of the test database;
// every node of one dir shares the schema, the admin token and the key.
var postgresDB = database{name: "postgres", args: func(t *testing.T, dir string) []string {
	base := os.Getenv("OTW_TEST_POSTGRES_URL")
	schemaFile := filepath.Join(dir, "pg-schema")
	b, err := os.ReadFile(schemaFile)
	if err != nil {
		name := "otw_e2e_" + randomHex(6)
		conn, err := pgx.Connect(context.Background(), base)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "CREATE SCHEMA "+name); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			c, err := pgx.Connect(context.Background(), base)
			if err == nil {
				c.Exec(context.Background(), "DROP SCHEMA "+name+" CASCADE")
				c.Close(context.Background())
			}
		})
		key := make([]byte, 32)
		rand.Read(key)
		b = []byte(name + " ota_" + randomHex(16) + " " + base64.StdEncoding.EncodeToString(key))
		if err := os.WriteFile(schemaFile, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "admin-token"), []byte(strings.Fields(string(b))[1]), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f := strings.Fields(string(b))
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", f[0]) // pgx sends unknown URL parameters as run-time settings
	u.RawQuery = q.Encode()
	return []string{"--db", u.String(), "--admin-token", f[1], "--secret-key", f[2]}
}}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// requirePostgres skips (or, in CI, fails) a test that needs PostgreSQL.
func requirePostgres(t *testing.T) {
	t.Helper()
	if os.Getenv("OTW_TEST_POSTGRES_URL") != "" {
		return
	}
	if os.Getenv("OTW_TEST_REQUIRE_POSTGRES") == "1" {
		t.Fatal("OTW_TEST_REQUIRE_POSTGRES=1 but OTW_TEST_POSTGRES_URL is not set")
	}
	t.Skip("PostgreSQL tests skipped: set OTW_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
}

// eachDB runs test once per database, in parallel.
func eachDB(t *testing.T, test func(t *testing.T, db database)) {
	t.Parallel()
	for _, db := range []database{sqliteDB, postgresDB} {
		t.Run(db.name, func(t *testing.T) {
			if db.name == "postgres" {
				requirePostgres(t)
			}
			t.Parallel()
			test(t, db)
		})
	}
}

// start runs `serve` on db, with the data kept in dir.
func (db database) start(t *testing.T, dir string, args ...string) *server {
	t.Helper()
	return startServer(t, dir, append(db.args(t, dir), args...)...)
}
