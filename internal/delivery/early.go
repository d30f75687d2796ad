package delivery

import "github.com/onetalk/onetalk-webhooks/internal/otw"

// requestEnded frees the worker of a success as soon as its request ends,
// instead of once its outcome is written: the worker bounds the requests
// out to a receiver, and a success has nothing left to tell the
// dispatcher. Waiting for the write put the write's latency (a few
// milliseconds, more behind an insert) into every worker's cycle, which
// bounded a webhook's rate at PerWebhook deliveries per request-and-write.
//
// Only successes: a failure may disable its webhook or set its retry, and
// keeps its worker until written, so that no claim sends more to an
// endpoint that said to stop before the write says so. The successes
// freed early and not yet written are bounded as the requests are, by
// PerWebhook per organization and Workers in all (beyond that a success
// keeps its worker as a failure does): the leases this node holds stay
// bounded, and a crash can send twice at most twice what the workers
// bound, what was out and what was sent but not yet written. Their deliveries
// stay leased and pending until written: no claim takes them, nor the
// next delivery of their order key, which the write lets go (see
// completer.written).
func (d *Dispatcher) requestEnded(o outcome) outcome {
	if o.aborted || o.disable != "" || o.result.Status != otw.DeliverySucceeded {
		return o
	}
	org := o.result.OrganizationID
	d.mu.Lock()
	if d.unwritten >= d.cfg.Workers || d.unwrittenBy[org] >= d.cfg.PerWebhook {
		d.mu.Unlock()
		return o
	}
	d.unwritten++
	d.unwrittenBy[org]++
	o.workerFreed, o.freedEarly = true, true
	d.releaseLocked([]outcome{o}, nil)
	low := d.runningLowLocked(org)
	d.mu.Unlock()
	d.startWaiting()
	if low {
		d.wakeLoop()
	}
	return o
}

// earlyWritten counts the successes freed early among outcomes as
// written.
func (d *Dispatcher) earlyWritten(outcomes []outcome) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, o := range outcomes {
		if !o.freedEarly {
			continue
		}
		org := o.result.OrganizationID
		d.unwritten--
		if d.unwrittenBy[org]--; d.unwrittenBy[org] <= 0 {
			delete(d.unwrittenBy, org)
		}
	}
}
