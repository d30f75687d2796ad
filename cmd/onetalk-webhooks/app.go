package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/onetalk/onetalk-webhooks/internal/api"
	"github.com/onetalk/onetalk-webhooks/internal/delivery"
	"github.com/onetalk/onetalk-webhooks/internal/ingest"
	"github.com/onetalk/onetalk-webhooks/internal/metrics"
	"github.com/onetalk/onetalk-webhooks/internal/netguard"
	"github.com/onetalk/onetalk-webhooks/internal/reqlog"
	"github.com/onetalk/onetalk-webhooks/internal/retention"
	"github.com/onetalk/onetalk-webhooks/internal/seal"
	"github.com/onetalk/onetalk-webhooks/internal/service"
	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/postgres"
	"github.com/onetalk/onetalk-webhooks/internal/store/sqlite"
	"github.com/onetalk/onetalk-webhooks/internal/tracing"
	"github.com/onetalk/onetalk-webhooks/internal/ui"
	"github.com/onetalk/onetalk-webhooks/internal/web"
)

// app is the service wired together: what serve runs and bench measures.
type app struct {
	cfg        config
	log        *slog.Logger
	store      store.Store
	dispatcher *delivery.Dispatcher
	metrics    *metrics.Metrics
	committer  *ingest.Committer
	handler    http.Handler
	// tracer is nil unless OTEL_EXPORTER_OTLP_ENDPOINT (or its traces
	// variant) is set; stopTracing exports the spans still buffered.
	tracer      trace.Tracer
	stopTracing func(context.Context) error

	adminToken          string
	adminTokenGenerated bool
}

func newApp(ctx context.Context, cfg config, log *slog.Logger) (*app, error) {
	schedule, err := delivery.ParseSchedule(cfg.retrySchedule)
	if err != nil {
		return nil, err
	}
	key, err := secretKey(cfg)
	if err != nil {
		return nil, err
	}
	box, err := seal.New(key)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: log}
	if a.tracer, a.stopTracing, err = tracing.FromEnv(ctx); err != nil {
		return nil, err
	}
	if a.tracer != nil {
		log.Info("tracing: exporting spans with OTLP over HTTP")
	}
	if a.adminToken, a.adminTokenGenerated, err = adminToken(cfg); err != nil {
		return nil, err
	}
	if err := a.openStore(ctx); err != nil {
		return nil, err
	}
	if err := checkSecretKey(ctx, cfg, a.store, box); err != nil {
		a.close()
		return nil, err
	}
	warnAdminTokenFile(cfg, log)
	if err := setupOps(ctx, cfg, a.store, box); err != nil {
		a.close()
		return nil, err
	}

	a.metrics = metrics.New(func() int { return a.dispatcher.Claimed() }, a.store.CountPending)
	guard := &netguard.Guard{AllowPrivate: cfg.allowPrivate}
	a.dispatcher = delivery.New(delivery.Config{
		Store:         a.store,
		OpenSecret:    box.Open,
		Client:        delivery.NewClient(guard.DialContext),
		Schedule:      schedule,
		Timeout:       cfg.deliveryTimeout,
		ShutdownGrace: cfg.shutdownGrace,
		Workers:       cfg.maxInFlight,
		PerWebhook:    cfg.perWebhook,
		DisableAfter:  cfg.disableAfter,
		Logger:        log,
		Metrics:       a.metrics,
		Tracer:        a.tracer,
		Ops:           cfg.opsURL != "",
	})
	a.committer = ingest.New(a.store, ingest.Options{Handoff: a.dispatcher})
	mux := http.NewServeMux()
	// One Service does what the API and the UI offer, on the same
	// committer, metrics and dispatcher.
	svc := service.New(service.Config{
		Store: a.store, Insert: a.committer.Insert, Box: box, AdminTokenHash: service.HashToken(a.adminToken),
		AllowPrivate: cfg.allowPrivate, RotationOverlap: cfg.rotationOverlap,
		Retention: cfg.retention, Metrics: a.metrics, Logger: log,
	})
	failures := &web.FailureLimiter{} // one count of guesses for the API and the UI
	api.New(api.Config{Service: svc, Failures: failures, Logger: log, Tracer: a.tracer}).Register(mux)
	mux.Handle("GET /metrics", a.metrics.Handler())
	pages, err := ui.New(ui.Config{
		Service: svc, Failures: failures, Logger: log,
		// Derived from the secret key, so every node accepts every
		// node's session cookie.
		SessionKey: ui.SessionKeyFrom(key),
		PublicURL:  cfg.publicURL,
	})
	if err != nil {
		a.close()
		return nil, err
	}
	pages.Register(mux)
	a.handler = reqlog.Middleware(mux)
	return a, nil
}

func (a *app) openStore(ctx context.Context) error {
	if path := a.cfg.sqlitePath(); path != "" {
		st, err := sqlite.Open(ctx, path)
		a.store = st
		return err
	}
	st, err := postgres.Open(ctx, a.cfg.db, postgres.WithPartitionWidth(a.cfg.partitionWidth), postgres.WithLogger(a.log))
	if err != nil {
		return err
	}
	a.store = st
	return nil
}

// run serves ln and delivers until ctx ends, then shuts down within the
// grace period: no new requests, in-flight deliveries finish or are given
// back, every outcome written.
func (a *app) run(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	dctx, stopDispatch := context.WithCancel(ctx)
	defer stopDispatch()
	dispatched := a.work(dctx)
	if a.cfg.pprofAddr != "" {
		go a.servePprof(dctx)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	var err error
	select {
	case err = <-served:
	case <-ctx.Done():
		a.log.Info("shutting down: no new deliveries; in-flight ones may finish", "grace", a.cfg.shutdownGrace)
	}
	// The API and the dispatcher stop side by side, each within the
	// grace: the dispatcher's Run is bounded whatever the receivers and
	// the database do, and Shutdown gives up on handlers at the deadline.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.shutdownGrace)
	defer cancel()
	stopDispatch()
	shut := make(chan struct{})
	go func() { _ = srv.Shutdown(sctx); close(shut) }()
	derr := <-dispatched
	<-shut
	// The last attempts' spans go out within what is left of the grace.
	if terr := a.shutdownTracing(sctx); terr != nil {
		a.log.Warn("tracing: exporting the last spans failed", "err", terr)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, derr)
}

// closeTimeout bounds closing the committer and the store at exit: with
// the database gone, a publish still in its insert must not hold the
// process.
const closeTimeout = 300 * time.Millisecond

// work starts what runs beside the API until ctx ends: the dispatcher
// (its Run's result comes on the channel; it listens to the store's
// announcements itself) and retention. serve and bench both run it, so bench measures what
// serve does.
func (a *app) work(ctx context.Context) <-chan error {
	dispatched := make(chan error, 1)
	go func() { dispatched <- a.dispatcher.Run(ctx) }()
	go retention.Run(ctx, retention.Config{Store: a.store, Window: a.cfg.retention, Logger: a.log})
	return dispatched
}

func (a *app) close() {
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		if a.committer != nil {
			a.committer.Close()
		}
		if a.store != nil {
			a.store.Close()
		}
	}()
	select {
	case <-closed:
	case <-time.After(closeTimeout):
		a.log.Warn("closing the database did not finish; exiting anyway", "after", closeTimeout)
	}
}

// secretKey returns the key that seals signing secrets: the given key, or
// on SQLite a key generated once beside the database file. Several nodes
// on PostgreSQL must share one key, so there it must be given.
func secretKey(cfg config) ([]byte, error) {
	if cfg.secretKey != "" {
		return seal.ParseKey(cfg.secretKey)
	}
	if cfg.sqlitePath() == "" {
		return nil, errors.New("--secret-key (OTW_SECRET_KEY) is required with PostgreSQL: every node must use the same key (make one with: head -c32 /dev/urandom | base64)")
	}
	if err := os.MkdirAll(filepath.Dir(cfg.sqlitePath()), 0o755); err != nil {
		return nil, err
	}
	return seal.LoadOrCreateKeyFile(secretKeyPath(cfg))
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
		return "", false, errors.New("--admin-token (OTW_ADMIN_TOKEN) is required with PostgreSQL: every node must accept the same token")
	}
	path := adminTokenPath(cfg)
	saved, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(saved)), false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", false, err
	}
	b := make([]byte, 32)
	rand.Read(b) // never fails: see "Randomness cannot fail" in docs/design.md
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

// servePprof serves Go's profiler on its own address, apart from the API,
// so that it can stay on a local interface.
func (a *app) servePprof(ctx context.Context) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	// No /debug/pprof/cmdline: the command line may hold --admin-token or
	// --secret-key.
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: a.cfg.pprofAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); srv.Close() }()
	a.log.Info("profiler listening", "addr", a.cfg.pprofAddr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		a.log.Error("profiler stopped", "err", err)
	}
}

// shutdownTracing exports the spans still buffered, if tracing is on.
func (a *app) shutdownTracing(ctx context.Context) error {
	if a.stopTracing == nil {
		return nil
	}
	return a.stopTracing(ctx)
}
