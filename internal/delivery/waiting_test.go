package delivery_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/delivery"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// A delivery claimed ahead of its webhook's free worker waits behind a slow
// request. If the wait has used up so much of its lease that a whole
// request no longer fits, it must not be sent on that lease: the lease
// could run out mid-request and the delivery be claimed and sent again. It
// is given back and claimed afresh, and arrives once.
func TestWaitingDeliveryWithSpentLeaseIsClaimedAfreshNotSentTwice(t *testing.T) {
	ctx := t.Context()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }

	release := make(chan struct{})
	arrived := make(chan string, 10)
	var requests atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- r.Header.Get("webhook-id")
		switch requests.Add(1) {
		case 1:
			<-release // the slow request the other waits behind
		case 2:
			// Long enough for several claims: one that took this
			// delivery over would send it again.
			time.Sleep(300 * time.Millisecond)
		}
	}))
	defer receiver.Close()

	s := delivery.OpenTestStore(t, "integration_message_status", map[int64]string{1: receiver.URL})
	var events []otw.Event
	for _, key := range []string{"m:first", "m:second"} {
		events = append(events, otw.Event{ID: otw.NewID("evt_", now), OrganizationID: 1, Type: "integration_message_status",
			OrderKey: key, Body: []byte(`{"type":"integration_message_status"}`), CreatedAt: now})
	}
	if _, _, err := s.InsertEvents(ctx, events, now, store.Take{}); err != nil {
		t.Fatal(err)
	}

	const timeout = time.Second
	d := delivery.New(delivery.Config{
		Store: s, OpenSecret: func(b []byte) ([]byte, error) { return b, nil }, Client: &http.Client{},
		Timeout: timeout, Workers: 1, PerWebhook: 1, PollInterval: 20 * time.Millisecond, Now: clock,
	})
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- d.Run(runCtx) }()

	first := <-arrived
	if claimed, inUse := d.Claimed(), d.WorkersInUse(); claimed != 2 || inUse != 1 {
		t.Fatalf("Claimed %d, WorkersInUse %d; want 2 claimed (one sending, one waiting) and 1 worker in use", claimed, inUse)
	}
	// The second delivery was claimed with the first and waits for the
	// one worker. Time passes until its lease no longer covers a request
	// and the write after it, before the worker frees; the leases have not
	// run out. (Past them, the first's too would be out while its request
	// ran, longer than a request may, and a claim could take it over
	// before its success is written: not the case this test is about.)
	mu.Lock()
	now = now.Add(d.LeaseTerm() - timeout)
	mu.Unlock()
	close(release)

	second := delivery.Receive(t, arrived)
	if second == first {
		t.Fatalf("%s arrived twice before the other event", first)
	}
	// A copy sent on a takeover would follow the 300 ms request.
	select {
	case again := <-arrived:
		t.Fatalf("%s arrived again after both had arrived", again)
	case <-time.After(time.Second):
	}
	stop()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
}
