// Package api is the REST API: JSON under /v1, errors as RFC
// 9457 problem details, each route one small handler that reads the
// request, calls the service (internal/service) and writes its answer.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/service"
	"github.com/onetalk/onetalk-webhooks/internal/web"
	"go.opentelemetry.io/otel/trace"
)

// Config wires a Server.
type Config struct {
	// Service does every operation; the Server reads requests and writes
	// answers.
	Service *service.Service
	// Failures limits failed authentications per client address; share
	// one with the UI's sign-in so that guesses count wherever they come.
	// nil: the Server keeps its own.
	Failures *web.FailureLimiter
	Logger   *slog.Logger
	// Tracer, when set, makes a span of each publish, whose traceparent
	// the service stores with the events; nil is tracing off.
	Tracer trace.Tracer
}

// Server serves the API.
type Server struct {
	svc      *service.Service
	failures *web.FailureLimiter // of authentications, per client address
	log      *slog.Logger
	tracer   trace.Tracer
}

// New returns a Server.
func New(cfg Config) *Server {
	s := &Server{svc: cfg.Service, failures: cfg.Failures, log: cfg.Logger, tracer: cfg.Tracer}
	if s.failures == nil {
		s.failures = &web.FailureLimiter{}
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

// readyz answers 200 when a publish would commit now (Service.Ready),
// and a 503 with the store's reason in its detail when not.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyzTimeout)
	defer cancel()
	if err := s.svc.Ready(ctx); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// readyzTimeout bounds a readiness check: a database slower than this to
// take one small write is not ready, whatever it would answer later.
const readyzTimeout = 2 * time.Second
