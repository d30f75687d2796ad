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
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for {
		o, open := <-d.results
		if !open {
			return
		}
		batch = append(batch[:0], o)
		// Requests still out may finish within a moment and share this
		// write. The moment counts from the batch's first outcome: waiting
		// for each next one instead would hold the batch, and every slot
		// in it, for as long as outcomes keep coming.
		linger.Reset(lingerFor)
	collect:
		for len(batch) < maxBatch {
			select {
			case o, open = <-d.results:
				if !open {
					break collect
				}
				batch = append(batch, o)
				continue
			default:
			}
			if d.InFlight() <= len(batch) {
				break // nothing more is coming
			}
			select {
			case o, open = <-d.results:
				if !open {
					break collect
				}
				batch = append(batch, o)
			case <-linger.C:
				break collect
			}
		}
		linger.Stop()
		d.write(batch)
		if !open {
			return
		}
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
	retries := false
	for _, o := range batch {
		if o.aborted {
			continue
		}
		r := o.result
		kind := r.Status
		if !r.NextAttemptAt.IsZero() {
			d.scheduleWake(r.NextAttemptAt)
			kind, retries = "retry", true
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
	claim := d.release(batch, reasons)
	d.startWaiting()
	for org, reason := range reasons {
		if err := d.cfg.Store.DisableWebhook(ctx, org, reason, d.cfg.Now()); err != nil {
			d.cfg.Logger.Error("disabling a webhook failed", "organizationID", org, "reason", reason, "err", err)
		} else {
			d.cfg.Logger.Warn("webhook disabled", "organizationID", org, "reason", reason)
		}
	}
	// A claim follows when waiting work runs short; a scheduled retry
	// wakes the loop to time its sleep.
	if claim || retries {
		d.Notify()
	}
}

// lingerFor is how long a write waits for more outcomes while requests
// are still out: long enough to batch a burst, short next to a delivery.
const lingerFor = time.Millisecond
