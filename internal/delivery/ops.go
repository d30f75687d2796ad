package delivery

import (
	"context"
	"strconv"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// ops stores the operational events of outcomes just written, for the
// platform's organization, through the normal insert: they are routed,
// delivered, retried and logged as any organization's events.
//
// They are inserted after the outcomes' commit, not in it: a crash between
// the two loses them, the one window where an ops event can be missed. An
// insert that fails keeps them in memory, tried again with the next
// outcomes written. Each carries an idempotency key derived from
// what caused it (the delivery and attempt; for a recovery, the start of
// the failing period), so a write repeated within the key's window stores
// it once.
//
// The platform's own deliveries make none: an ops webhook that fails would
// otherwise feed itself.
//
// disabled names the organizations whose webhooks these outcomes disabled.
func (c *completer) ops(ctx context.Context, outcomes []outcome, disabled map[int64]bool) {
	d := c.d
	now := d.cfg.Now()
	var events []otw.Event
	told := make(map[int64]bool)
	recovered := make(map[int64]bool)
	for _, o := range outcomes {
		r := o.result
		org := r.OrganizationID
		if o.aborted || org == otw.OpsOrganizationID {
			continue
		}
		attempt := o.deliveryID + ":" + strconv.Itoa(r.Attempt.N)
		switch {
		case o.disable != "" && disabled[org] && !told[org]:
			told[org] = true
			events = append(events, otw.NewOpsEvent(otw.OpsEvent{Type: otw.EventWebhookDisabled,
				OrganizationID: org, Reason: o.disableKind, Message: o.disable}, attempt, now))
		case o.disable == "" && r.Status == otw.DeliveryFailed:
			events = append(events, otw.NewOpsEvent(otw.OpsEvent{Type: otw.EventDeliveryExhausted,
				OrganizationID: org, DeliveryID: o.deliveryID, EventID: o.eventID, LastError: lastError(r.Attempt)}, attempt, now))
		case r.Status == otw.DeliverySucceeded && o.failingSince != nil && !recovered[org]:
			recovered[org] = true
			events = append(events, otw.NewOpsEvent(otw.OpsEvent{Type: otw.EventWebhookRecovered, OrganizationID: org},
				strconv.FormatInt(o.failingSince.UnixMilli(), 10), now))
		}
	}
	// Those a failed insert left are tried again with these: their keys
	// make a repeat harmless.
	events = append(c.opsBacklog, events...)
	c.opsBacklog = nil
	if len(events) == 0 {
		return
	}
	ictx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	inserted, _, err := d.cfg.Store.InsertEvents(ictx, events, now, store.Take{})
	if err != nil {
		if len(events) > maxOpsBacklog {
			d.cfg.Logger.Error("operational events dropped: too many wait for an insert", "events", len(events)-maxOpsBacklog)
			events = events[len(events)-maxOpsBacklog:]
		}
		c.opsBacklog = events
		d.cfg.Logger.Error("storing operational events failed; tried again with the next outcomes", "err", err, "events", len(events))
		return
	}
	d.wakeAfterInsert(inserted)
}

// maxOpsBacklog bounds the operational events kept in memory while their
// insert fails.
const maxOpsBacklog = 1024

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
