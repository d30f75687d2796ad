package store

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
)

// Announcer passes a store's announcements (see Store.Listen) to its
// listeners in this process. A driver calls Announce after each commit
// that announces, and its Listen is the Announcer's (or, for a driver that
// also hears other processes, uses Subscribe). The zero value is ready.
type Announcer struct {
	mu sync.Mutex // held by writers of listeners
	// listeners is replaced, never changed, so that Announce, on the
	// write paths, reads it without a lock.
	listeners atomic.Pointer[[]*listener]
}

type listener struct{ wake func() }

// Announce wakes every listener. It does not block (a wake must not), and
// with no listener it costs one atomic load.
func (a *Announcer) Announce() {
	if ls := a.listeners.Load(); ls != nil {
		for _, l := range *ls {
			l.wake()
		}
	}
}

// Subscribe makes wake a listener until the returned function is called.
func (a *Announcer) Subscribe(wake func()) (unsubscribe func()) {
	l := &listener{wake: wake}
	a.mu.Lock()
	var ls []*listener
	if cur := a.listeners.Load(); cur != nil {
		ls = slices.Clone(*cur)
	}
	ls = append(ls, l)
	a.listeners.Store(&ls)
	a.mu.Unlock()
	return func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		ls := slices.DeleteFunc(slices.Clone(*a.listeners.Load()), func(x *listener) bool { return x == l })
		a.listeners.Store(&ls)
	}
}

// Listen is Store.Listen for a store whose announcements stay in this
// process: it calls wake once it listens, then on every Announce, until
// ctx is done, and returns ctx.Err().
func (a *Announcer) Listen(ctx context.Context, wake func()) error {
	defer a.Subscribe(wake)()
	wake()
	<-ctx.Done()
	return ctx.Err()
}
