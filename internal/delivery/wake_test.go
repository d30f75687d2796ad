package delivery

import (
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// woken reports whether a wake-up of the claim loop is pending, and spends it.
func woken(d *Dispatcher) bool {
	select {
	case <-d.wake:
		return true
	default:
		return false
	}
}

// A retry wakes the claim loop only when it falls due before the loop's
// sleep ends: a later one is read by the next sleep, without a claim.
func TestWakeForRetryOnlyBeforeTheSleepEnds(t *testing.T) {
	now := time.Now()
	d := New(Config{Now: func() time.Time { return now }, PollInterval: time.Second})
	d.wakeForRetry(now.Add(100 * time.Millisecond))
	if woken(d) {
		t.Fatal("woken while awake: the next sleep reads the retry")
	}
	if got := d.sleep(); got != 100*time.Millisecond {
		t.Fatalf("sleep %s, want until the retry (100ms)", got)
	}
	d.wakeForRetry(now.Add(time.Second))
	if woken(d) {
		t.Fatal("woken for a retry due after the sleep ends")
	}
	d.wakeForRetry(now.Add(50 * time.Millisecond))
	if !woken(d) {
		t.Fatal("not woken for a retry due before the sleep ends")
	}
	d.mu.Lock()
	d.awakeLocked()
	d.mu.Unlock()
	d.wakeForRetry(now.Add(10 * time.Millisecond))
	if woken(d) {
		t.Fatal("woken while awake")
	}
}

// Freed workers wake the claim loop when an organization of theirs has
// fewer deliveries waiting than a webhook may have out, and not otherwise:
// what waits fills them without a claim.
func TestFreeWorkersWakesWhenWaitingRunsShort(t *testing.T) {
	d := New(Config{PerWebhook: 2})
	done := func(org int64) []outcome {
		d.mu.Lock()
		d.inUse++
		d.inUseBy[org]++
		d.mu.Unlock()
		return []outcome{{result: store.AttemptResult{OrganizationID: org}}}
	}
	d.mu.Lock()
	d.waiting[1] = []*store.Claimed{{}, {}}
	d.mu.Unlock()
	d.freeWorkers(done(1), nil)
	if woken(d) {
		t.Fatal("woken with a webhook's worth of deliveries waiting")
	}
	d.freeWorkers(done(2), nil)
	if !woken(d) {
		t.Fatal("not woken with nothing waiting")
	}
	if n := d.WorkersInUse(); n != 0 {
		t.Fatalf("%d workers in use after both were freed", n)
	}
}
