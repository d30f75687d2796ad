package delivery_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/delivery"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// Four tenants whose receivers never answer, with more deliveries than
// the workers, cannot keep a fifth tenant waiting: its delivery goes out
// while theirs still hang (before the fix, 4 × PerWebhook took every
// worker and the fifth waited for the first timeout).
func TestHangingTenantsLeaveWorkersForOthers(t *testing.T) {
	ctx := t.Context()
	slow := hangingReceiver(t)
	arrived := make(chan string, 10)
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- r.Header.Get("webhook-id")
	}))
	defer healthy.Close()

	s := delivery.OpenTestStore(t, "case_resolved", map[int64]string{1: slow.URL, 2: slow.URL, 3: slow.URL, 4: slow.URL, 5: healthy.URL})
	now := time.Now()
	publish := func(org int64, n int) []otw.Event {
		var events []otw.Event
		for range n {
			events = append(events, otw.Event{ID: otw.NewID("evt_", now), OrganizationID: org, Type: "case_resolved",
				Body: []byte(`{}`), CreatedAt: time.Now()})
		}
		if _, _, err := s.InsertEvents(ctx, events, time.Now(), store.Take{}); err != nil {
			t.Fatal(err)
		}
		return events
	}
	for org := int64(1); org <= 4; org++ {
		publish(org, 30)
	}
	const timeout = 20 * time.Second
	d := delivery.New(delivery.Config{Store: s, OpenSecret: func(b []byte) ([]byte, error) { return b, nil },
		Client: &http.Client{}, Workers: 32, PerWebhook: 8, Timeout: timeout, PollInterval: 20 * time.Millisecond,
		ShutdownGrace: 100 * time.Millisecond})
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- d.Run(runCtx) }()
	defer func() { stop(); <-ran }()

	// Wait until the hanging tenants hold all the workers they may.
	for deadline := time.Now().Add(5 * time.Second); d.WorkersInUse() < 28; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d requests out to the hanging tenants, want 28 (32 less the reserve)", d.WorkersInUse())
		}
	}
	for range 3 {
		e := publish(5, 1)[0]
		// The insert announced what it did not hand over: the dispatcher listens.
		select {
		case id := <-arrived:
			if id != e.ID {
				t.Fatalf("arrived %s, want %s", id, e.ID)
			}
		case <-time.After(timeout / 2):
			t.Fatalf("the healthy tenant's delivery did not go out while the others hung (%d workers in use)", d.WorkersInUse())
		}
	}
}

// However many organizations have work, a node holds about twice its
// workers, and beyond that one delivery per organization that holds
// nothing: claimed work beyond what can start soon would only sit leased
// (other nodes could not take it) and be given back stale.
func TestClaimedWorkIsBoundedWhateverTheNumberOfOrganizations(t *testing.T) {
	ctx := t.Context()
	slow := hangingReceiver(t)
	const orgs, workers = 60, 16
	urls := map[int64]string{}
	for org := int64(1); org <= orgs; org++ {
		urls[org] = slow.URL
	}
	s := delivery.OpenTestStore(t, "case_resolved", urls)
	now := time.Now()
	var events []otw.Event
	for org := int64(1); org <= orgs; org++ {
		for range 10 {
			events = append(events, otw.Event{ID: otw.NewID("evt_", now), OrganizationID: org, Type: "case_resolved",
				Body: []byte(`{}`), CreatedAt: now})
		}
	}
	if _, _, err := s.InsertEvents(ctx, events, now, store.Take{}); err != nil {
		t.Fatal(err)
	}
	d := delivery.New(delivery.Config{Store: s, OpenSecret: func(b []byte) ([]byte, error) { return b, nil },
		Client: &http.Client{}, Workers: workers, PerWebhook: 4, Timeout: 20 * time.Second, PollInterval: 5 * time.Millisecond,
		ShutdownGrace: 100 * time.Millisecond})
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- d.Run(runCtx) }()
	defer func() { stop(); <-ran }()
	for deadline := time.Now().Add(5 * time.Second); d.WorkersInUse() < workers; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d requests out, want all %d workers busy", d.WorkersInUse(), workers)
		}
	}
	// Many claims later (one every 5 ms at least), the holding is bounded.
	time.Sleep(300 * time.Millisecond)
	if claimed, bound := d.Claimed(), 2*workers+orgs; claimed > bound {
		t.Fatalf("holds %d deliveries claimed with %d workers and %d organizations, want at most %d", claimed, workers, orgs, bound)
	}
}

// hangingReceiver accepts every request and never answers it: an endpoint
// whose requests end only at the delivery timeout (or the test's end).
func hangingReceiver(t *testing.T) *httptest.Server {
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(hang); slow.Close() })
	return slow
}
