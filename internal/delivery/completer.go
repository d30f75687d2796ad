package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

const (
	// maxBatch bounds one write of outcomes.
	maxBatch = 512
	// lingerFor is how long a write waits for more outcomes while
	// requests are still out: long enough to batch a burst, short next to
	// a delivery.
	lingerFor = time.Millisecond
	// writeTimeout bounds one write: a database that does not answer
	// fails the write, which is then kept and retried, instead of holding
	// every outcome behind it.
	writeTimeout = 5 * time.Second
	// maxBacklog bounds the outcomes kept for a retry whose workers are
	// freed meanwhile; beyond it workers stay in use until written, so the
	// dispatcher slows down instead of growing.
	maxBacklog = 8192
)

// completer writes outcomes back to the store in batches (group commit:
// whatever arrived while the previous write ran goes in the next).
//
// A write that fails delays only itself: its outcomes go to a backlog,
// retried with backoff, and their workers are freed so other deliveries go
// on. Their leases are extended while they wait, so no claim takes them
// over: a slow or failing write never causes a second send. The
// deliveries' order keys stay held meanwhile, since the database still
// has them pending.
type completer struct {
	d       *Dispatcher
	backlog []outcome // written by no write yet
	size    int       // outcomes in the backlog whose workers are freed
	failing error     // the last write's error while writes fail
	// notGivenBack counts deliveries cut short by shutdown whose give-back
	// failed: Run's error names them.
	notGivenBack int
	givingBack   error
	wait         time.Duration
}

func newCompleter(d *Dispatcher) *completer { return &completer{d: d} }

// run writes until d.results is closed and the backlog is written, or ctx
// ends. It returns an error naming what it could not write.
func (c *completer) run(ctx context.Context) error {
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	results := c.d.results
	for results != nil || len(c.backlog) > 0 {
		var batch []outcome
		select {
		case o, open := <-results:
			if !open {
				results = nil
				if len(c.backlog) > 0 {
					retry.Reset(0) // last chance: at once
				}
				continue
			}
			batch = c.collect(o)
		case <-retry.C:
		case <-ctx.Done():
			return c.unwritten(ctx)
		}
		if c.write(ctx, batch) {
			c.wait = 0
			continue
		}
		c.wait = min(max(2*c.wait, 50*time.Millisecond), 5*time.Second)
		retry.Reset(c.wait)
	}
	if c.notGivenBack > 0 {
		return fmt.Errorf("%d deliveries cut short could not be given back (%w); they are due again once their leases run out",
			c.notGivenBack, c.givingBack)
	}
	return nil
}

// collect gathers a batch from its first outcome: what arrives while
// requests still out may finish within lingerFor. The moment counts from
// the batch's first outcome: waiting for each next one instead would hold
// the batch, and every worker it uses, for as long as outcomes keep
// coming.
func (c *completer) collect(first outcome) []outcome {
	batch := []outcome{first}
	holding := 0 // workers in use by the batch's outcomes
	add := func(o outcome) {
		batch = append(batch, o)
		if !o.workerFreed {
			holding++
		}
	}
	if !first.workerFreed {
		holding++
	}
	linger := time.NewTimer(lingerFor)
	defer linger.Stop()
	for len(batch) < maxBatch {
		select {
		case o, open := <-c.d.results:
			if !open {
				return batch
			}
			add(o)
			continue
		default:
		}
		if c.d.WorkersInUse() <= holding {
			return batch // every worker in use is this batch's: nothing more is coming
		}
		select {
		case o, open := <-c.d.results:
			if !open {
				return batch
			}
			add(o)
		case <-linger.C:
			return batch
		}
	}
	return batch
}

// write stores the backlog and batch in one transaction, with the
// webhooks they disable and their operational events (see ops.go). On
// success their workers are freed and the metrics recorded. When the
// database is unavailable, the batch joins the backlog
// (its workers freed while the backlog has room) and everything kept has its
// lease extended. When the store refuses the write for another reason,
// the outcomes are written one by one, so that one the store keeps
// refusing cannot hold every other behind it. It reports whether
// everything was written.
func (c *completer) write(ctx context.Context, batch []outcome) bool {
	c.decideOps(batch)
	all := append(c.backlog[:len(c.backlog):len(c.backlog)], batch...)
	c.backlog, c.size = nil, 0
	// A write may wait behind another and a give-back: leases close to
	// their end are renewed first, so none runs out meanwhile.
	c.extend(ctx, all, 3*writeTimeout)
	untried, err := c.store(ctx, all)
	switch {
	case err == nil:
		c.written(ctx, all, untried)
		return true
	case otw.ErrorCode(err) == otw.EUNAVAILABLE:
		c.keep(ctx, all, err)
		return false
	}
	// Written one by one: an outcome refused while others are written, or
	// alone, is counted against it; when several are refused and none
	// written, nothing is counted (the store is failing, whatever its
	// error says).
	var refused []outcome
	var last error
	written := false
	for _, o := range all {
		untried, err := c.store(ctx, []outcome{o})
		if err != nil {
			refused, last = append(refused, o), err
			continue
		}
		c.written(ctx, []outcome{o}, untried)
		written = true
	}
	var kept []outcome
	for _, o := range refused {
		if written || len(all) == 1 {
			o.refused++
		}
		if o.refused < maxRefusals {
			kept = append(kept, o)
			continue
		}
		c.d.cfg.Logger.Error("the store refuses a delivery attempt that others were written beside; dropped, the delivery will be sent again",
			"err", last, "deliveryID", o.deliveryID, "organizationID", o.result.OrganizationID)
		c.written(ctx, []outcome{{result: store.AttemptResult{Lease: o.result.Lease, OrganizationID: o.result.OrganizationID},
			aborted: true, workerFreed: o.workerFreed, freedEarly: o.freedEarly}}, true)
	}
	if len(kept) > 0 {
		c.keep(ctx, kept, last)
		return false
	}
	return true
}

// maxRefusals is how many times an outcome may be refused on its own
// (while others are written) before it is dropped.
const maxRefusals = 3

// store writes the outcomes' attempts, and what they cause, under the
// write timeout, and starts what the write handed over: the next
// deliveries of the order keys it let go, into workers promised for them
// (see handOverNext). It reports whether the write let order keys go
// without a worker promised for their next deliveries (untried).
func (c *completer) store(ctx context.Context, outcomes []outcome) (untried bool, err error) {
	comp := c.completion(outcomes)
	untried = c.d.handOverNext(&comp)
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	taken, err := c.d.cfg.Store.CompleteAttempts(wctx, comp)
	if len(comp.Take.Room) > 0 {
		c.d.Accept(comp.Take, taken) // nothing on an error: the workers are free again
	}
	return untried, err
}

// written finishes outcomes whose attempts are stored, with the disables
// and operational events they cause: the leases of those cut short are
// given back, workers still in use are freed (dropping the waiting
// deliveries of webhooks disabled), the metrics and the earliest retry
// recorded. untried says that the write let order keys go without trying
// to hand over their next deliveries (see store): a claim must look.
func (c *completer) written(ctx context.Context, outcomes []outcome, untried bool) {
	d := c.d
	if c.failing != nil {
		d.cfg.Logger.Info("writing delivery attempts works again")
		c.failing = nil
	}
	var released []store.Lease
	var free []outcome
	// The organizations whose webhooks the write disabled.
	reasons := make(map[int64]string)
	var retry time.Time // the earliest
	early := false
	for _, o := range outcomes {
		if !o.workerFreed {
			free = append(free, o)
		}
		early = early || o.freedEarly
		if o.aborted {
			released = append(released, o.result.Lease)
			continue
		}
		r := o.result
		kind := r.Status
		if !r.NextAttemptAt.IsZero() {
			kind = "retry"
			if retry.IsZero() || r.NextAttemptAt.Before(retry) {
				retry = r.NextAttemptAt
			}
		}
		code := 0
		if r.Attempt.StatusCode != nil {
			code = *r.Attempt.StatusCode
		}
		d.cfg.Metrics.Attempt(code, o.took, kind)
		if o.disable != "" {
			reasons[r.OrganizationID] = o.disable
		}
	}
	if err := d.giveBack(ctx, released); err != nil {
		c.notGivenBack += len(released)
		c.givingBack = err
	}
	// Disabled, by the write that is done, before its waiting deliveries
	// are dropped (freeWorkers), so that no claim in between takes more
	// for an endpoint that said to stop.
	for org, reason := range reasons {
		d.cfg.Logger.Warn("webhook disabled", "organizationID", org, "reason", reason)
	}
	if !retry.IsZero() {
		d.wakeForRetry(retry)
	}
	if untried {
		// Woken whatever drained says: a claim that read before this
		// write committed may set it again as it ends, and the wake-up,
		// which waits for the loop, has it claim once more.
		d.undrain()
		d.wakeLoop()
	}
	if early {
		d.earlyWritten(outcomes)
	}
	d.freeWorkers(free, reasons)
	if early && !d.isDrained() {
		// Their workers were freed before this write, so freeing woke
		// nothing: a claim refills what they took, and finds the next
		// deliveries of the keys the write let go without handing them
		// over. Waking only for those (untried) halved a batched run's
		// rate: a claim that found less than its room had met keys held
		// by deliveries in flight, which only such writes let go. After a
		// claim that found nothing at all (drained), the write's hand-over
		// did all a claim would.
		d.wakeLoop()
	}
}

// keep puts outcomes that could not be written in the backlog, frees the
// workers of as many as the backlog has room for, and extends the leases
// of everything kept so that no other claim sends them meanwhile.
func (c *completer) keep(ctx context.Context, outcomes []outcome, err error) {
	d := c.d
	if c.failing == nil {
		d.cfg.Logger.Error("writing delivery attempts failed; kept and retried with backoff",
			"err", err, "attempts", len(outcomes))
	}
	c.failing = err
	var free []outcome
	for _, o := range outcomes {
		if !o.workerFreed && c.size < maxBacklog {
			free = append(free, o)
			o.workerFreed = true
		}
		if o.workerFreed {
			c.size++
		}
		c.backlog = append(c.backlog, o)
	}
	if len(free) > 0 {
		d.freeWorkers(free, nil)
	}
	c.extend(ctx, c.backlog, d.LeaseTerm()/2)
}

// extend renews the leases of outcomes that would run out within margin:
// a lease lost before its outcome is written lets another claim send the
// delivery a second time. The outcomes carry the renewed leases.
func (c *completer) extend(ctx context.Context, outcomes []outcome, margin time.Duration) {
	d := c.d
	soon := d.cfg.Now().Add(margin)
	var leases []store.Lease
	var at []int
	for i, o := range outcomes {
		if !o.aborted && o.result.LeaseUntil.Before(soon) {
			leases = append(leases, o.result.Lease)
			at = append(at, i)
		}
	}
	if len(leases) == 0 {
		return
	}
	until := d.cfg.Now().Add(d.LeaseTerm())
	ectx, cancel := context.WithTimeout(ctx, writeTimeout)
	moved, err := d.cfg.Store.ExtendLeases(ectx, leases, until)
	cancel()
	if err != nil {
		d.cfg.Logger.Warn("extending the leases of unwritten attempts failed", "err", err, "deliveries", len(leases))
		return
	}
	for j, i := range at {
		if moved[j] {
			outcomes[i].result.LeaseUntil = until
		}
	}
}

// unwritten is Run's error when the completer had to stop with outcomes
// left: the attempts were made, and their deliveries will be sent again
// once their leases run out; so will those cut short and not given back.
func (c *completer) unwritten(ctx context.Context) error {
	attempts, cut := 0, 0
	count := func(o outcome) {
		if o.aborted {
			cut++
		} else {
			attempts++
		}
	}
	for _, o := range c.backlog {
		count(o)
	}
	// Run closes results once every request has ended, which the abort
	// at the end of the grace makes immediate.
	for o := range c.d.results {
		count(o)
	}
	cut += c.notGivenBack
	if attempts+cut == 0 {
		return nil
	}
	cause := c.failing
	if cause == nil {
		cause = context.Cause(ctx)
	}
	return fmt.Errorf("%d delivery attempts could not be written and %d deliveries cut short could not be given back (%w); "+
		"they will be sent again once their leases run out", attempts, cut, cause)
}
