package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	otw "github.com/onetalk/onetalk-webhooks"
	"github.com/onetalk/onetalk-webhooks/netguard"
	"github.com/onetalk/onetalk-webhooks/store"
)

const (
	// keptBody is how much of a response is recorded with the attempt.
	keptBody = 4 << 10
	// drainBody is how much more is read (and dropped) so that the
	// connection can be used again; beyond it the connection is closed.
	drainBody = 64 << 10
)

// outcome is what a worker hands to the completer: a finished attempt, or
// (aborted) a lease to give back because shutdown cut the request short.
type outcome struct {
	result  store.AttemptResult
	aborted bool
	// disable, when set, is why the webhook must be disabled after this
	// result is written: 410 Gone, or failing for too long.
	disable string
	took    time.Duration // the request, to the nanosecond, for metrics
}

// attempt sends one delivery and decides what happens next.
func (d *Dispatcher) attempt(ctx context.Context, c *store.Claimed) outcome {
	n := c.AttemptCount + 1
	started := d.cfg.Now()
	code, body, header, err := d.send(ctx, c, started)
	if err != nil && ctx.Err() != nil {
		// Shutdown, not the receiver: no attempt is recorded, and the
		// delivery is due again at once on the next start.
		return outcome{result: store.AttemptResult{Lease: c.Lease, OrganizationID: c.OrganizationID}, aborted: true}
	}
	ended := d.cfg.Now()
	a := otw.Attempt{N: n, StartedAt: started, DurationMs: ended.Sub(started).Milliseconds(), ResponseBody: body}
	if err != nil {
		a.Error = describe(err, d.cfg.Timeout)
	} else {
		a.StatusCode = &code
		if code < 200 || code > 299 {
			a.Error = "HTTP " + strconv.Itoa(code) + " " + http.StatusText(code)
			if code >= 300 && code < 400 {
				a.Error += ": redirects are not followed"
			}
		}
	}
	r := store.AttemptResult{Lease: c.Lease, OrganizationID: c.OrganizationID, Attempt: a}
	switch {
	case err == nil && code >= 200 && code <= 299:
		r.Status = otw.DeliverySucceeded
	case err == nil && code == http.StatusGone:
		// Standard Webhooks: 410 means "stop sending"; the completer
		// disables the webhook after writing this result.
		r.Status = otw.DeliveryFailed
		return outcome{result: r, disable: "the endpoint answered 410 Gone", took: ended.Sub(started)}
	case c.FailingSince != nil && ended.Sub(*c.FailingSince) >= d.cfg.DisableAfter:
		r.Status = otw.DeliveryFailed
		return outcome{result: r, disable: fmt.Sprintf("no successful delivery since %s (%s)",
			c.FailingSince.UTC().Format(time.RFC3339), d.cfg.DisableAfter), took: ended.Sub(started)}
	case n > len(d.cfg.Schedule):
		r.Status = otw.DeliveryFailed
	default:
		r.Status = otw.DeliveryPending
		r.NextAttemptAt = ended.Add(d.nextDelay(n, code, header, ended))
	}
	return outcome{result: r, took: ended.Sub(started)}
}

// nextDelay is the wait after attempt n: the schedule's step with jitter,
// or what a 429 or 503 asked for, capped at the schedule's longest step.
func (d *Dispatcher) nextDelay(n, code int, h http.Header, now time.Time) time.Duration {
	if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
		if ra, ok := retryAfter(h, now); ok {
			return min(ra, longest(d.cfg.Schedule))
		}
	}
	return jitter(d.cfg.Schedule[n-1])
}

func longest(s []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range s {
		m = max(m, d)
	}
	return m
}

// send makes the HTTP request and returns the status code, the first
// 4 KiB of the response body and the response headers.
func (d *Dispatcher) send(ctx context.Context, c *store.Claimed, now time.Time) (int, string, http.Header, error) {
	signer, err := d.signers.get(c.Secret, c.PreviousSecret)
	if err != nil {
		return 0, "", nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(c.Body))
	if err != nil {
		return 0, "", nil, err
	}
	// Lower-case names as Standard Webhooks spells them; set directly so
	// that they are not re-canonicalized on every request.
	req.Header = http.Header{
		"Content-Type":      {"application/json"},
		"User-Agent":        {d.userAgent},
		"webhook-id":        {c.EventID},
		"webhook-timestamp": {strconv.FormatInt(now.Unix(), 10)},
		"webhook-signature": {signer.Sign(c.EventID, now, c.Body)},
	}
	resp, err := d.cfg.Client.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	kept, err := io.ReadAll(io.LimitReader(resp.Body, keptBody))
	if err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainBody))
	}
	// A status line and headers were received: the attempt is judged on
	// them even when the body breaks off.
	return resp.StatusCode, string(bytes.ToValidUTF8(kept, []byte("\uFFFD"))), resp.Header, nil
}

// describe turns a transport error into what the delivery log shows.
func describe(err error, timeout time.Duration) string {
	var ne net.Error
	switch {
	case errors.Is(err, netguard.ErrForbiddenAddress):
		return unwrapURL(err).Error()
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return fmt.Sprintf("no answer within %s", timeout)
	}
	return unwrapURL(err).Error()
}

// unwrapURL drops the "Post \"url\": " prefix that net/http adds.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
