// Package delivery moves events to webhooks, in three parts as river
// splits its jobs: the dispatcher claims due deliveries and shares the
// workers fairly among organizations (claim.go, share.go, pace.go); the
// executor turns one claimed delivery into an outcome over HTTP, judged by
// the rules (executor.go, rules.go); the completer writes the outcomes
// back in batches (completer.go). When the claim loop is woken is decided
// in one place (wake.go).
//
// Who calls whom: main runs the Dispatcher (Run) and gives it to the
// insert's group commit (internal/ingest), which calls Reserve and Accept
// to hand fresh deliveries over. Whatever else makes deliveries due (a
// retry, a recover, a webhook switched on, another node's insert) the
// store announces, and Run listens (store.Store.Listen). The dispatcher
// calls only the store and the receivers: never ingest, and its own
// operational events go to the store directly.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/metrics"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
	"go.opentelemetry.io/otel/trace"
)

// Config configures a Dispatcher. Zero values take the defaults.
type Config struct {
	Store store.Store
	// OpenSecret opens a sealed signing secret: the secret as written
	// ("whsec_…", or "whsk_…" for Ed25519), or raw HMAC key bytes.
	OpenSecret func(sealed []byte) ([]byte, error)
	Client     *http.Client
	Schedule   []time.Duration // DefaultSchedule()
	Timeout    time.Duration   // 15 s: one attempt, connection to last byte
	// Workers bounds the workers in use at once (see WorkersInUse),
	// shared fairly among the organizations with work (see share);
	// PerWebhook bounds those of one webhook.
	Workers    int // 256
	PerWebhook int // 64
	// PollInterval is the longest the dispatcher sleeps without a wake-up:
	// it finds work another node scheduled or a lease that expired.
	PollInterval time.Duration // 1 s
	// ShutdownGrace is how long in-flight requests may finish after Run's
	// context ends; those still running are aborted and given back. Run
	// returns within the grace and a second, written or not.
	ShutdownGrace time.Duration // 10 s
	// DisableAfter disables a webhook whose attempts have all failed for
	// this long (Standard Webhooks' advice; Svix does the same).
	DisableAfter time.Duration // 5 days
	Now          func() time.Time
	Logger       *slog.Logger
	// Metrics, when set, records every attempt.
	Metrics *metrics.Metrics
	// Tracer, when set, makes a span of every attempt, in the trace of
	// the event's publish, and sends its traceparent to the receiver. nil
	// is tracing off.
	Tracer trace.Tracer
	// Ops, when set, makes the operational events of the platform's
	// organization (otw.OpsOrganizationID) as outcomes are written:
	// webhook.disabled, delivery.exhausted, webhook.recovered.
	Ops bool
}

// Dispatcher delivers. Create it with New and start it with Run; it hears
// of new work from the store it is given (store.Store.Listen) and from the
// insert's hand-over (Reserve, Accept).
//
// A claimed delivery is either using a worker (its request running, or
// its outcome not yet written nor set aside in the completer's backlog)
// or waiting: for a free worker of its webhook, a fair share of the
// workers, or its turn under the webhook's rate limit. A fresh one may
// also come from the insert that made it, into workers set aside with
// Reserve and handed over with Accept. The dispatcher claims up to a
// round ahead of each webhook's workers, so that a finished request is
// followed at once by the next one, without a claim in between: a claim
// then costs no time on the way from one delivery to the next, which is
// what bounds the rate when the database is a round trip away.
type Dispatcher struct {
	cfg     Config
	exec    executor
	share   share
	done    *completer
	wake    chan struct{} // wakes the claim loop (wake.go)
	results chan outcome

	// Set by Run: requests run under reqCtx, and sending counts them
	// until each one's outcome is handed to the completer.
	reqCtx  context.Context
	sending sync.WaitGroup

	mu sync.Mutex
	// A worker is in use from the start of a delivery's request until
	// the request ends with a success (see requestEnded), or else until
	// the completer has written its outcome or set it aside in its
	// backlog. Until its outcome is written the lease is this node's, so
	// Workers, with as many successes freed early, bounds what a crash can
	// send twice.
	inUse       int                        // workers in use
	unwritten   int                        // successes freed early, not yet written (see requestEnded)
	unwrittenBy map[int64]int              // the same, per organization
	inUseBy     map[int64]int              // workers in use, per organization
	waiting     map[int64][]*store.Claimed // claimed, waiting to start
	reserved    map[int64]int              // workers promised to an insert (Reserve) until it hands over (Accept)
	pace        pacer                      // rate-limited webhooks' turns
	paced       map[int64]bool             // a timer is set for the organization's turn
	rates       map[int64]int              // rate limits of webhooks seen in claims
	running     bool                       // between Run's start and its stop
	// claimedAll: the last claim took all it found, short of its room,
	// so a worker freed early needs no claim to find more (wake.go).
	claimedAll bool
	// drained: the last claim found nothing to lease, with room for every
	// organization, and no write since let an order key go without
	// handing over its next delivery. Until a claim finds work, what
	// becomes due is announced, handed over or timed, so writes wake no
	// claim (wake.go).
	drained   bool
	nextRetry time.Time // earliest retry this node scheduled (wake.go)
	sleepEnds time.Time // when the claim loop's sleep ends; zero while it is awake (wake.go)
}

// New returns a dispatcher with cfg's defaults filled in.
func New(cfg Config) *Dispatcher {
	cfg.Schedule = slices.Clone(cfg.Schedule) // the caller's slice stays the caller's
	if cfg.Schedule == nil {
		cfg.Schedule = DefaultSchedule()
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 256
	}
	if cfg.PerWebhook <= 0 {
		cfg.PerWebhook = 64
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 10 * time.Second
	}
	if cfg.DisableAfter <= 0 {
		cfg.DisableAfter = 5 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	d := &Dispatcher{
		cfg: cfg,
		exec: executor{
			client:  cfg.Client,
			timeout: cfg.Timeout,
			rules: rules{schedule: cfg.Schedule, disableAfter: cfg.DisableAfter,
				timeout: cfg.Timeout, now: cfg.Now},
			signers:   newSignerCache(cfg.OpenSecret),
			userAgent: "onetalk-webhooks/" + otw.Version,
			tracer:    cfg.Tracer,
		},
		share:       newShare(cfg.Workers, cfg.PerWebhook),
		wake:        make(chan struct{}, 1),
		results:     make(chan outcome, cfg.Workers),
		inUseBy:     make(map[int64]int),
		unwrittenBy: make(map[int64]int),
		waiting:     make(map[int64][]*store.Claimed),
		reserved:    make(map[int64]int),
		pace:        newPacer(),
		paced:       make(map[int64]bool),
		rates:       make(map[int64]int),
	}
	d.done = newCompleter(d)
	return d
}

// LeaseTerm is how long a claim leases a delivery (a store.Lease is the
// lease itself): a request can take the whole timeout, and the result
// needs a moment to be written.
func (d *Dispatcher) LeaseTerm() time.Duration { return d.cfg.Timeout + 15*time.Second }

// writeMargin is how long after the grace the completer may still write
// what the requests' last moments produced.
const writeMargin = 500 * time.Millisecond

// Run delivers until ctx ends. Then it stops claiming, lets in-flight
// requests finish within the grace period, aborts and gives back the
// rest, and writes every outcome it can by the grace plus writeMargin. It
// returns an error when outcomes are left unwritten (the database was
// unreachable): their deliveries are sent again once their leases run out.
func (d *Dispatcher) Run(ctx context.Context) error {
	// Requests run under their own context: the end of ctx stops claiming,
	// and only the end of the grace period aborts requests. Writes have
	// theirs, which ends a moment later.
	reqCtx, abort := context.WithCancel(context.WithoutCancel(ctx))
	defer abort()
	writeCtx, stopWrites := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWrites()
	d.mu.Lock()
	d.reqCtx, d.running = reqCtx, true
	d.mu.Unlock()
	completed := make(chan error, 1)
	go func() { completed <- d.done.run(writeCtx) }()
	go d.listen(ctx)

	timer := time.NewTimer(0)
	defer timer.Stop()
	for ctx.Err() == nil {
		full, err := d.claim(ctx)
		if err != nil && ctx.Err() == nil {
			d.cfg.Logger.Error("claiming deliveries failed", "err", err)
		}
		if full { // never with an error
			continue // more may be due right now
		}
		timer.Reset(d.sleep())
		select {
		case <-ctx.Done():
		case <-d.wake:
		case <-timer.C:
		}
	}

	// From here every step is bounded by the grace: nothing waits on the
	// receivers or the database past it.
	grace := time.NewTimer(d.cfg.ShutdownGrace)
	defer grace.Stop()
	lastWrite := time.AfterFunc(d.cfg.ShutdownGrace+writeMargin, stopWrites)
	defer lastWrite.Stop()
	stopErr := d.stop(writeCtx)
	requests := make(chan struct{})
	go func() { d.sending.Wait(); close(requests) }()
	select {
	case <-requests:
	case <-grace.C:
		abort() // every request ends at once: each is bound to reqCtx
		<-requests
	}
	close(d.results)
	return errors.Join(stopErr, <-completed)
}

// stop ends the claim loop's part: no request starts from now on, and the
// waiting deliveries are given back, due at once, for the next start or
// another node. It says how many could not be.
func (d *Dispatcher) stop(ctx context.Context) error {
	d.mu.Lock()
	d.running = false
	var leases []store.Lease
	for org, w := range d.waiting {
		for _, c := range w {
			leases = append(leases, c.Lease)
		}
		delete(d.waiting, org)
	}
	d.mu.Unlock()
	if err := d.giveBack(ctx, leases); err != nil {
		return fmt.Errorf("%d waiting deliveries could not be given back (%w); they are due again once their leases run out", len(leases), err)
	}
	return nil
}

// giveBackTimeout bounds one give-back: when the database does not answer,
// the leases run out on their own.
const giveBackTimeout = 2 * time.Second

// giveBack releases leases, due at once. When it fails their leases run
// out on their own; only the wait is longer.
func (d *Dispatcher) giveBack(ctx context.Context, leases []store.Lease) error {
	if len(leases) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, giveBackTimeout)
	defer cancel()
	if err := d.cfg.Store.ReleaseDeliveries(ctx, leases); err != nil {
		d.cfg.Logger.Warn("giving back deliveries failed", "err", err, "deliveries", len(leases))
		return err
	}
	d.wakeAfterGiveBack()
	return nil
}

// Claimed is how many deliveries this dispatcher holds claimed (or was
// handed by an insert): waiting to start, or using a worker until their
// outcome is written. It is what a claim counts against its room, less
// the workers promised to inserts. Successes freed early (requestEnded)
// and outcomes the completer keeps for a retried write are not counted:
// their workers are free again.
func (d *Dispatcher) Claimed() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := d.inUse
	for _, w := range d.waiting {
		n += len(w)
	}
	return n
}

// WorkersInUse is how many workers are in use: by a request running, or
// by the failed outcome of one that ended, until the completer writes it
// or sets it aside in its backlog. Config.Workers bounds it.
func (d *Dispatcher) WorkersInUse() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.inUse
}

// listen wakes the claim loop on the store's announcements until ctx
// ends: work made due by a write here or, on a shared database, on any
// node. Store.Listen keeps listening through a lost connection itself and
// returns only once ctx is done, so there is nothing to restart here.
func (d *Dispatcher) listen(ctx context.Context) {
	_ = d.cfg.Store.Listen(ctx, d.wakeLoop)
}
