package delivery

import (
	"time"
)

// pacer spaces the requests of rate-limited webhooks: at most rate a
// second, one every 1/rate, with no burst, so that no second (whatever
// window one picks) sees more than the limit. A delivery that waits for
// its turn waits claimed, without a worker, and its turn is not a failed
// attempt.
//
// It is the generic cell rate algorithm: next is the earliest time the
// organization's next request may start.
type pacer struct {
	next map[int64]time.Time
}

func newPacer() pacer { return pacer{next: make(map[int64]time.Time)} }

// take reports whether a request of org may start at now under rate (per
// second; 0 is no limit) and, when it may, counts it. When it may not, at
// is when it may.
func (p pacer) take(org int64, rate int, now time.Time) (ok bool, at time.Time) {
	if rate <= 0 {
		delete(p.next, org)
		return true, time.Time{}
	}
	next := p.next[org]
	if now.Before(next) {
		return false, next
	}
	// A webhook idle for a while starts afresh: no credit is saved up.
	p.next[org] = now.Add(time.Second / time.Duration(rate))
	return true, time.Time{}
}

// forget drops an organization that has nothing waiting, so the map
// holds only webhooks with work.
func (p pacer) forget(org int64, now time.Time) {
	if next, ok := p.next[org]; ok && !now.Before(next) {
		delete(p.next, org)
	}
}
