package delivery

import (
	"slices"
	"time"
)

// When the claim loop wakes. Run's loop claims, then sleeps until the
// earliest retry this node scheduled, PollInterval at most, which finds
// what another node scheduled and leases that ran out. It is woken sooner
// only as this file decides, and nothing else in the package wakes it:
//
//   - workers were freed (outcomes written, or set aside for a retried
//     write) and one of their organizations has fewer deliveries waiting
//     than a webhook may have out: a claim refills it, and a finished
//     delivery may have let the next of its order key go (freeWorkers);
//   - a success freed its worker when its request ended (requestEnded),
//     the last claim may have left work behind (it took all its room, of
//     an organization or in all), and the organization has fewer
//     deliveries waiting than half what a webhook may have out: at half,
//     not when one is missing, so that a claim comes for a batch, worth
//     its fixed cost of reading past what is leased; and not when the
//     last claim found less than it could take, since then new work is
//     announced (runningLowLocked);
//   - successes freed early were written: a claim refills what their
//     workers took, and finds the next deliveries of the order keys they
//     let go that the write did not hand over (completer.written);
//   - but neither of the two above after a claim that found nothing to
//     lease with room to spare (Dispatcher.drained): then the write's
//     hand-over did what a claim would, and new work is announced. A write
//     that let keys go without trying to hand over their next deliveries,
//     for want of workers, ends that state;
//   - an outcome scheduled a retry due before the sleep ends: the sleep
//     is shortened (wakeForRetry);
//   - leases were given back, so their deliveries are due again at once
//     (wakeAfterGiveBack);
//   - the store announced a write that made deliveries due (Run listens,
//     store.Store.Listen): an insert that handed over fewer than it made,
//     a retry or recover, a webhook switched back on, leases given back,
//     outcomes written with operational events that made deliveries (the
//     completer's own writes among them), any of these on another node
//     sharing the database.
//
// An insert's hand-over (Accept) wakes nothing: what it took starts at
// once, without a claim. Nor does a rate-limited webhook's next turn: a
// timer of its own starts its waiting deliveries (startWaiting).

// wakeLoop ends the claim loop's sleep, or the next one as it begins;
// wake-ups that come while one is pending count as one.
func (d *Dispatcher) wakeLoop() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// sleep is how long the claim loop waits for a wake-up: until the
// earliest retry this node scheduled, and never longer than the poll
// interval. It notes when the sleep ends, for wakeForRetry.
func (d *Dispatcher) sleep() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.cfg.Now()
	wait := d.cfg.PollInterval
	if !d.nextRetry.IsZero() {
		wait = min(wait, max(d.nextRetry.Sub(now), 0))
	}
	d.sleepEnds = now.Add(wait)
	return wait
}

// awakeLocked notes that the claim loop is awake, at the start of a
// claim: the next sleep reads every retry scheduled from now on. d.mu
// must be held.
func (d *Dispatcher) awakeLocked() { d.sleepEnds = time.Time{} }

// wakeForRetry notes a retry due at t, and wakes the claim loop when t
// comes before its sleep ends. A later retry needs no wake-up: the sleep
// after the next claim ends by it.
func (d *Dispatcher) wakeForRetry(t time.Time) {
	d.mu.Lock()
	if d.nextRetry.IsZero() || t.Before(d.nextRetry) {
		d.nextRetry = t
	}
	sooner := t.Before(d.sleepEnds)
	d.mu.Unlock()
	if sooner {
		d.wakeLoop()
	}
}

// freeWorkers is how the completer gives back the workers of outcomes it
// wrote or set aside: the waiting deliveries of the organizations in
// disable are dropped (see release), what waits starts in the workers
// freed, and the claim loop is woken when one of the outcomes'
// organizations is left with fewer deliveries waiting than a webhook may
// have out.
func (d *Dispatcher) freeWorkers(batch []outcome, disable map[int64]string) {
	d.mu.Lock()
	d.releaseLocked(batch, disable)
	// After a claim that found nothing, none is needed (Dispatcher.drained).
	short := !d.drained && slices.ContainsFunc(batch, func(o outcome) bool {
		return len(d.waiting[o.result.OrganizationID]) < d.cfg.PerWebhook
	})
	d.mu.Unlock()
	d.startWaiting()
	if short {
		d.wakeLoop()
	}
}

// isDrained reports whether the last claim found nothing, so that freed
// workers need no claim (see Dispatcher.drained).
func (d *Dispatcher) isDrained() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.drained
}

// undrain notes that a write let order keys go without handing over their
// next deliveries: a claim may find them.
func (d *Dispatcher) undrain() {
	d.mu.Lock()
	d.drained = false
	d.mu.Unlock()
}

// wakeAfterGiveBack follows leases given back: their deliveries are due
// at once, for the next claim here or on another node.
func (d *Dispatcher) wakeAfterGiveBack() { d.wakeLoop() }

// runningLowLocked reports whether the last claim may have left work
// behind and org has fewer deliveries waiting than half what a webhook may
// have out: the claim loop is woken for a success freed early only then.
// d.mu must be held.
func (d *Dispatcher) runningLowLocked(org int64) bool {
	return !d.claimedAll && len(d.waiting[org]) < (d.cfg.PerWebhook+1)/2
}
