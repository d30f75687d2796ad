// Package web holds what the REST API (internal/api) and the web UI
// (internal/ui) share of HTTP: the status of each domain error code, the
// address a request is counted against, and the limiter of failed
// authentications that counts guesses wherever they come.
package web

import (
	"container/list"
	"math"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// FailureLimiter slows down the guessing of credentials: each client
// address has a bucket of FailureBurst failed authentications, refilled at
// FailureBurst a minute; an address whose bucket is empty is answered 429
// before its credential is even looked at, so that guesses cost time and
// not database lookups. A success takes nothing from the bucket.
//
// Its zero value is ready to use. It is safe for concurrent use, and it
// holds at most FailureAddresses addresses, forgetting the one that failed
// least recently: an attacker with more addresses than that gains nothing
// they did not already have, since every fresh address starts full anyway.
type FailureLimiter struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu    sync.Mutex
	byKey map[netip.Addr]*list.Element // of *failures
	lru   list.List                    // most recent failure at the front
}

const (
	// FailureBurst is how many failed authentications an address may make
	// at once, and how many a minute after that.
	FailureBurst = 20
	// FailureAddresses bounds the addresses a FailureLimiter remembers:
	// about 100 bytes each.
	FailureAddresses = 10000

	refillEvery = time.Minute / FailureBurst
)

// failures is one address's bucket: tokens at the time at.
type failures struct {
	key    netip.Addr
	tokens float64
	at     time.Time
}

// level returns the bucket's tokens at now, refilled since f.at.
func (f *failures) level(now time.Time) float64 {
	return min(FailureBurst, f.tokens+float64(now.Sub(f.at))/float64(refillEvery))
}

func (l *FailureLimiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Blocked returns how long addr must wait before its next authentication
// attempt is looked at, or 0 if it may try now.
func (l *FailureLimiter) Blocked(addr netip.Addr) time.Duration {
	key := limitKey(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.byKey[key]
	if !ok {
		return 0
	}
	f := e.Value.(*failures)
	now := l.now()
	lvl := f.level(now)
	if lvl >= 1 {
		if lvl >= FailureBurst { // refilled: nothing left worth remembering
			l.lru.Remove(e)
			delete(l.byKey, key)
		}
		return 0
	}
	return time.Duration((1 - lvl) * float64(refillEvery))
}

// Fail records a failed authentication from addr.
func (l *FailureLimiter) Fail(addr netip.Addr) {
	key := limitKey(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.byKey == nil {
		l.byKey = make(map[netip.Addr]*list.Element)
	}
	e, ok := l.byKey[key]
	if !ok {
		if l.lru.Len() >= FailureAddresses {
			oldest := l.lru.Back()
			delete(l.byKey, oldest.Value.(*failures).key)
			l.lru.Remove(oldest)
		}
		e = l.lru.PushFront(&failures{key: key, tokens: FailureBurst, at: now})
		l.byKey[key] = e
	}
	f := e.Value.(*failures)
	f.tokens, f.at = max(0, f.level(now)-1), now
	l.lru.MoveToFront(e)
}

// limitKey is the unit an address is counted in: an IPv4 address, or the
// /64 of an IPv6 one, since a single host commonly holds a whole /64 and
// could otherwise take a fresh address for every guess.
func limitKey(addr netip.Addr) netip.Addr {
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.Addr()
	}
	return addr
}

// ClientAddr is the address a request is counted against: the peer of the
// connection. X-Forwarded-For is not believed, since any client can send
// it; behind a reverse proxy every client then shares the proxy's bucket,
// and trusting the proxy's header would need a flag naming the proxy,
// which serve does not have yet.
func ClientAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, _ := netip.ParseAddr(host)
	return addr // the zero Addr, shared by all, if RemoteAddr is not an IP
}

// Seconds is a wait as the whole seconds of a Retry-After header, rounded
// up so that a client that waits that long is let in.
func Seconds(wait time.Duration) int { return int(math.Ceil(wait.Seconds())) }
