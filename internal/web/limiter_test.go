package web

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// clock is a settable time for a FailureLimiter.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }
func addr(s string) netip.Addr       { return netip.MustParseAddr(s) }
func failN(l *FailureLimiter, a string, n int) {
	for range n {
		l.Fail(addr(a))
	}
}

func TestFailureLimiterBucket(t *testing.T) {
	c := newClock()
	l := &FailureLimiter{Now: c.now}
	failN(l, "192.0.2.1", FailureBurst-1)
	if d := l.Blocked(addr("192.0.2.1")); d != 0 {
		t.Fatalf("blocked for %v after %d failures, allowed %d", d, FailureBurst-1, FailureBurst)
	}
	l.Fail(addr("192.0.2.1"))
	if d := l.Blocked(addr("192.0.2.1")); d != refillEvery {
		t.Fatalf("after %d failures: blocked for %v, want %v", FailureBurst, d, refillEvery)
	}
	if d := l.Blocked(addr("192.0.2.2")); d != 0 {
		t.Fatalf("another address is blocked for %v", d)
	}

	// One attempt comes back every refillEvery, not a burst.
	c.add(refillEvery)
	if d := l.Blocked(addr("192.0.2.1")); d != 0 {
		t.Fatalf("still blocked for %v after %v", d, refillEvery)
	}
	l.Fail(addr("192.0.2.1"))
	if d := l.Blocked(addr("192.0.2.1")); d != refillEvery {
		t.Fatalf("the refilled attempt used: blocked for %v, want %v", d, refillEvery)
	}

	// After a quiet minute the bucket is full again, and forgotten.
	c.add(time.Minute)
	if d := l.Blocked(addr("192.0.2.1")); d != 0 {
		t.Fatalf("blocked for %v after a quiet minute", d)
	}
	if n := len(l.byKey); n != 0 {
		t.Fatalf("%d addresses remembered after they refilled", n)
	}
}

// An IPv6 host owns its /64, and an IPv4 client may come as ::ffff:a.b.c.d:
// either way it is one bucket.
func TestFailureLimiterKeys(t *testing.T) {
	l := &FailureLimiter{Now: newClock().now}
	for i := range FailureBurst {
		l.Fail(addr(fmt.Sprintf("2001:db8:1:2::%x", i+1)))
	}
	if l.Blocked(addr("2001:db8:1:2:ffff::1")) == 0 {
		t.Fatal("a fresh address in the same /64 is not blocked")
	}
	if d := l.Blocked(addr("2001:db8:1:3::1")); d != 0 {
		t.Fatalf("the next /64 is blocked for %v", d)
	}
	failN(l, "::ffff:198.51.100.7", FailureBurst)
	if l.Blocked(addr("198.51.100.7")) == 0 {
		t.Fatal("198.51.100.7 is not blocked after failing as ::ffff:198.51.100.7")
	}
}

// However many addresses fail, the limiter remembers at most
// FailureAddresses, keeping the most recent.
func TestFailureLimiterIsBounded(t *testing.T) {
	l := &FailureLimiter{Now: newClock().now}
	a := addr("10.0.0.0")
	for range FailureAddresses + 500 {
		a = a.Next()
		l.Fail(a)
	}
	if n, m := len(l.byKey), l.lru.Len(); n != FailureAddresses || m != n {
		t.Fatalf("remembers %d addresses (list %d), want %d", n, m, FailureAddresses)
	}
	failN(l, a.String(), FailureBurst-1)
	if l.Blocked(a) == 0 {
		t.Fatal("the most recent address was forgotten")
	}
}
