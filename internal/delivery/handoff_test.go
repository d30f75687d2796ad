package delivery_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/delivery"
	"github.com/onetalk/onetalk-webhooks/internal/ingest"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/sqlite"
)

// An insert hands its fresh deliveries to the running dispatcher, which
// sends them at once: no claim, no wake-up. The dispatcher here polls once
// an hour and the insert, which hands every delivery over, announces
// nothing (store.Store.Listen), so only the hand-over can deliver.
func TestInsertHandsFreshDeliveriesToTheDispatcher(t *testing.T) {
	ctx := t.Context()
	s, d, arrived, stop := runningDispatcher(t)

	committer := ingest.New(s, ingest.Options{Handoff: d})
	defer committer.Close()
	var events []otw.Event
	for _, key := range []string{"m:1", "m:2", ""} {
		events = append(events, otw.Event{ID: otw.NewID("evt_", time.Now()), OrganizationID: 1, Type: "integration_message_status",
			OrderKey: key, Body: []byte(`{"type":"integration_message_status"}`), CreatedAt: time.Now()})
	}
	in, err := committer.Insert(ctx, events)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for range events {
		got[delivery.Receive(t, arrived)] = true
	}
	for i, e := range events {
		if !got[e.ID] || !in[i].Taken {
			t.Errorf("event %d: arrived %v, taken %v; want both", i, got[e.ID], in[i].Taken)
		}
	}
	stop()
	// Run has written every outcome before it returns.
	for i := range in {
		if dl, err := s.GetDelivery(ctx, 1, in[i].DeliveryID); err != nil || dl.Status != otw.DeliverySucceeded {
			t.Errorf("delivery of event %d: %v, status %q; want succeeded", i, err, dl.Status)
		}
	}
}

// Reserve promises only workers that are free and not promised already, per
// webhook and in all; Accept returns what was not used; outside Run
// nothing is promised.
func TestReservePromisesOnlyFreeWorkers(t *testing.T) {
	s := handoffStore(t, "http://127.0.0.1:1/")
	d := delivery.New(delivery.Config{
		Store: s, OpenSecret: func(b []byte) ([]byte, error) { return b, nil }, Client: &http.Client{},
		Workers: 3, PerWebhook: 2, PollInterval: time.Hour,
	})
	if take := d.Reserve([]int64{1}, nil); len(take.Room) != 0 {
		t.Fatalf("before Run: promised %v", take.Room)
	}
	runCtx, stop := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	go func() { ran <- d.Run(runCtx) }()
	waitRunning(t, d)

	first := d.Reserve([]int64{1, 2}, nil)
	if first.Room[1] != 2 || first.Room[2] != 1 {
		t.Fatalf("promised %v, want 2 for the first webhook (its limit) and 1 for the second (3 in all)", first.Room)
	}
	if again := d.Reserve([]int64{1, 2}, nil); len(again.Room) != 0 {
		t.Fatalf("promised %v again while every worker is promised", again.Room)
	}
	d.Accept(first, nil)
	// An insert of one event of the first webhook is promised one worker,
	// not all that are free: the rest stay for claims and hand-overs.
	if one := d.Reserve([]int64{1}, map[int64]int{1: 1}); one.Room[1] != 1 {
		t.Fatalf("promised %v for one event, want 1", one.Room)
	} else {
		d.Accept(one, nil)
	}
	if after := d.Reserve([]int64{2}, nil); after.Room[2] != 2 {
		t.Fatalf("after the unused promise came back: promised %v, want 2 for the second webhook", after.Room)
	} else {
		d.Accept(after, nil)
	}
	stop()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	if take := d.Reserve([]int64{1}, nil); len(take.Room) != 0 {
		t.Fatalf("after Run: promised %v", take.Room)
	}
}

// runningDispatcher runs a dispatcher that polls once an hour, on a store
// whose webhooks post to a receiver that reports each webhook-id on
// arrived. stop ends Run and fails the test if Run failed.
func runningDispatcher(t *testing.T) (s *sqlite.Store, d *delivery.Dispatcher, arrived chan string, stop func()) {
	t.Helper()
	arrived = make(chan string, 10)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- r.Header.Get("webhook-id")
	}))
	t.Cleanup(receiver.Close)
	s = handoffStore(t, receiver.URL)
	d = delivery.New(delivery.Config{
		Store: s, OpenSecret: func(b []byte) ([]byte, error) { return b, nil }, Client: &http.Client{},
		PollInterval: time.Hour,
	})
	runCtx, cancel := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	go func() { ran <- d.Run(runCtx) }()
	waitRunning(t, d)
	return s, d, arrived, func() {
		cancel()
		if err := <-ran; err != nil {
			t.Fatal(err)
		}
	}
}

// handoffStore is a SQLite store whose organizations 1 and 2 have a webhook
// at url taking integration_message_status.
func handoffStore(t *testing.T, url string) *sqlite.Store {
	return delivery.OpenTestStore(t, "integration_message_status", map[int64]string{1: url, 2: url})
}

// waitRunning waits until the dispatcher's Run has started: it promises
// workers from then on.
func waitRunning(t *testing.T, d *delivery.Dispatcher) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if take := d.Reserve([]int64{1}, nil); len(take.Room) > 0 {
			d.Accept(take, nil)
			return
		}
	}
	t.Fatal("the dispatcher did not start within 10 s")
}

var _ ingest.Handoff = (*delivery.Dispatcher)(nil)

// Deliveries an insert took while the dispatcher ran, handed over after it
// stopped, are given back for the next start, not sent.
func TestAcceptAfterStopGivesBack(t *testing.T) {
	ctx := t.Context()
	s, d, arrived, stop := runningDispatcher(t)

	take := d.Reserve([]int64{1}, nil)
	now := time.Now()
	e := otw.Event{ID: otw.NewID("evt_", now), OrganizationID: 1, Type: "integration_message_status",
		Body: []byte(`{"type":"integration_message_status"}`), CreatedAt: now}
	_, taken, err := s.InsertEvents(ctx, []otw.Event{e}, now, take)
	if err != nil || len(taken) != 1 {
		t.Fatalf("insert took %d, %v; want 1", len(taken), err)
	}
	stop()
	d.Accept(take, taken)
	select {
	case id := <-arrived:
		t.Fatalf("%s was sent after the dispatcher stopped", id)
	case <-time.After(100 * time.Millisecond):
	}
	again, err := s.ClaimDeliveries(ctx, store.ClaimParams{Now: time.Now(), LeaseUntil: time.Now().Add(time.Minute), Limit: 10, PerOrganization: 10})
	if err != nil || len(again) != 1 || again[0].EventID != e.ID {
		t.Fatalf("claimed %d (%v) after the give-back, want the taken delivery", len(again), err)
	}
}
