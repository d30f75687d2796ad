package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg config
	fs := cfg.flags("serve", stderr)
	if err := cfg.parse(fs, args); err != nil {
		return err
	}
	log := cfg.logger(stderr)
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "onetalk-webhooks serving: UI and API on http://%s (database %s)\n", ln.Addr(), redactDB(cfg.db))
	if a.adminTokenGenerated {
		// The one place a secret is ever printed.
		fmt.Fprintf(stdout, "admin token (saved in %s; shown only now): %s\n", adminTokenPath(cfg), a.adminToken)
	}
	return a.run(ctx, ln)
}

// redactDB hides a password in a database URL.
func redactDB(db string) string {
	if u, err := url.Parse(db); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			return u.Redacted()
		}
	}
	return db
}
