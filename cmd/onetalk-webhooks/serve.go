package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/onetalk/onetalk-webhooks/api"
	"github.com/onetalk/onetalk-webhooks/delivery"
	"github.com/onetalk/onetalk-webhooks/ingest"
	"github.com/onetalk/onetalk-webhooks/netguard"
	"github.com/onetalk/onetalk-webhooks/seal"
	"github.com/onetalk/onetalk-webhooks/store"
	"github.com/onetalk/onetalk-webhooks/store/sqlite"
	"github.com/onetalk/onetalk-webhooks/webhook"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg config
	fs := cfg.flags("serve", stderr)
	if err := cfg.parse(fs, args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	schedule, err := delivery.ParseSchedule(cfg.retrySchedule)
	if err != nil {
		return err
	}

	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	box, err := secretBox(cfg)
	if err != nil {
		return err
	}
	adminToken, generated, err := adminToken(cfg)
	if err != nil {
		return err
	}

	guard := &netguard.Guard{AllowPrivate: cfg.allowPrivate}
	disp := delivery.New(delivery.Config{
		Store: st,
		OpenSecret: func(sealed []byte) ([]byte, error) {
			secret, err := box.Open(sealed)
			if err != nil {
				return nil, err
			}
			return webhook.DecodeSecret(string(secret))
		},
		Client:        delivery.NewClient(guard.DialContext),
		Schedule:      schedule,
		Timeout:       cfg.deliveryTimeout,
		ShutdownGrace: cfg.shutdownGrace,
		Workers:       cfg.maxInFlight,
		PerWebhook:    cfg.perWebhook,
		DisableAfter:  cfg.disableAfter,
		Logger:        log,
	})
	committer := ingest.New(st, nil)
	defer committer.Close()
	mux := http.NewServeMux()
	api.New(api.Config{
		Store: st, Insert: committer.Insert, Box: box, AdminTokenHash: api.HashToken(adminToken), Notify: disp.Notify,
		AllowPrivate: cfg.allowPrivate, RotationOverlap: cfg.rotationOverlap, Logger: log,
	}).Register(mux)

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(stdout, "onetalk-webhooks %s: UI and API on http://%s (database %s)\n", "serving", ln.Addr(), redactDB(cfg.db))
	if generated {
		fmt.Fprintf(stdout, "admin token (saved in %s; shown only now): %s\n", adminTokenPath(cfg), adminToken)
	}

	dispatched := make(chan error, 1)
	dctx, stopDispatch := context.WithCancel(ctx)
	defer stopDispatch()
	go func() { dispatched <- disp.Run(dctx) }()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err = <-served:
	case <-ctx.Done():
		log.Info("shutting down: no new deliveries; in-flight ones may finish", "grace", cfg.shutdownGrace)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.shutdownGrace)
	defer cancel()
	_ = srv.Shutdown(sctx)
	stopDispatch()
	<-dispatched
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func openStore(ctx context.Context, cfg config) (store.Store, error) {
	if path := cfg.sqlitePath(); path != "" {
		return sqlite.Open(ctx, path)
	}
	return nil, errors.New("PostgreSQL is not supported yet; use sqlite:PATH")
}

// secretBox returns the box that seals signing secrets: the given key, or
// on SQLite a key generated once beside the database file.
func secretBox(cfg config) (*seal.Box, error) {
	var key []byte
	var err error
	switch {
	case cfg.secretKey != "":
		key, err = seal.ParseKey(cfg.secretKey)
	case cfg.sqlitePath() != "":
		key, err = seal.LoadOrCreateKeyFile(filepath.Join(filepath.Dir(cfg.sqlitePath()), "secret-key"))
	default:
		err = errors.New("--secret-key (OTW_SECRET_KEY) is required with PostgreSQL: every node must use the same key")
	}
	if err != nil {
		return nil, err
	}
	return seal.New(key)
}

func adminTokenPath(cfg config) string {
	return filepath.Join(filepath.Dir(cfg.sqlitePath()), "admin-token")
}

// adminToken returns the admin token: the given one, or on SQLite the one
// saved beside the database (made at the first start; generated says so).
func adminToken(cfg config) (token string, generated bool, err error) {
	if cfg.adminToken != "" {
		return cfg.adminToken, false, nil
	}
	if cfg.sqlitePath() == "" {
		return "", false, errors.New("--admin-token (OTW_ADMIN_TOKEN) is required with PostgreSQL")
	}
	path := adminTokenPath(cfg)
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", false, err
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token = "ota_" + base64.RawURLEncoding.EncodeToString(b)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", false, err
	}
	if _, err := f.WriteString(token + "\n"); err != nil {
		f.Close()
		return "", false, err
	}
	return token, true, f.Close()
}

// redactDB hides a password in a database URL.
func redactDB(db string) string {
	if u, err := parseURL(db); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			return u.Redacted()
		}
	}
	return db
}
