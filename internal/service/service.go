// Package service is every operation a person or the platform can do:
// authenticate, publish, set the webhook and its secret, read and retry
// deliveries, manage organizations and their keys. The REST API
// (internal/api) and the web UI (internal/ui) are thin adapters over one
// Service, so each operation exists once and both refuse exactly the same
// things; what is HTTP (requests, statuses, cookies, spans) stays in them.
//
// The Service wakes nobody: the store announces every committed write
// that makes a delivery due (store.Store.Listen), and the dispatcher
// decides what to do about it.
package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/metrics"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/seal"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// Config wires a Service.
type Config struct {
	Store store.Store
	// Box seals signing secrets before they reach the store.
	Box *seal.Box
	// AdminTokenHash is HashToken(admin token).
	AdminTokenHash []byte
	// Insert stores published events; nil means Store.InsertEvents. serve
	// passes an ingest.Committer's, which commits concurrent publishes in
	// one transaction.
	Insert func(ctx context.Context, events []otw.Event) ([]store.Inserted, error)
	// AllowPrivate lets a webhook's URL reach private and loopback
	// addresses (tests, and --allow-private-targets).
	AllowPrivate bool
	// RotationOverlap is how long an old secret signs beside the new one
	// (24 h).
	RotationOverlap time.Duration
	// Retention is how long deliveries are kept (0: for ever), so that an
	// answer about one that is gone can say why.
	Retention time.Duration
	// Metrics, when set, counts accepted events.
	Metrics *metrics.Metrics
	Now     func() time.Time
	Logger  *slog.Logger
}

// Service does the operations. It is safe for concurrent use.
type Service struct {
	store        store.Store
	box          *seal.Box
	adminHash    []byte
	insertEvents func(context.Context, []otw.Event) ([]store.Inserted, error)
	allowPrivate bool
	overlap      time.Duration
	retention    time.Duration
	metrics      *metrics.Metrics
	now          func() time.Time
	log          *slog.Logger
	uses         keyUses // when keys were last used, written now and then
}

// New returns a Service with cfg's defaults filled in.
func New(cfg Config) *Service {
	s := &Service{store: cfg.Store, box: cfg.Box, adminHash: cfg.AdminTokenHash, insertEvents: cfg.Insert,
		allowPrivate: cfg.AllowPrivate, overlap: cfg.RotationOverlap, retention: cfg.Retention,
		metrics: cfg.Metrics, now: cfg.Now, log: cfg.Logger}
	if s.overlap <= 0 {
		s.overlap = 24 * time.Hour
	}
	if s.insertEvents == nil {
		s.insertEvents = func(ctx context.Context, events []otw.Event) ([]store.Inserted, error) {
			inserted, _, err := s.store.InsertEvents(ctx, events, s.now().UTC(), store.Take{})
			return inserted, err
		}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// Now is the Service's clock, for an adapter's own times (a session's
// expiry, a chart's hours) to agree with the operations'.
func (s *Service) Now() time.Time { return s.now() }

// Ready reports whether a publish would commit now: nil, or EUNAVAILABLE
// with the store's reason. A read is not enough: a full disk still
// answers reads, so the store checks a write (store.Store.CheckWrite).
func (s *Service) Ready(ctx context.Context) error {
	err := s.store.CheckWrite(ctx)
	if err == nil || otw.ErrorCode(err) == otw.EUNAVAILABLE {
		return err
	}
	// Whatever went wrong, the service is not ready: the answer is
	// unavailable, with the cause in the log.
	s.log.ErrorContext(ctx, "database not ready", "err", err)
	return otw.Errorf(otw.EUNAVAILABLE, "the database does not answer")
}
