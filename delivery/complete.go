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
	var gone, orgs []int64
	open := true
	for open {
		var o outcome
		if o, open = <-d.results; !open {
			break
		}
		results, released, gone, orgs = results[:0], released[:0], gone[:0], orgs[:0]
		for {
			orgs = append(orgs, o.result.OrganizationID)
			if o.aborted {
				released = append(released, o.result.Lease)
			} else {
				results = append(results, o.result)
				if o.gone {
					gone = append(gone, o.result.OrganizationID)
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
			}
			break
		}
		d.write(results, released, gone, orgs)
	}
}

// write stores one batch, retrying until the store takes it: an attempt
// that was made is never forgotten (the lease keeps the delivery from
// being sent again meanwhile).
// orgs lists the organization of every outcome, to free their workers.
func (d *Dispatcher) write(results []store.AttemptResult, released []store.Lease, gone, orgs []int64) {
	ctx := context.Background()
	for wait := 50 * time.Millisecond; ; wait = min(wait*2, 5*time.Second) {
		err := d.cfg.Store.CompleteAttempts(ctx, results)
		if err == nil {
			break
		}
		d.cfg.Logger.Error("writing delivery attempts failed; retrying", "err", err, "attempts", len(results))
		time.Sleep(wait)
	}
	for _, r := range results {
		if !r.NextAttemptAt.IsZero() {
			d.scheduleWake(r.NextAttemptAt)
		}
	}
	if err := d.cfg.Store.ReleaseDeliveries(ctx, released); err != nil {
		// Their leases run out on their own; only the wait is longer.
		d.cfg.Logger.Warn("giving back deliveries failed", "err", err, "deliveries", len(released))
	}
	d.release(orgs)
	for _, org := range gone {
		if err := d.cfg.Store.DisableWebhook(ctx, org, "the endpoint answered 410 Gone", d.cfg.Now()); err != nil {
			d.cfg.Logger.Error("disabling a webhook after 410 Gone failed", "organizationID", org, "err", err)
		}
	}
	// Finished attempts free workers, and a delivery that succeeded or
	// failed lets the next one of its order key go.
	d.Notify()
}
