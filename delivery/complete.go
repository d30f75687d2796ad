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
	var results []store.AttemptResult
	var released []store.Lease
	var orgs []int64
	var took []time.Duration
	var disable []outcome
	open := true
	for open {
		var o outcome
		if o, open = <-d.results; !open {
			break
		}
		results, released, disable, orgs, took = results[:0], released[:0], disable[:0], orgs[:0], took[:0]
		for {
			orgs = append(orgs, o.result.OrganizationID)
			if o.aborted {
				released = append(released, o.result.Lease)
			} else {
				results = append(results, o.result)
				took = append(took, o.took)
				if o.disable != "" {
					disable = append(disable, o)
				}
			}
			if len(results)+len(released) >= maxBatch {
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
				if d.InFlight() > len(orgs) && d.waitForMore(&o, &open) {
					continue
				}
			}
			break
		}
		d.write(results, took, released, disable, orgs)
	}
}

// write stores one batch, retrying until the store takes it: an attempt
// that was made is never forgotten (the lease keeps the delivery from
// being sent again meanwhile).
// took holds each result's request time; orgs lists the organization of
// every outcome, to free their workers.
func (d *Dispatcher) write(results []store.AttemptResult, took []time.Duration, released []store.Lease, disable []outcome, orgs []int64) {
	ctx := context.Background()
	for wait := 50 * time.Millisecond; ; wait = min(wait*2, 5*time.Second) {
		err := d.cfg.Store.CompleteAttempts(ctx, results)
		if err == nil {
			break
		}
		d.cfg.Logger.Error("writing delivery attempts failed; retrying", "err", err, "attempts", len(results))
		time.Sleep(wait)
	}
	for i, r := range results {
		outcome := r.Status
		if !r.NextAttemptAt.IsZero() {
			d.scheduleWake(r.NextAttemptAt)
			outcome = "retry"
		}
		code := 0
		if r.Attempt.StatusCode != nil {
			code = *r.Attempt.StatusCode
		}
		d.cfg.Metrics.Attempt(code, took[i], outcome)
	}
	if err := d.cfg.Store.ReleaseDeliveries(ctx, released); err != nil {
		// Their leases run out on their own; only the wait is longer.
		d.cfg.Logger.Warn("giving back deliveries failed", "err", err, "deliveries", len(released))
	}
	d.release(orgs)
	// Many requests to one endpoint can answer 410 in one batch: disable
	// it once.
	reasons := make(map[int64]string)
	for _, o := range disable {
		reasons[o.result.OrganizationID] = o.disable
	}
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
