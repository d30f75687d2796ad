package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Client calls one onetalk-webhooks service with one token. It is safe for
// concurrent use.
type Client struct {
	base   string // without a trailing slash
	token  string
	hc     *http.Client
	policy RetryPolicy
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sends the requests with hc instead of the default, an
// http.Client whose Timeout of 60 s bounds each attempt (a hung
// connection is then retried like a cut one).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.hc = hc }
}

// WithRetry replaces DefaultRetryPolicy. Zero fields take the default's.
func WithRetry(p RetryPolicy) Option {
	return func(c *Client) { c.policy = p }
}

// RetryPolicy bounds the retries of one call (of one chunk, for
// PublishBatch). A call stops at the first of: success, an answer that is
// not worth retrying, MaxAttempts attempts, a wait that would end past
// MaxElapsed from the first attempt, and the end of the context.
type RetryPolicy struct {
	MaxAttempts int           // attempts in all, the first included; 1 means no retry
	MaxElapsed  time.Duration // from the first attempt to the start of the last
	// The wait before retry n (from 1) is a random duration between half
	// and all of min(BaseDelay·2ⁿ⁻¹, MaxDelay): random so that clients
	// cut off together do not come back together. A Retry-After from the
	// service replaces it when longer.
	BaseDelay time.Duration
	MaxDelay  time.Duration
}

// DefaultRetryPolicy rides out a restart of the service or a short
// database fault: 10 attempts within 2 minutes, waits from 0.1 s to 10 s.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 10, MaxElapsed: 2 * time.Minute, BaseDelay: 100 * time.Millisecond, MaxDelay: 10 * time.Second}

// New returns a client of the service at baseURL (for example
// "http://127.0.0.1:8080") that sends token as its bearer: the admin
// token to publish and manage organizations.
func New(baseURL, token string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(baseURL, "/"), token: token, policy: DefaultRetryPolicy}
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: 60 * time.Second}
	}
	d := DefaultRetryPolicy
	if c.policy.MaxAttempts <= 0 {
		c.policy.MaxAttempts = d.MaxAttempts
	}
	if c.policy.MaxElapsed <= 0 {
		c.policy.MaxElapsed = d.MaxElapsed
	}
	if c.policy.BaseDelay <= 0 {
		c.policy.BaseDelay = d.BaseDelay
	}
	if c.policy.MaxDelay <= 0 {
		c.policy.MaxDelay = d.MaxDelay
	}
	return c
}

type keyContext struct{}

// WithIdempotencyKey returns a context under which the next Publish or
// PublishBatch uses key instead of a random one: to make a call safe to
// repeat after this process itself died, with a key derived from what is
// published (a message's trxID and status, say). At most 255 characters,
// no control characters, no surrounding spaces. A batch split into chunks
// sends key with its first chunk and key + "/1", key + "/2", … with the
// next ones, so the whole batch may be repeated with the same key.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, keyContext{}, key)
}

// idempotencyKey is the caller's key from ctx, or a new random one: 130
// bits, so that two calls never share one by chance.
func idempotencyKey(ctx context.Context) (key string, given bool) {
	if k, ok := ctx.Value(keyContext{}).(string); ok {
		return k, true
	}
	return "otwc-" + rand.Text(), false
}

// checkKey refuses a key the service would refuse, before anything is
// sent: for a batch, a refusal of its second chunk would come after the
// first was stored.
func checkKey(key string) error {
	if key == "" || len(key) > 255 || strings.TrimSpace(key) != key || strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("client: idempotency key %q: want 1 to 255 characters, no control characters, no surrounding spaces", key)
	}
	return nil
}

// request is one logical call, sent as many times as the policy allows.
type request struct {
	method, path string
	body         []byte // nil for none
	key          string // Idempotency-Key, "" for none
}

// do sends r, retrying what may succeed later, and decodes a 2xx answer
// into out (when not nil). Every attempt sends the same body and key: the
// service stores a publish once per key, so a retry after an answer was
// lost returns the first result rather than a copy.
func (c *Client) do(ctx context.Context, r request, out any) error {
	start := time.Now()
	for attempt := 1; ; attempt++ {
		err := c.once(ctx, r, out)
		if err == nil || !retryable(ctx, err) {
			return err
		}
		wait := c.backoff(attempt)
		var e *Error
		if errors.As(err, &e) && e.RetryAfter > wait {
			// The service knows when it will take requests again; a
			// little jitter on top spreads the clients it told the same.
			wait = e.RetryAfter + mrand.N(e.RetryAfter/10+1)
		}
		switch {
		case attempt >= c.policy.MaxAttempts:
			return fmt.Errorf("client: %s %s: gave up after %d attempts: %w", r.method, r.path, attempt, err)
		case time.Since(start)+wait > c.policy.MaxElapsed:
			return fmt.Errorf("client: %s %s: gave up after %d attempts in %s: %w", r.method, r.path, attempt, time.Since(start).Round(time.Millisecond), err)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			// Waiting would outlive the context: the last error says
			// more than a deadline exceeded would.
			return fmt.Errorf("client: %s %s: the context ends before the next attempt (after %d): %w", r.method, r.path, attempt, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("client: %s %s: %w (after %d attempts; last: %v)", r.method, r.path, ctx.Err(), attempt, err)
		case <-t.C:
		}
	}
}

// backoff is the wait before retry n (from 1): see RetryPolicy.
func (c *Client) backoff(n int) time.Duration {
	// Doubled step by step, since a shift could overflow a large delay.
	d := min(c.policy.BaseDelay, c.policy.MaxDelay)
	for i := 1; i < n && d < c.policy.MaxDelay; i++ {
		d = min(2*d, c.policy.MaxDelay)
	}
	return d/2 + mrand.N(d/2+1)
}

// retryable reports whether err may not recur: a 429 or 5xx answer, or no
// answer at all (a refused or cut connection, a timeout of the attempt),
// unless the caller's context ended.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Temporary()
	}
	var bad *badRequestError
	return !errors.As(err, &bad)
}

// badRequestError is a request that could not be built: retrying it is
// pointless.
type badRequestError struct{ err error }

func (e *badRequestError) Error() string { return e.err.Error() }
func (e *badRequestError) Unwrap() error { return e.err }

// once makes one attempt.
func (c *Client) once(ctx context.Context, r request, out any) error {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.base+r.path, body)
	if err != nil {
		return &badRequestError{err}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.key != "" {
		req.Header.Set("Idempotency-Key", r.key)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// Answers are small (a batch's is 1000 IDs, ~30 KB); the bound keeps
	// a wrong URL from streaming something endless into memory.
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return errorFrom(resp, b)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		// A 2xx that is not ours: a proxy, or the wrong URL. The request
		// may have been stored; retrying with the same key is safe.
		return fmt.Errorf("decoding a %d answer: %w", resp.StatusCode, err)
	}
	return nil
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(t))
	}
	return 0
}
