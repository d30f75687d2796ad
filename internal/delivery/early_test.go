package delivery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// heldWrites runs a dispatcher with 4 workers over n deliveries of
// organization 1 (order keys from keys, cycled; "" is none) to a receiver
// answering code, on a store whose outcome writes are held until release
// is called. It returns the IDs of the requests as they arrive, the
// dispatcher, the events' IDs in the order they were published, the store,
// and stop, which ends Run and fails the test on its error.
func heldWrites(t *testing.T, n, code int, keys ...string) (arrived chan string, d *Dispatcher, ids []string, f *faultyStore, release, stop func()) {
	t.Helper()
	ctx := t.Context()
	arrived = make(chan string, n)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- r.Header.Get("webhook-id")
		w.WriteHeader(code)
	}))
	t.Cleanup(receiver.Close)
	s := OpenTestStore(t, "integration_message_status", map[int64]string{1: receiver.URL})
	if len(keys) == 0 {
		keys = []string{""}
	}
	now := time.Now()
	var events []otw.Event
	for i := range n {
		events = append(events, otw.Event{ID: otw.NewID("evt_", now), OrganizationID: 1, Type: "integration_message_status",
			OrderKey: keys[i%len(keys)], Body: []byte(`{}`), CreatedAt: now})
		ids = append(ids, events[i].ID)
	}
	if _, _, err := s.InsertEvents(ctx, events, now, store.Take{}); err != nil {
		t.Fatal(err)
	}
	f = &faultyStore{Store: s, hold: make(chan struct{})}
	d = New(Config{Store: f, OpenSecret: func(b []byte) ([]byte, error) { return b, nil }, Client: &http.Client{},
		Workers: 4, PerWebhook: 4, PollInterval: time.Hour})
	runCtx, cancel := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- d.Run(runCtx) }()
	var released atomic.Bool
	release = func() {
		if released.CompareAndSwap(false, true) {
			close(f.hold)
		}
	}
	t.Cleanup(release)
	return arrived, d, ids, f, release, func() {
		release()
		cancel()
		if err := <-ran; err != nil {
			t.Fatal(err)
		}
	}
}

// settled waits until want requests have arrived, then a moment more, and
// says how many arrived in all.
func settled(t *testing.T, arrived chan string, want int) int {
	t.Helper()
	for range want {
		Receive(t, arrived)
	}
	time.Sleep(200 * time.Millisecond) // time for a request that should not start
	return want + len(arrived)
}

// A success frees its worker as soon as its request ends, not when its
// outcome is written: while writes are held, the four workers send four
// deliveries, and then four more in the workers the successes freed.
// Successes freed early and not yet written are bounded by the workers:
// the next four keep their workers until written, so nothing more starts,
// however long the writes take. Once written, everything goes out.
func TestSuccessFreesItsWorkerBeforeItsWrite(t *testing.T) {
	t.Parallel()
	arrived, d, _, _, release, stop := heldWrites(t, 12, http.StatusNoContent)
	if got := settled(t, arrived, 8); got != 8 {
		t.Fatalf("%d requests out while every write was held, want 8 (4 workers, freed once by their successes)", got)
	}
	d.mu.Lock()
	inUse, unwritten := d.inUse, d.unwritten
	d.mu.Unlock()
	if inUse != 4 || unwritten != 4 {
		t.Fatalf("%d workers in use, %d successes freed early; want 4 and 4", inUse, unwritten)
	}
	release()
	for range 4 {
		Receive(t, arrived)
	}
	stop()
	if d.unwritten != 0 || d.WorkersInUse() != 0 {
		t.Fatalf("after Run: %d successes counted unwritten, %d workers in use; want none", d.unwritten, d.WorkersInUse())
	}
}

// A failure keeps its worker until its outcome is written: it may disable
// its webhook or schedule its retry, and no more is sent to that receiver
// before the write says which.
func TestFailureKeepsItsWorkerUntilWritten(t *testing.T) {
	t.Parallel()
	arrived, d, _, _, release, stop := heldWrites(t, 8, http.StatusInternalServerError)
	if got := settled(t, arrived, 4); got != 4 {
		t.Fatalf("%d requests out while the writes of four failures were held, want 4", got)
	}
	if n := d.WorkersInUse(); n != 4 {
		t.Fatalf("%d workers in use, want the 4 failures' own", n)
	}
	release()
	stop()
}

// The next delivery of an order key is free to go once the previous one's
// success is written, which is after its worker was freed: that write
// wakes the claim loop, so the next goes at once, not at the next poll (an
// hour here).
func TestOrderKeyGoesOnAfterTheWriteOfASuccessFreedEarly(t *testing.T) {
	t.Parallel()
	arrived, _, ids, _, release, stop := heldWrites(t, 3, http.StatusNoContent, "m:1")
	first := Receive(t, arrived)
	if got := settled(t, arrived, 0); got != 0 {
		t.Fatalf("%d more requests of the order key out before the first one's outcome was written", got)
	}
	release()
	got := []string{first, Receive(t, arrived), Receive(t, arrived)}
	stop()
	if !slices.Equal(got, ids) {
		t.Fatalf("arrived %v, want the events' order %v", got, ids)
	}
}

// The write of a success hands over the next delivery of its order key
// (store.Completion.Take): with every claim finding nothing once the first
// is out, the second and third still go, in order.
func TestWriteHandsOverTheNextOfTheKey(t *testing.T) {
	t.Parallel()
	arrived, _, ids, f, release, stop := heldWrites(t, 3, http.StatusNoContent, "m:1")
	first := Receive(t, arrived)
	f.blind.Store(true)
	release()
	got := []string{first, Receive(t, arrived), Receive(t, arrived)}
	stop()
	if !slices.Equal(got, ids) {
		t.Fatalf("arrived %v, want the events' order %v", got, ids)
	}
}
