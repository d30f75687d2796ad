package delivery

import (
	"strconv"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// The platform's operational events are stored by the very write that
// stores the outcomes causing them, and the disables (see
// store.Store.CompleteAttempts): no crash can keep one without the other.
// They are stored for the platform's organization through the normal
// insert: routed, delivered, retried and logged as any organization's
// events.
//
// Each outcome's event is decided once, when the outcome first goes into a
// write (decideOps), and kept with it: an outcome whose write failed
// carries it into the backlog, and the retried write stores the same
// event. Each carries an idempotency key derived from what caused it (the
// delivery and attempt; for a recovery, the start of the failing period),
// so a write repeated within the key's window stores it once.
//
// A write tells at most once per organization that its webhook was
// disabled (many requests to one endpoint can answer 410 in one batch),
// and the store keeps that event only when the write is the one that
// switched the webhook off: outcomes written later, or by another node,
// tell nothing more.
//
// The platform's own deliveries make none: an ops webhook that fails would
// otherwise feed itself.

// decideOps gives each outcome of a new batch its operational event, when
// the platform takes them.
func (c *completer) decideOps(batch []outcome) {
	if !c.d.cfg.Ops {
		return
	}
	now := c.d.cfg.Now()
	for i := range batch {
		batch[i].ops = opsEvent(&batch[i], now)
	}
}

// opsEvent is the operational event o causes, nil for none: its webhook
// disabled, its delivery failed for good, or its webhook working again.
func opsEvent(o *outcome, now time.Time) *otw.Event {
	r := &o.result
	org := r.OrganizationID
	if o.aborted || org == otw.OpsOrganizationID {
		return nil
	}
	attempt := o.deliveryID + ":" + strconv.Itoa(r.Attempt.N)
	var e otw.Event
	switch {
	case o.disable != "":
		e = otw.NewOpsEvent(otw.OpsEvent{Type: otw.EventWebhookDisabled,
			OrganizationID: org, Reason: o.disableKind, Message: o.disable}, attempt, now)
	case r.Status == otw.DeliveryFailed:
		e = otw.NewOpsEvent(otw.OpsEvent{Type: otw.EventDeliveryExhausted,
			OrganizationID: org, DeliveryID: o.deliveryID, EventID: o.eventID, LastError: lastError(r.Attempt)}, attempt, now)
	case r.Status == otw.DeliverySucceeded && o.failingSince != nil:
		e = otw.NewOpsEvent(otw.OpsEvent{Type: otw.EventWebhookRecovered, OrganizationID: org},
			strconv.FormatInt(o.failingSince.UnixMilli(), 10), now)
	default:
		return nil
	}
	return &e
}

// completion is the one write of outcomes: their results, one disable per
// organization whose webhook they disable (with the first one's reason
// and event), and their other events, each key once (the successes of one
// failing period all tell the same recovery).
func (c *completer) completion(outcomes []outcome) store.Completion {
	comp := store.Completion{Results: make([]store.AttemptResult, 0, len(outcomes))}
	var disabling map[int64]bool
	var told map[string]bool
	for i := range outcomes {
		o := &outcomes[i]
		if o.aborted {
			continue
		}
		comp.Results = append(comp.Results, o.result)
		switch org := o.result.OrganizationID; {
		case o.disable != "":
			if disabling == nil {
				disabling = make(map[int64]bool)
			}
			if !disabling[org] {
				disabling[org] = true
				comp.Disable = append(comp.Disable, store.Disable{OrganizationID: org, Reason: o.disable, Event: o.ops})
			}
		case o.ops != nil:
			if told == nil {
				told = make(map[string]bool)
			}
			if !told[o.ops.IdempotencyKey] {
				told[o.ops.IdempotencyKey] = true
				comp.Events = append(comp.Events, *o.ops)
			}
		}
	}
	if comp.Effects() {
		comp.Now = c.d.cfg.Now()
	}
	return comp
}

// lastError says how an attempt failed: its error, or its status code.
func lastError(a otw.Attempt) string {
	if a.Error != "" {
		return a.Error
	}
	if a.StatusCode != nil {
		return "HTTP " + strconv.Itoa(*a.StatusCode)
	}
	return "failed"
}
