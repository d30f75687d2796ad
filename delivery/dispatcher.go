// Package delivery moves events to webhooks: claim due deliveries from the
// store, send each as one signed HTTP request, and write the outcomes back
// in batches (claim → send → complete, as river splits its jobs).
package delivery

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	otw "github.com/onetalk/onetalk-webhooks"
	"github.com/onetalk/onetalk-webhooks/metrics"
	"github.com/onetalk/onetalk-webhooks/store"
)

// Config configures a Dispatcher. Zero values take the defaults.
type Config struct {
	Store store.Store
	// OpenSecret turns a sealed signing secret into its raw key bytes.
	OpenSecret func(sealed []byte) ([]byte, error)
	Client     *http.Client
	Schedule   []time.Duration // DefaultSchedule
	Timeout    time.Duration   // 15 s: one attempt, connection to last byte
	// Workers bounds the requests in flight at once; PerWebhook bounds
	// those of one webhook, so a slow endpoint only slows itself.
	Workers    int // 256
	PerWebhook int // 64
	// PollInterval is the longest the dispatcher sleeps without a wake-up:
	// it finds work another node scheduled or a lease that expired.
	PollInterval time.Duration // 1 s
	// ShutdownGrace is how long in-flight requests may finish after Run's
	// context ends; those still running are given back, not failed.
	ShutdownGrace time.Duration // 10 s
	// DisableAfter disables a webhook whose attempts have all failed for
	// this long (Standard Webhooks' advice; Svix does the same).
	DisableAfter time.Duration // 5 days
	Now          func() time.Time
	Logger       *slog.Logger
	// Metrics, when set, records every attempt.
	Metrics *metrics.Metrics
}

// Dispatcher delivers. Create it with New, start it with Run, and call
// Notify when new work may be due.
type Dispatcher struct {
	cfg       Config
	wake      chan struct{}
	results   chan outcome
	signers   *signerCache
	userAgent string

	mu       sync.Mutex
	inFlight int           // leased by this node, outcome not yet written
	busy     map[int64]int // the same, per organization
	retryAt  time.Time     // earliest retry this node scheduled
}

// New returns a dispatcher with cfg's defaults filled in.
func New(cfg Config) *Dispatcher {
	if cfg.Schedule == nil {
		cfg.Schedule = DefaultSchedule
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
	return &Dispatcher{
		cfg:       cfg,
		wake:      make(chan struct{}, 1),
		results:   make(chan outcome, cfg.Workers),
		signers:   newSignerCache(cfg.OpenSecret),
		userAgent: "onetalk-webhooks/" + otw.Version,
		busy:      make(map[int64]int),
	}
}

// Lease is how long a claim is held: a request can take the whole
// timeout, and the result needs a moment to be written (SPEC §1).
func (d *Dispatcher) Lease() time.Duration { return d.cfg.Timeout + 15*time.Second }

// Notify tells the dispatcher that work may be due now. It never blocks.
func (d *Dispatcher) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then stops claiming, lets in-flight
// requests finish within the grace period, gives back the rest and writes
// every outcome before it returns.
func (d *Dispatcher) Run(ctx context.Context) error {
	// Requests run under their own context: the end of ctx stops claiming,
	// and only the end of the grace period aborts requests.
	reqCtx, abort := context.WithCancel(context.WithoutCancel(ctx))
	defer abort()
	var sending sync.WaitGroup
	completed := make(chan struct{})
	go func() { d.complete(); close(completed) }()

	timer := time.NewTimer(0)
	defer timer.Stop()
	for ctx.Err() == nil {
		full, err := d.claimAndSend(ctx, reqCtx, &sending)
		if err != nil && ctx.Err() == nil {
			d.cfg.Logger.Error("claiming deliveries failed", "err", err)
			full = false
		}
		if full && err == nil {
			continue // more may be due right now
		}
		timer.Reset(d.sleep())
		select {
		case <-ctx.Done():
		case <-d.wake:
		case <-timer.C:
		}
	}

	done := make(chan struct{})
	go func() { sending.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d.cfg.ShutdownGrace):
		abort()
		<-done
	}
	close(d.results)
	<-completed
	return nil
}

// claimAndSend claims as many due deliveries as there are free workers
// and starts each. full reports that the claim was filled, so more work
// may be waiting.
func (d *Dispatcher) claimAndSend(ctx, reqCtx context.Context, sending *sync.WaitGroup) (full bool, err error) {
	now := d.cfg.Now()
	d.mu.Lock()
	// A retry that has come due is this claim's to take; if no worker is
	// free, the next claim (after a write frees one) takes it. Either way
	// the wake-up is spent, or the loop would spin until a worker frees.
	if !d.retryAt.IsZero() && !now.Before(d.retryAt) {
		d.retryAt = time.Time{}
	}
	free := d.cfg.Workers - d.inFlight
	busy := make(map[int64]int, len(d.busy))
	for org, n := range d.busy {
		busy[org] = n
	}
	d.mu.Unlock()
	if free <= 0 {
		return false, nil // the completer's write wakes us
	}
	claimed, err := d.cfg.Store.ClaimDeliveries(ctx, store.ClaimParams{
		Now: now, LeaseUntil: now.Add(d.Lease()), Limit: free,
		PerOrganization: d.cfg.PerWebhook, Busy: busy,
	})
	if err != nil {
		return false, err
	}
	d.mu.Lock()
	d.inFlight += len(claimed)
	for _, c := range claimed {
		d.busy[c.OrganizationID]++
	}
	d.mu.Unlock()
	for i := range claimed {
		sending.Add(1)
		go func(c *store.Claimed) {
			defer sending.Done()
			// The completer frees the worker once the outcome is written:
			// until then the lease is this node's, and counting it keeps
			// what a crash can send twice within the limits.
			d.results <- d.attempt(reqCtx, c)
		}(&claimed[i])
	}
	return len(claimed) == free, nil
}

// sleep is how long to wait for a wake-up: until the earliest retry this
// node scheduled, and never longer than the poll interval.
func (d *Dispatcher) sleep() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	wait := d.cfg.PollInterval
	if !d.retryAt.IsZero() {
		if until := d.retryAt.Sub(d.cfg.Now()); until < wait {
			wait = max(until, 0)
		}
	}
	return wait
}

// scheduleWake asks for a claim at t, a retry's due time.
func (d *Dispatcher) scheduleWake(t time.Time) {
	d.mu.Lock()
	if d.retryAt.IsZero() || t.Before(d.retryAt) {
		d.retryAt = t
	}
	d.mu.Unlock()
}

// release frees the workers of written outcomes.
func (d *Dispatcher) release(batch []outcome) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.inFlight -= len(batch)
	for _, o := range batch {
		org := o.result.OrganizationID
		if d.busy[org]--; d.busy[org] <= 0 {
			delete(d.busy, org)
		}
	}
}

// InFlight is how many deliveries this dispatcher holds: claimed, and
// their outcome not yet written.
func (d *Dispatcher) InFlight() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.inFlight
}
