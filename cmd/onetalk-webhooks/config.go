package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/delivery"
	"github.com/onetalk/onetalk-webhooks/internal/reqlog"
	"github.com/onetalk/onetalk-webhooks/webhook"
)

// config is serve's configuration: every flag has an environment variable
// and a flag given on the command line wins over it.
type config struct {
	addr            string
	publicURL       string
	db              string
	adminToken      string
	allowPrivate    bool
	retrySchedule   string
	deliveryTimeout time.Duration
	secretKey       string
	shutdownGrace   time.Duration
	maxInFlight     int
	perWebhook      int
	rotationOverlap time.Duration
	disableAfter    time.Duration
	pprofAddr       string
	retention       time.Duration
	partitionWidth  time.Duration
	logFormat       string
	opsURL          string
	opsSecret       string
}

// flagEnv names each flag's environment variable.
var flagEnv = map[string]string{
	"addr":                      "OTW_ADDR",
	"public-url":                "OTW_PUBLIC_URL",
	"db":                        "OTW_DB",
	"admin-token":               "OTW_ADMIN_TOKEN",
	"allow-private-targets":     "OTW_ALLOW_PRIVATE_TARGETS",
	"retry-schedule":            "OTW_RETRY_SCHEDULE",
	"delivery-timeout":          "OTW_DELIVERY_TIMEOUT",
	"secret-key":                "OTW_SECRET_KEY",
	"shutdown-grace":            "OTW_SHUTDOWN_GRACE",
	"max-in-flight":             "OTW_MAX_IN_FLIGHT",
	"max-in-flight-per-webhook": "OTW_MAX_IN_FLIGHT_PER_WEBHOOK",
	"secret-rotation-overlap":   "OTW_SECRET_ROTATION_OVERLAP",
	"disable-after":             "OTW_DISABLE_AFTER",
	"pprof":                     "OTW_PPROF",
	"retention":                 "OTW_RETENTION",
	"partition-width":           "OTW_PARTITION_WIDTH",
	"log-format":                "OTW_LOG_FORMAT",
	"ops-webhook-url":           "OTW_OPS_WEBHOOK_URL",
	"ops-webhook-secret":        "OTW_OPS_WEBHOOK_SECRET",
}

func (c *config) flags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen address of the API and UI")
	fs.StringVar(&c.publicURL, "public-url", "", "the address people open the web UI at (e.g. https://hooks.example.com); https makes session cookies Secure behind a proxy that ends TLS")
	fs.StringVar(&c.db, "db", "sqlite:./data/onetalk-webhooks.db", "database: sqlite:PATH or a postgres:// URL")
	fs.StringVar(&c.adminToken, "admin-token", "", "the platform's admin token; generated and saved beside the SQLite file when empty")
	fs.BoolVar(&c.allowPrivate, "allow-private-targets", false, "allow webhook URLs on loopback and private networks, for local development")
	fs.StringVar(&c.retrySchedule, "retry-schedule", joinDurations(delivery.DefaultSchedule()), "delays between attempts, comma separated Go durations")
	fs.DurationVar(&c.deliveryTimeout, "delivery-timeout", 15*time.Second, "time allowed for one delivery attempt")
	fs.StringVar(&c.secretKey, "secret-key", "", "32-byte key in standard base64 that encrypts signing secrets; generated beside the SQLite file when empty")
	fs.DurationVar(&c.shutdownGrace, "shutdown-grace", 10*time.Second, "on SIGTERM, how long in-flight deliveries may finish")
	fs.IntVar(&c.maxInFlight, "max-in-flight", 256, "delivery requests in flight at once, all webhooks together")
	fs.IntVar(&c.perWebhook, "max-in-flight-per-webhook", 64, "delivery requests in flight at once to one webhook, so a slow endpoint only slows itself")
	fs.DurationVar(&c.rotationOverlap, "secret-rotation-overlap", 24*time.Hour, "after a secret rotation, how long the old secret signs beside the new one")
	fs.DurationVar(&c.disableAfter, "disable-after", 5*24*time.Hour, "disable a webhook that has failed for this long without a success")
	fs.DurationVar(&c.retention, "retention", 720*time.Hour, "how long events, deliveries and attempts are kept (a pending delivery always is); 0 keeps everything")
	fs.DurationVar(&c.partitionWidth, "partition-width", 24*time.Hour, "PostgreSQL: the time one partition of events, deliveries and attempts covers; retention drops a partition whole once all of it is past --retention")
	fs.StringVar(&c.logFormat, "log-format", "text", "log lines as text (key=value) or json (one object per line)")
	fs.StringVar(&c.opsURL, "ops-webhook-url", "", "where the platform gets operational events (webhook.disabled, delivery.exhausted, webhook.recovered); off when empty")
	fs.StringVar(&c.opsSecret, "ops-webhook-secret", "", "the whsec_ secret that signs the operational events; required with --ops-webhook-url")
	fs.StringVar(&c.pprofAddr, "pprof", "", "serve Go's profiler at this address (e.g. 127.0.0.1:6060); off when empty")
	fs.VisitAll(func(f *flag.Flag) {
		if e := flagEnv[f.Name]; e != "" {
			f.Usage += " (" + e + ")"
		}
	})
	return fs
}

// parse applies the environment, then the command line, so a flag wins
// over its variable; a bad value in either is an error naming it.
func (c *config) parse(fs *flag.FlagSet, args []string) error {
	if err := applyEnv(fs); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return c.validate()
}

// applyEnv sets each flag of fs whose environment variable is set, so that
// every subcommand reads a setting from the same variable as serve.
func applyEnv(fs *flag.FlagSet) error {
	for name, e := range flagEnv {
		if v, ok := os.LookupEnv(e); ok && fs.Lookup(name) != nil {
			if err := fs.Set(name, v); err != nil {
				return fmt.Errorf("%s=%q: %v", e, v, err)
			}
		}
	}
	return nil
}

func joinDurations(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.String()
	}
	return strings.Join(parts, ",")
}

// sqlitePath returns the file of a sqlite: database, or "" for another.
func (c *config) sqlitePath() string {
	if p, ok := strings.CutPrefix(c.db, "sqlite:"); ok {
		return p
	}
	return ""
}

func (c *config) validate() error {
	if c.sqlitePath() == "" && !strings.HasPrefix(c.db, "postgres://") && !strings.HasPrefix(c.db, "postgresql://") {
		return fmt.Errorf("--db %q: use sqlite:PATH or a postgres:// URL", c.db)
	}
	if c.publicURL != "" {
		u, err := url.Parse(c.publicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("--public-url %q: give the address people open, such as https://hooks.example.com", c.publicURL)
		}
	}
	for name, d := range map[string]time.Duration{"delivery-timeout": c.deliveryTimeout, "shutdown-grace": c.shutdownGrace,
		"secret-rotation-overlap": c.rotationOverlap, "disable-after": c.disableAfter} {
		if d <= 0 {
			return fmt.Errorf("--%s must be positive", name)
		}
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		return fmt.Errorf("--log-format %q: use text or json", c.logFormat)
	}
	if c.retention < 0 {
		return fmt.Errorf("--retention must be 0 (keep everything) or positive, such as 720h")
	}
	if c.partitionWidth < time.Second {
		return fmt.Errorf("--partition-width must be at least 1s, such as 24h")
	}
	if (c.opsURL == "") != (c.opsSecret == "") {
		return fmt.Errorf("--ops-webhook-url and --ops-webhook-secret go together: give both or neither")
	}
	if c.opsSecret != "" {
		if _, err := webhook.NewSignerFromSecrets(c.opsSecret); err != nil || !strings.HasPrefix(c.opsSecret, "whsec_") {
			return fmt.Errorf("--ops-webhook-secret: give a whsec_ secret (whsec_ and base64)")
		}
	}
	if c.maxInFlight < 1 || c.perWebhook < 1 {
		return fmt.Errorf("--max-in-flight and --max-in-flight-per-webhook must be at least 1")
	}
	return nil
}

// logger writes serve's log in the configured format to w; a line logged
// with a request's context carries the request's ID.
func (c *config) logger(w io.Writer) *slog.Logger {
	var h slog.Handler = slog.NewTextHandler(w, nil)
	if c.logFormat == "json" {
		h = slog.NewJSONHandler(w, nil)
	}
	return slog.New(reqlog.Handler(h))
}
