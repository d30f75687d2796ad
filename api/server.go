// Package api is the REST API of SPEC §3: JSON under /v1, errors as RFC
// 9457 problem details, each route one small handler.
package api

import (
	"log/slog"
	"net/http"
	"time"

	otw "github.com/onetalk/onetalk-webhooks"
	"github.com/onetalk/onetalk-webhooks/seal"
	"github.com/onetalk/onetalk-webhooks/store"
)

// Config wires a Server.
type Config struct {
	Store store.Store
	// Box seals signing secrets before they reach the store.
	Box *seal.Box
	// AdminTokenHash is HashToken(admin token).
	AdminTokenHash []byte
	// Notify tells the dispatcher that new deliveries are due.
	Notify       func()
	AllowPrivate bool
	// RotationOverlap is how long an old secret signs beside the new one.
	RotationOverlap time.Duration // 24 h
	Now             func() time.Time
	Logger          *slog.Logger
}

// Server serves the API.
type Server struct {
	store        store.Store
	box          *seal.Box
	adminHash    []byte
	notify       func()
	allowPrivate bool
	overlap      time.Duration
	now          func() time.Time
	log          *slog.Logger
}

// New returns a Server.
func New(cfg Config) *Server {
	s := &Server{store: cfg.Store, box: cfg.Box, adminHash: cfg.AdminTokenHash, notify: cfg.Notify,
		allowPrivate: cfg.AllowPrivate, overlap: cfg.RotationOverlap, now: cfg.Now, log: cfg.Logger}
	if s.overlap <= 0 {
		s.overlap = 24 * time.Hour
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

// Register adds the API's routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)

	mux.HandleFunc("POST /v1/organizations", s.authed(true, s.createOrganization))
	mux.HandleFunc("POST /v1/organizations/{org}/api-keys", s.authed(true, s.createAPIKey))
	mux.HandleFunc("DELETE /v1/organizations/{org}/api-keys/{id}", s.authed(true, s.revokeAPIKey))
	mux.HandleFunc("GET /v1/event-types", s.authed(false, s.eventTypes))

	mux.HandleFunc("GET /v1/organizations/{org}/webhook", s.orgRoute(s.getWebhook))
	mux.HandleFunc("PUT /v1/organizations/{org}/webhook", s.orgRoute(s.putWebhook))
	mux.HandleFunc("GET /v1/organizations/{org}/webhook/secret", s.orgRoute(s.getSecret))
	mux.HandleFunc("POST /v1/organizations/{org}/webhook/secret/rotate", s.orgRoute(s.rotateSecret))
	mux.HandleFunc("POST /v1/organizations/{org}/webhook/test", s.orgRoute(s.testWebhook))

	mux.HandleFunc("POST /v1/events", s.authed(true, s.publishEvent))
	mux.HandleFunc("POST /v1/events/batch", s.authed(true, s.publishBatch))

	mux.HandleFunc("GET /v1/organizations/{org}/deliveries", s.orgRoute(s.listDeliveries))
	mux.HandleFunc("GET /v1/organizations/{org}/deliveries/{id}", s.orgRoute(s.getDelivery))
	mux.HandleFunc("POST /v1/organizations/{org}/deliveries/{id}/retry", s.orgRoute(s.retryDelivery))
	mux.HandleFunc("POST /v1/organizations/{org}/deliveries/recover", s.orgRoute(s.recoverDeliveries))

	mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.log, otw.Errorf(otw.ENOTFOUND, "no route %s %s", r.Method, r.URL.Path))
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.store.Ping(r.Context()); err != nil {
		s.log.Error("database not ready", "err", err)
		writeError(w, r, s.log, otw.Errorf(otw.EUNAVAILABLE, "the database does not answer"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
