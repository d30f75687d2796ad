package delivery

import (
	"fmt"
	"net/http"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// rules decide what an attempt's response does to its delivery: success,
// a retry and when, failure for good, or the webhook disabled. They read
// no clock but now and touch neither network nor database, so each rule
// is tested alone in milliseconds.
type rules struct {
	schedule []time.Duration
	// disableAfter disables a webhook whose attempts have all failed for
	// this long.
	disableAfter time.Duration
	timeout      time.Duration // for the log's "no answer within"
	now          func() time.Time
}

// judge turns the response to attempt AttemptCount+1 of c, made from
// started to ended, into its outcome.
func (p rules) judge(c *store.Claimed, r response, started, ended time.Time) outcome {
	n := c.AttemptCount + 1
	res := store.AttemptResult{Lease: c.Lease, OrganizationID: c.OrganizationID, OrderKey: c.OrderKey,
		Attempt: r.attempt(n, c.URL, started, ended, p.timeout)}
	o := outcome{took: ended.Sub(started), deliveryID: c.DeliveryID, eventID: c.EventID, failingSince: c.FailingSince}
	ok := r.err == nil && r.code >= 200 && r.code <= 299
	switch {
	case ok:
		res.Status = otw.DeliverySucceeded
	case r.err == nil && r.code == http.StatusGone:
		// Standard Webhooks: 410 means "stop sending"; the write of this
		// result disables the webhook.
		res.Status = otw.DeliveryFailed
		o.disable, o.disableKind = "the endpoint answered 410 Gone", otw.OpsReasonGone
	case c.FailingSince != nil && ended.Sub(*c.FailingSince) >= p.disableAfter:
		res.Status = otw.DeliveryFailed
		o.disable = fmt.Sprintf("no successful delivery since %s (%s)",
			c.FailingSince.UTC().Format(time.RFC3339), p.disableAfter)
		o.disableKind = otw.OpsReasonFailing
	case n > len(p.schedule):
		res.Status = otw.DeliveryFailed
	default:
		res.Status = otw.DeliveryPending
		res.NextAttemptAt = ended.Add(p.nextDelay(n, r.code, r.header, ended))
	}
	o.result = res
	return o
}

// nextDelay is the wait after attempt n: the schedule's step with jitter,
// or what a 429 or 503 asked for, capped at the schedule's longest step.
func (p rules) nextDelay(n, code int, h http.Header, now time.Time) time.Duration {
	if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
		if ra, ok := retryAfter(h, now); ok {
			return min(ra, longest(p.schedule))
		}
	}
	return jitter(p.schedule[n-1])
}

func longest(s []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range s {
		m = max(m, d)
	}
	return m
}
