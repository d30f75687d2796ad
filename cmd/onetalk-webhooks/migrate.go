package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
)

// migrate opens the database, which applies every pending migration.
func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg config
	fs := cfg.flags("migrate", stderr)
	if err := cfg.parse(fs, args); err != nil {
		return err
	}
	a := &app{cfg: cfg, log: slog.New(slog.NewTextHandler(stderr, nil))}
	if err := a.openStore(ctx); err != nil {
		return err
	}
	defer a.close()
	fmt.Fprintln(stdout, "migrations applied to", redactDB(cfg.db))
	return nil
}
