package retention_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/retention"
	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/sqlite"
)

// Run removes, pass after pass, what falls out of the window, on a real
// SQLite file: events of an unknown organization (no delivery) published
// an hour ago go, those of the last minute stay.
func TestRunRemovesWhatFallsOutOfTheWindow(t *testing.T) {
	ctx := t.Context()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "otw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	publish := func(at time.Time, n int) {
		var events []otw.Event
		for range n {
			events = append(events, otw.Event{ID: otw.NewID("evt_", at), OrganizationID: 7, Type: "case_resolved",
				Body: []byte(`{}`), CreatedAt: at})
		}
		if _, _, err := s.InsertEvents(ctx, events, at, store.Take{}); err != nil {
			t.Fatal(err)
		}
	}
	publish(now.Add(-time.Hour), 25)
	publish(now, 5)

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		retention.Run(runCtx, retention.Config{Store: s, Window: 30 * time.Minute, Step: 10,
			Pause: time.Millisecond, Idle: 5 * time.Millisecond})
		close(done)
	}()
	defer func() { stop(); <-done }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		// Nothing old is left once a pass from the start finds nothing.
		cutoff := now.Add(-30 * time.Minute)
		if next, n, err := s.PruneEvents(ctx, store.PruneParams{Before: cutoff, KeyedBefore: cutoff, Limit: 100}); err == nil && next == 0 && n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("old events still there after 10 s")
		}
	}
	// The young ones stay: a cutoff after them finds all five.
	later := now.Add(time.Minute)
	if _, n, err := s.PruneEvents(ctx, store.PruneParams{Before: later, KeyedBefore: later, Limit: 100}); err != nil || n != 5 {
		t.Fatalf("after the run, %d young events were left (%v), want 5", n, err)
	}
}
