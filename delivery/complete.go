package delivery

import (
	"context"
	"time"

	"github.com/onetalk/onetalk-webhooks/store"
)

// maxBatch bounds one write of outcomes.
const maxBatch = 512

// complete writes outcomes back to the store until d.results is closed.
// It takes whatever has arrived while the previous write ran, so under
// load each transaction carries many attempts (group commit) and when idle
// a single attempt is written at once.
func (d *Dispatcher) complete() {
	var batch []outcome
	open := true
	for open {
		var o outcome
		if o, open = <-d.results; !open {
			break
		}
		batch = batch[:0]
		for {
			batch = append(batch, o)
			if len(batch) >= maxBatch {
				break
			}
			select {
			case o, open = <-d.results:
				if open {
					continue
				}
			default:
				// More requests are still out: give them a moment to finish
				// and share this write, rather than a write each.
				if d.InFlight() > len(batch) && d.waitForMore(&o, &open) {
					continue
				}
			}
			break
		}
		d.write(batch)
	}
}

// write stores one batch, retrying until the store takes it: an attempt
// that was made is never forgotten (the lease keeps the delivery from
// being sent again meanwhile). Then it gives back what shutdown cut
// short, frees the batch's workers and disables what must be disabled.
func (d *Dispatcher) write(batch []outcome) {
	ctx := context.Background()
	results := make([]store.AttemptResult, 0, len(batch))
	var released []store.Lease
	for _, o := range batch {
		if o.aborted {
			released = append(released, o.result.Lease)
		} else {
			results = append(results, o.result)
		}
	}
	for wait := 50 * time.Millisecond; ; wait = min(wait*2, 5*time.Second) {
		err := d.cfg.Store.CompleteAttempts(ctx, results)
		if err == nil {
			break
		}
		d.cfg.Logger.Error("writing delivery attempts failed; retrying", "err", err, "attempts", len(results))
		time.Sleep(wait)
	}
	if err := d.cfg.Store.ReleaseDeliveries(ctx, released); err != nil {
		// Their leases run out on their own; only the wait is longer.
		d.cfg.Logger.Warn("giving back deliveries failed", "err", err, "deliveries", len(released))
	}
	// Many requests to one endpoint can answer 410 in one batch: disable
	// it once.
	reasons := make(map[int64]string)
	for _, o := range batch {
		if o.aborted {
			continue
		}
		r := o.result
		kind := r.Status
		if !r.NextAttemptAt.IsZero() {
			d.scheduleWake(r.NextAttemptAt)
			kind = "retry"
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
	d.release(batch)
	for org, reason := range reasons {
		if err := d.cfg.Store.DisableWebhook(ctx, org, reason, d.cfg.Now()); err != nil {
			d.cfg.Logger.Error("disabling a webhook failed", "organizationID", org, "reason", reason, "err", err)
		} else {
			d.cfg.Logger.Warn("webhook disabled", "organizationID", org, "reason", reason)
		}
	}
	// Finished attempts free workers, and a delivery that succeeded or
	// failed lets the next one of its order key go.
	d.Notify()
}

// linger is how long a write waits for more outcomes while requests are
// still out: long enough to batch a burst, short next to a delivery.
const linger = time.Millisecond

// waitForMore waits up to linger for one more outcome.
func (d *Dispatcher) waitForMore(o *outcome, open *bool) bool {
	t := time.NewTimer(linger)
	defer t.Stop()
	select {
	case *o, *open = <-d.results:
		return *open
	case <-t.C:
		return false
	}
}
