package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
)

// migrate opens the database, which applies every pending migration.
func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg config
	fs := cfg.flags("migrate", stderr)
	if err := cfg.parse(fs, args); err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "migrations applied to", redactDB(cfg.db))
	return st.Close()
}

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }
