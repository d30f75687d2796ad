// Package api is the REST API: JSON under /v1, errors as RFC
// 9457 problem details, each route one small handler.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/metrics"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/seal"
	"github.com/onetalk/onetalk-webhooks/internal/store"
	"go.opentelemetry.io/otel/trace"
)

// Config wires a Server.
type Config struct {
	Store store.Store
	// Box seals signing secrets before they reach the store.
	Box *seal.Box
	// AdminTokenHash is HashToken(admin token).
	AdminTokenHash []byte
	// Insert stores published events; nil means Store.InsertEvents. serve
	// passes an ingest.Committer, which commits concurrent publishes in
	// one transaction.
	Insert func(ctx context.Context, events []otw.Event) ([]store.Inserted, error)
	// Notify tells the dispatcher that new deliveries are due.
	Notify       func()
	AllowPrivate bool
	// RotationOverlap is how long an old secret signs beside the new one.
	RotationOverlap time.Duration // 24 h
	Now             func() time.Time
	Logger          *slog.Logger
	// Failures limits failed authentications per client address; share
	// one with the UI's sign-in so that guesses count wherever they come.
	// nil: the Server keeps its own.
	Failures *FailureLimiter
	// Metrics, when set, counts accepted events.
	Metrics *metrics.Metrics
	// Retention is how long deliveries are kept (0: for ever), so that an
	// answer about one that is gone can say why.
	Retention time.Duration
	// Tracer, when set, makes a span of each publish and stores its
	// traceparent with the events; nil is tracing off.
	Tracer trace.Tracer
}

// Server serves the API.
type Server struct {
	store        store.Store
	box          *seal.Box
	adminHash    []byte
	insertEvents func(context.Context, []otw.Event) ([]store.Inserted, error)
	notify       func()
	allowPrivate bool
	overlap      time.Duration
	metrics      *metrics.Metrics
	now          func() time.Time
	log          *slog.Logger
	failures     *FailureLimiter // of authentications, per client address
	retention    time.Duration
	uses         keyUses // when keys were last used, written now and then
	tracer       trace.Tracer
}

// New returns a Server.
func New(cfg Config) *Server {
	s := &Server{store: cfg.Store, box: cfg.Box, adminHash: cfg.AdminTokenHash, insertEvents: cfg.Insert, notify: cfg.Notify,
		allowPrivate: cfg.AllowPrivate, overlap: cfg.RotationOverlap, metrics: cfg.Metrics, failures: cfg.Failures, now: cfg.Now, log: cfg.Logger,
		retention: cfg.Retention, tracer: cfg.Tracer}
	if s.failures == nil {
		s.failures = &FailureLimiter{}
	}
	if s.overlap <= 0 {
		s.overlap = 24 * time.Hour
	}
	if s.insertEvents == nil {
		s.insertEvents = func(ctx context.Context, events []otw.Event) ([]store.Inserted, error) {
			inserted, _, err := s.store.InsertEvents(ctx, events, s.now().UTC(), store.Take{})
			return inserted, err
		}
	}
	if s.notify == nil {
		s.notify = func() {}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// route is one pattern of the API and its handler.
type route struct {
	pattern string // method and path, as http.ServeMux takes it
	handler http.HandlerFunc
}

// routes is the API: the one table Register serves and Routes lists, so
// that the OpenAPI test sees exactly what is served.
func (s *Server) routes() []route {
	return []route{
		{"GET /healthz", s.healthz},
		{"GET /readyz", s.readyz},
		{"GET /openapi.json", serveOpenAPI},

		{"GET /v1/organizations", s.authed(true, s.listOrganizations)},
		{"POST /v1/organizations", s.authed(true, s.createOrganization)},
		{"POST /v1/organizations/{org}/api-keys", s.authed(true, s.createAPIKey)},
		{"DELETE /v1/organizations/{org}/api-keys/{id}", s.authed(true, s.revokeAPIKey)},
		{"GET /v1/organizations/{org}", s.authed(true, s.getOrganization)},
		{"PATCH /v1/organizations/{org}", s.authed(true, s.patchOrganization)},
		{"DELETE /v1/organizations/{org}", s.authed(true, s.deleteOrganization)},
		{"GET /v1/organizations/{org}/api-keys", s.authed(true, s.listAPIKeys)},
		{"GET /v1/event-types", s.authed(false, s.eventTypes)},

		{"GET /v1/organizations/{org}/webhook", s.orgRoute(s.getWebhook)},
		{"PUT /v1/organizations/{org}/webhook", s.orgRoute(s.putWebhook)},
		{"GET /v1/organizations/{org}/webhook/secret", s.orgRoute(s.getSecret)},
		{"POST /v1/organizations/{org}/webhook/secret/rotate", s.orgRoute(s.rotateSecret)},
		{"POST /v1/organizations/{org}/webhook/test", s.orgRoute(s.testWebhook)},

		{"POST /v1/events", s.traced("POST /v1/events", s.authed(true, s.publishEvent))},
		{"POST /v1/events/batch", s.traced("POST /v1/events/batch", s.authed(true, s.publishBatch))},

		{"GET /v1/organizations/{org}/deliveries", s.orgRoute(s.listDeliveries)},
		{"GET /v1/organizations/{org}/deliveries/{id}", s.orgRoute(s.getDelivery)},
		{"POST /v1/organizations/{org}/deliveries/{id}/retry", s.orgRoute(s.retryDelivery)},
		{"POST /v1/organizations/{org}/deliveries/recover", s.orgRoute(s.recoverDeliveries)},
		{"POST /v1/organizations/{org}/deliveries/retry", s.orgRoute(s.retryDeliveries)},
	}
}

// Routes returns the pattern ("METHOD /path/{param}") of every route
// Register serves, except the /v1/ catch-all that answers 404.
func Routes() []string {
	var out []string
	for _, r := range (&Server{}).routes() {
		out = append(out, r.pattern)
	}
	return out
}

// Register adds the API's routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	for _, r := range s.routes() {
		mux.HandleFunc(r.pattern, r.handler)
	}
	mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.log, otw.Errorf(otw.ENOTFOUND, "no route %s %s", r.Method, r.URL.Path))
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when a publish would commit now. A read is not
// enough: a full disk still answers reads, so the store checks a write
// (store.Store.CheckWrite), with its own reason in the 503's detail.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyzTimeout)
	defer cancel()
	if err := s.store.CheckWrite(ctx); err != nil {
		if otw.ErrorCode(err) != otw.EUNAVAILABLE {
			// Whatever went wrong, the service is not ready: the answer
			// is a 503, with the cause in the log.
			s.log.ErrorContext(r.Context(), "database not ready", "err", err)
			err = otw.Errorf(otw.EUNAVAILABLE, "the database does not answer")
		}
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// readyzTimeout bounds a readiness check: a database slower than this to
// take one small write is not ready, whatever it would answer later.
const readyzTimeout = 2 * time.Second
