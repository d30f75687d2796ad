package delivery

import (
	"context"
	"slices"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// claim leases due deliveries for the room this node has and starts those
// that may start. Each organization may hold up to its share's holdCap
// (less when its webhook is rate limited), and in all the dispatcher holds
// up to twice its workers. Beyond that, an organization holding nothing is
// still claimed for, one delivery each up to the reserve per claim, so a
// newcomer starts even while others hold all they may; what the node holds
// then grows by one per organization with work, no more. full reports
// that the claim was filled, so more work may be due.
func (d *Dispatcher) claim(ctx context.Context) (full bool, err error) {
	now := d.cfg.Now()
	d.mu.Lock()
	d.awakeLocked()
	// A retry that has come due is this claim's to take; if there is no
	// room, the next claim (after a write frees some) takes it. Either way
	// the wake-up is spent, or the loop would spin until room frees.
	if !d.nextRetry.IsZero() && !now.Before(d.nextRetry) {
		d.nextRetry = time.Time{}
	}
	total, held := d.holdingLocked()
	perOrg := d.share.holdCap(len(held) + 1) // +1: room for one more
	room := 2*d.cfg.Workers - total
	if room < d.share.reserve {
		// Over budget: only organizations that hold nothing, one each.
		room, perOrg = d.share.reserve, 1
	}
	for org, rate := range d.rates {
		// A rate-limited webhook holds about two seconds of its turns:
		// more would wait leased until their leases ran out.
		if limited := min(perOrg, max(2, 2*rate)); limited < perOrg {
			held[org] += perOrg - limited
		}
	}
	d.mu.Unlock()
	if room <= 0 {
		d.mu.Lock()
		d.claimedAll, d.drained = false, false
		d.mu.Unlock()
		return false, nil // a write that frees workers wakes the loop (freeWorkers)
	}
	claimed, err := d.cfg.Store.ClaimDeliveries(ctx, store.ClaimParams{
		Now: now, LeaseUntil: now.Add(d.LeaseTerm()), Limit: room,
		PerOrganization: perOrg, Held: held,
	})
	d.mu.Lock()
	d.claimedAll = err == nil && len(claimed) < room && !reachedRoom(claimed, perOrg, held)
	d.drained = err == nil && len(claimed) == 0 && !heldToTheRoom(perOrg, held)
	if err == nil {
		d.addWaitingLocked(claimed)
	}
	d.mu.Unlock()
	if err != nil {
		return false, err
	}
	d.startWaiting()
	return len(claimed) == room, nil
}

// heldToTheRoom reports whether some organization held all that it may
// (perOrg), so that the claim did not look at its work.
func heldToTheRoom(perOrg int, held map[int64]int) bool {
	for _, n := range held {
		if n >= perOrg {
			return true
		}
	}
	return false
}

// reachedRoom reports whether the claim took of some organization all
// that it had room for (perOrg less what it held): it may have left work
// behind.
func reachedRoom(claimed []store.Claimed, perOrg int, held map[int64]int) bool {
	took := make(map[int64]int)
	for i := range claimed {
		org := claimed[i].OrganizationID
		if took[org]++; took[org] >= perOrg-held[org] {
			return true
		}
	}
	return false
}

// startWaiting starts the waiting deliveries that may start, oldest claim
// first within a webhook. Organizations using the fewest workers go
// first, one request each per round, so scarce workers are shared max-min
// fairly (see share). A delivery whose lease no longer covers a whole
// request (it waited behind a slow endpoint) is given back instead: a
// request must end within its lease. A rate-limited webhook's deliveries
// wait for their turn, and a wake-up is set for it.
func (d *Dispatcher) startWaiting() {
	var start []*store.Claimed
	var stale []store.Lease
	type turn struct {
		org int64
		at  time.Time
	}
	var turns []turn
	d.mu.Lock()
	// Read under the lock: a time read before waiting for it would be
	// stale, and a rate-limited webhook's next turn counted from it would
	// come early.
	now := d.cfg.Now()
	latest := now.Add(d.cfg.Timeout + leaseMargin)
	if !d.running {
		// Stopped: what waited was given back, and Run may be past
		// waiting for requests.
		d.mu.Unlock()
		return
	}
	reqCtx := d.reqCtx
	orgs := make([]int64, 0, len(d.waiting))
	for org := range d.waiting {
		orgs = append(orgs, org)
	}
	slices.SortFunc(orgs, func(a, b int64) int { return d.inUseBy[a] - d.inUseBy[b] })
	for progress := true; progress && d.inUse < d.cfg.Workers; {
		progress = false
		for _, org := range orgs {
			w := d.waiting[org]
			for len(w) > 0 && w[0].LeaseUntil.Before(latest) {
				stale = append(stale, w[0].Lease)
				w = w[1:]
			}
			if len(w) == 0 || !d.share.mayStart(d.inUseBy[org], d.inUse) {
				d.setWaitingLocked(org, w)
				continue
			}
			if ok, at := d.pace.take(org, w[0].RateLimit, now); !ok {
				if !d.paced[org] {
					d.paced[org] = true
					turns = append(turns, turn{org, at})
				}
				d.setWaitingLocked(org, w)
				continue
			}
			start = append(start, w[0])
			d.inUseBy[org]++
			d.inUse++
			d.setWaitingLocked(org, w[1:])
			progress = true
		}
	}
	// Counted before the lock is let go: stop, which sets running under
	// it, is followed by a wait for every request counted here.
	d.sending.Add(len(start))
	d.mu.Unlock()
	for _, c := range start {
		go func() {
			defer d.sending.Done()
			// A success frees its worker now, a failure once its
			// outcome is written or set aside (see requestEnded).
			d.results <- d.requestEnded(d.exec.execute(reqCtx, c))
		}()
	}
	for _, t := range turns {
		time.AfterFunc(max(t.at.Sub(now), 0), func() {
			d.mu.Lock()
			delete(d.paced, t.org)
			d.mu.Unlock()
			d.startWaiting()
		})
	}
	if len(stale) > 0 {
		// Not on the caller's way: startWaiting runs in a publish's
		// hand-over (Accept) and in the completer's write. Given back,
		// they are due at once: the next claim takes them afresh.
		go d.giveBack(context.Background(), stale)
	}
}

// addWaitingLocked queues claimed deliveries to start, and notes their
// webhooks' rate limits for the next claims.
func (d *Dispatcher) addWaitingLocked(claimed []store.Claimed) {
	for i := range claimed {
		c := &claimed[i]
		d.waiting[c.OrganizationID] = append(d.waiting[c.OrganizationID], c)
		if c.RateLimit > 0 {
			if len(d.rates) >= maxRates {
				clear(d.rates)
			}
			d.rates[c.OrganizationID] = c.RateLimit
		} else {
			delete(d.rates, c.OrganizationID)
		}
	}
}

// maxRates bounds the rate limits remembered for claims.
const maxRates = 10000

// setWaitingLocked keeps w as what org waits with, and forgets an
// organization left with nothing.
func (d *Dispatcher) setWaitingLocked(org int64, w []*store.Claimed) {
	if len(w) > 0 {
		d.waiting[org] = w
		return
	}
	delete(d.waiting, org)
	d.pace.forget(org, d.cfg.Now())
}

// holdingLocked is what this dispatcher holds, in all and per
// organization: deliveries using a worker or waiting, and workers reserved
// for an insert. A claim and Reserve count their room from it. d.mu must
// be held.
func (d *Dispatcher) holdingLocked() (total int, byOrg map[int64]int) {
	byOrg = make(map[int64]int, len(d.inUseBy)+len(d.waiting)+len(d.reserved))
	for org, n := range d.inUseBy {
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

// Reserve promises free workers to an insert about to store events of
// the organizations, as a store.Take: the insert leases fresh deliveries
// into them and hands them over with Accept, so a new event is sent
// without waiting for a claim. Only workers free right now, and that the
// fair share lets each organization start, are promised, so what is
// handed over starts at once, unless its webhook's rate limit makes it
// wait for its turn. Nothing is promised outside Run. Each organization
// is promised at most want[org] workers (the insert's deliveries of it),
// when want is not nil: a worker promised is one that neither a claim nor
// a completion's hand-over may use until Accept.
func (d *Dispatcher) Reserve(orgs []int64, want map[int64]int) store.Take {
	return d.reserve(orgs, want)
}

// reserve is Reserve.
func (d *Dispatcher) reserve(orgs []int64, want map[int64]int) store.Take {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.running {
		return store.Take{}
	}
	total, held := d.holdingLocked()
	take := store.Take{LeaseUntil: d.cfg.Now().Add(d.LeaseTerm())}
	for _, org := range orgs {
		if _, ok := take.Room[org]; ok {
			continue
		}
		n := 0
		for (want == nil || n < want[org]) && d.share.mayStart(held[org]+n, total+n) {
			n++
		}
		if n == 0 {
			continue
		}
		if take.Room == nil {
			take.Room = make(map[int64]int)
		}
		take.Room[org] = n
		d.reserved[org] += n
		total += n
	}
	return take
}

// Accept starts the deliveries an insert took into the workers Reserve
// promised, and frees those it did not use. It must follow every Reserve,
// with nothing when the insert failed.
func (d *Dispatcher) Accept(take store.Take, taken []store.Claimed) {
	d.mu.Lock()
	for org, n := range take.Room {
		if d.reserved[org] -= n; d.reserved[org] <= 0 {
			delete(d.reserved, org)
		}
	}
	running := d.running
	if running {
		d.addWaitingLocked(taken)
	}
	d.mu.Unlock()
	if !running {
		d.giveBack(context.Background(), store.Leases(taken)) // stopped meanwhile: for the next start
		return
	}
	d.startWaiting()
}

// leaseMargin is what a lease must still have after a whole request, for
// writing the outcome.
const leaseMargin = 5 * time.Second

// releaseLocked frees the workers of outcomes the completer has written or
// set aside. The waiting deliveries of organizations in disable are
// dropped first: disabling records them failed. d.mu must be held.
func (d *Dispatcher) releaseLocked(batch []outcome, disable map[int64]string) {
	for org := range disable {
		delete(d.waiting, org)
	}
	d.inUse -= len(batch)
	for _, o := range batch {
		org := o.result.OrganizationID
		if d.inUseBy[org]--; d.inUseBy[org] <= 0 {
			delete(d.inUseBy, org)
		}
	}
}
