// Package ingest commits concurrent publishes together. Each publish must
// be durable before its 202, and a durable commit costs an fsync; when
// many clients publish at once, one transaction for all of them costs one
// fsync instead of one each (group commit). A publish that arrives alone
// is written at once: nothing waits for company.
//
// Who calls whom: the API calls Insert; the Committer calls the store, and
// the local dispatcher only through the Handoff main gives it. It does not
// import the dispatcher, and the dispatcher never calls it.
package ingest

import (
	"context"
	"sync"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// MaxGroup bounds the events of one group transaction.
const MaxGroup = 2000

// Committer groups InsertEvents calls. Create it with New; it runs until
// Close.
type Committer struct {
	store    store.Store
	now      func() time.Time
	handoff  Handoff
	requests chan *request
	done     chan struct{}
	// mu guards closed: a publish that arrives after Close (a request that
	// outlived the server's shutdown) is refused, not sent on a closed
	// channel.
	mu     sync.RWMutex
	closed bool
}

type request struct {
	ctx    context.Context
	events []otw.Event
	reply  chan reply
}

type reply struct {
	inserted []store.Inserted
	err      error
}

// Handoff is the local dispatcher (delivery.Dispatcher, wired by main),
// which takes fresh deliveries straight from the insert that stores them
// (see store.Take): Reserve before the insert, Accept after it, with what
// was taken.
type Handoff interface {
	Reserve(orgs []int64, want map[int64]int) store.Take
	Accept(take store.Take, taken []store.Claimed)
}

// Options configures a Committer. Zero values take the defaults.
type Options struct {
	Now func() time.Time // time.Now
	// Handoff, when set, is given the fresh deliveries it has room for.
	Handoff Handoff
}

// New starts a Committer in front of st.
func New(st store.Store, opts Options) *Committer {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &Committer{store: st, now: opts.Now, handoff: opts.Handoff, requests: make(chan *request, 256), done: make(chan struct{})}
	go c.loop()
	return c
}

// Insert stores events like store.InsertEvents, sharing the transaction
// with publishes that arrive meanwhile. It returns once they are committed.
func (c *Committer) Insert(ctx context.Context, events []otw.Event) ([]store.Inserted, error) {
	r := &request{ctx: ctx, events: events, reply: make(chan reply, 1)}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return nil, otw.Errorf(otw.EUNAVAILABLE, "the service is shutting down")
	}
	select {
	case c.requests <- r:
	case <-ctx.Done():
		c.mu.RUnlock()
		return nil, ctx.Err()
	}
	c.mu.RUnlock()
	// The transaction may already be under way: wait for its outcome even
	// if the caller gives up, so nothing is half known.
	rep := <-r.reply
	return rep.inserted, rep.err
}

// Close stops the Committer after the publishes already queued.
func (c *Committer) Close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.requests)
	}
	c.mu.Unlock()
	<-c.done
}

func (c *Committer) loop() {
	defer close(c.done)
	var group []*request
	var carry *request // the first of the next group
	keys := make(map[string]bool)
	for {
		r := carry
		carry = nil
		if r == nil {
			var ok bool
			if r, ok = <-c.requests; !ok {
				return
			}
		}
		group = append(group[:0], r)
		clear(keys)
		addKeys(keys, r)
		n := len(r.events)
	gather:
		for n < MaxGroup {
			select {
			case more, ok := <-c.requests:
				if !ok {
					break gather
				}
				// Two publishes with one idempotency key must see each
				// other: the second waits for the next transaction.
				if hasKey(keys, more) {
					carry = more
					break gather
				}
				group = append(group, more)
				addKeys(keys, more)
				n += len(more.events)
			default:
				break gather
			}
		}
		c.commit(group, n)
	}
}

func addKeys(keys map[string]bool, r *request) {
	for i := range r.events {
		if k := r.events[i].IdempotencyKey; k != "" {
			keys[k] = true
		}
	}
}

func hasKey(keys map[string]bool, r *request) bool {
	for i := range r.events {
		if keys[r.events[i].IdempotencyKey] {
			return true
		}
	}
	return false
}

// commit writes a group in one transaction. If the group fails, each
// request is tried on its own, so one bad publish (a reused idempotency
// key) fails alone.
func (c *Committer) commit(group []*request, n int) {
	group = live(group)
	if len(group) == 0 {
		return
	}
	if len(group) == 1 {
		c.single(group[0])
		return
	}
	events := make([]otw.Event, 0, n)
	for _, r := range group {
		events = append(events, r.events...)
	}
	inserted, err := c.insert(events)
	if err != nil {
		for _, r := range group {
			c.single(r)
		}
		return
	}
	for _, r := range group {
		r.reply <- reply{inserted: inserted[:len(r.events):len(r.events)]}
		inserted = inserted[len(r.events):]
	}
}

func (c *Committer) single(r *request) {
	inserted, err := c.insert(r.events)
	r.reply <- reply{inserted, err}
}

// insert stores events, handing the deliveries it takes to the dispatcher.
func (c *Committer) insert(events []otw.Event) ([]store.Inserted, error) {
	if c.handoff == nil {
		inserted, _, err := c.store.InsertEvents(context.Background(), events, c.now().UTC(), store.Take{})
		return inserted, err
	}
	// At most a worker per event: promised workers are kept from claims
	// and from completions' hand-overs until Accept.
	var orgs []int64
	want := make(map[int64]int)
	for i := range events {
		org := events[i].OrganizationID
		if want[org] == 0 {
			orgs = append(orgs, org)
		}
		want[org]++
	}
	take := c.handoff.Reserve(orgs, want)
	inserted, taken, err := c.store.InsertEvents(context.Background(), events, c.now().UTC(), take)
	c.handoff.Accept(take, taken)
	return inserted, err
}

// live answers requests whose callers have gone and returns the rest:
// nothing is written for a publish nobody waits for.
func live(group []*request) []*request {
	out := group[:0]
	for _, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.reply <- reply{err: err}
			continue
		}
		out = append(out, r)
	}
	return out
}
