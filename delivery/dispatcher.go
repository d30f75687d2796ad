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
//
// A claimed delivery is either in flight (its request running, or its
// outcome not yet written) or waiting for a free slot of its webhook. A
// fresh one may also come from the insert that made it, into slots set
// aside with Reserve and handed over with Accept. The
// dispatcher claims up to PerWebhook deliveries ahead of each webhook's
// slots, so that a finished request is followed at once by the next one,
// without a claim in between: a claim then costs no time on the way from
// one delivery to the next, which is what bounds the rate when the
// database is a round trip away.
type Dispatcher struct {
	cfg       Config
	wake      chan struct{}
	results   chan outcome
	signers   *signerCache
	userAgent string

	// Set by Run: requests run under reqCtx and are counted in sending.
	reqCtx  context.Context
	sending sync.WaitGroup

	mu       sync.Mutex
	inFlight int                        // requests started, outcome not yet written
	busy     map[int64]int              // the same, per organization
	waiting  map[int64][]*store.Claimed // claimed, waiting for a slot
	reserved map[int64]int              // free slots promised to an insert (Reserve)
	running  bool                       // between Run's start and its stop
	retryAt  time.Time                  // earliest retry this node scheduled
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
		waiting:   make(map[int64][]*store.Claimed),
		reserved:  make(map[int64]int),
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
	d.mu.Lock()
	d.reqCtx, d.running = reqCtx, true
	d.mu.Unlock()
	completed := make(chan struct{})
	go func() { d.complete(); close(completed) }()

	timer := time.NewTimer(0)
	defer timer.Stop()
	for ctx.Err() == nil {
		full, err := d.claim(ctx)
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

	d.stop()
	done := make(chan struct{})
	go func() { d.sending.Wait(); close(done) }()
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

// claim leases due deliveries for the room this node has (per webhook,
// PerWebhook in flight and as many waiting; in all, twice Workers) and
// starts those that have a free slot. full reports that the claim was
// filled, so more work may be due.
func (d *Dispatcher) claim(ctx context.Context) (full bool, err error) {
	now := d.cfg.Now()
	d.mu.Lock()
	// A retry that has come due is this claim's to take; if there is no
	// room, the next claim (after a write frees some) takes it. Either way
	// the wake-up is spent, or the loop would spin until room frees.
	if !d.retryAt.IsZero() && !now.Before(d.retryAt) {
		d.retryAt = time.Time{}
	}
	total, held := d.holdingLocked()
	room := 2*d.cfg.Workers - total
	d.mu.Unlock()
	if room <= 0 {
		return false, nil // the completer's write wakes us
	}
	claimed, err := d.cfg.Store.ClaimDeliveries(ctx, store.ClaimParams{
		Now: now, LeaseUntil: now.Add(d.Lease()), Limit: room,
		PerOrganization: 2 * d.cfg.PerWebhook, Busy: held,
	})
	if err != nil {
		return false, err
	}
	d.mu.Lock()
	for i := range claimed {
		c := &claimed[i]
		d.waiting[c.OrganizationID] = append(d.waiting[c.OrganizationID], c)
	}
	d.mu.Unlock()
	d.startWaiting()
	return len(claimed) == room, nil
}

// startWaiting starts the waiting deliveries that have a free slot,
// oldest claim first within a webhook. One whose lease no longer covers a
// whole request (it waited behind a slow endpoint) is given back instead:
// a request must end within its lease (SPEC §1).
func (d *Dispatcher) startWaiting() {
	latest := d.cfg.Now().Add(d.cfg.Timeout + leaseMargin)
	var start []*store.Claimed
	var stale []store.Lease
	d.mu.Lock()
	if !d.running {
		// Stopped: what waited was given back, and Run may be past
		// waiting for requests.
		d.mu.Unlock()
		return
	}
	reqCtx := d.reqCtx
	for org, w := range d.waiting {
		i := 0
		for ; i < len(w) && d.busy[org] < d.cfg.PerWebhook && d.inFlight < d.cfg.Workers; i++ {
			if w[i].LeaseUntil.Before(latest) {
				stale = append(stale, w[i].Lease)
				continue
			}
			start = append(start, w[i])
			d.busy[org]++
			d.inFlight++
		}
		if i == len(w) {
			delete(d.waiting, org)
		} else {
			d.waiting[org] = w[i:]
		}
	}
	// Counted before the lock is let go: stop, which sets running under
	// it, is followed by a wait for every request counted here.
	d.sending.Add(len(start))
	d.mu.Unlock()
	for _, c := range start {
		go func() {
			defer d.sending.Done()
			// The completer frees the slot once the outcome is written:
			// until then the lease is this node's, and counting it keeps
			// what a crash can send twice within the limits.
			d.results <- d.attempt(reqCtx, c)
		}()
	}
	if len(stale) > 0 {
		d.giveBack(stale)
		d.Notify() // due at once: the next claim takes them afresh
	}
}

// holdingLocked is what this dispatcher holds, in all and per
// organization: deliveries in flight or waiting for a slot, and slots
// reserved for an insert. A claim and Reserve count their room from it.
// d.mu must be held.
func (d *Dispatcher) holdingLocked() (total int, byOrg map[int64]int) {
	byOrg = make(map[int64]int, len(d.busy)+len(d.waiting)+len(d.reserved))
	for org, n := range d.busy {
		byOrg[org] += n
	}
	for org, w := range d.waiting {
		byOrg[org] += len(w)
	}
	for org, n := range d.reserved {
		byOrg[org] += n
	}
	for _, n := range byOrg {
		total += n
	}
	return total, byOrg
}

// Reserve promises the free slots of the organizations' webhooks to an
// insert about to store events of theirs, as a store.Take: the insert
// leases fresh deliveries into them and hands them over with Accept, so a
// new event is sent without waiting for a claim. Only slots free right now
// are promised, so what is handed over starts at once. Nothing is promised
// outside Run.
func (d *Dispatcher) Reserve(orgs []int64) store.Take {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.running {
		return store.Take{}
	}
	total, held := d.holdingLocked()
	free := d.cfg.Workers - total
	take := store.Take{LeaseUntil: d.cfg.Now().Add(d.Lease())}
	for _, org := range orgs {
		if _, ok := take.Room[org]; ok {
			continue
		}
		n := min(d.cfg.PerWebhook-held[org], free)
		if n <= 0 {
			continue
		}
		if take.Room == nil {
			take.Room = make(map[int64]int)
		}
		take.Room[org] = n
		d.reserved[org] += n
		free -= n
	}
	return take
}

// Accept starts the deliveries an insert took into the slots Reserve
// promised, and frees the slots it did not use. It must follow every
// Reserve, with nothing when the insert failed.
func (d *Dispatcher) Accept(take store.Take, taken []store.Claimed) {
	d.mu.Lock()
	for org, n := range take.Room {
		if d.reserved[org] -= n; d.reserved[org] <= 0 {
			delete(d.reserved, org)
		}
	}
	running := d.running
	if running {
		for i := range taken {
			c := &taken[i]
			d.waiting[c.OrganizationID] = append(d.waiting[c.OrganizationID], c)
		}
	}
	d.mu.Unlock()
	if !running {
		d.giveBack(store.Leases(taken)) // stopped meanwhile: for the next start
		return
	}
	d.startWaiting()
}

// leaseMargin is what a lease must still have after a whole request, for
// writing the outcome.
const leaseMargin = 5 * time.Second

// stop gives the waiting deliveries back, due at once, for the next start
// or another node. Run calls it once its claim loop has ended, so nothing
// waits afterwards and no request starts but those already in flight.
func (d *Dispatcher) stop() {
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
	d.giveBack(leases)
}

func (d *Dispatcher) giveBack(leases []store.Lease) {
	if err := d.cfg.Store.ReleaseDeliveries(context.Background(), leases); err != nil {
		// Their leases run out on their own; only the wait is longer.
		d.cfg.Logger.Warn("giving back deliveries failed", "err", err, "deliveries", len(leases))
	}
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

// release frees the slots of written outcomes and reports whether one of
// the batch's organizations is running short of waiting work, so that a
// claim should follow (a finished delivery may also have let the next of
// its order key go). The waiting deliveries of organizations in disable
// are dropped first: disabling records them failed.
func (d *Dispatcher) release(batch []outcome, disable map[int64]string) (claim bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for org := range disable {
		delete(d.waiting, org)
	}
	d.inFlight -= len(batch)
	for _, o := range batch {
		org := o.result.OrganizationID
		if d.busy[org]--; d.busy[org] <= 0 {
			delete(d.busy, org)
		}
	}
	for _, o := range batch {
		if len(d.waiting[o.result.OrganizationID]) < d.cfg.PerWebhook {
			return true
		}
	}
	return false
}

// Held is how many deliveries this dispatcher holds leased: in flight, or
// claimed and waiting for a slot.
func (d *Dispatcher) Held() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := d.inFlight
	for _, w := range d.waiting {
		n += len(w)
	}
	return n
}

// InFlight is how many requests this dispatcher has out: started, and
// their outcome not yet written.
func (d *Dispatcher) InFlight() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.inFlight
}
