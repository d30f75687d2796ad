package delivery

import (
	"github.com/onetalk/onetalk-webhooks/internal/otw"
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

// After a claim that found nothing to lease, with room to spare, freed
// workers wake no claim: what becomes due is announced or handed over by
// the write that lets it go. A write that let an order key go without a
// worker promised for its next delivery ends that state: a claim must look.
func TestDrainedClaimLoopSleepsUntilAKeyIsLetGoUntried(t *testing.T) {
	s := OpenTestStore(t, "integration_message_status", map[int64]string{1: "http://127.0.0.1:1/"})
	d := New(Config{Store: s, PerWebhook: 2, Workers: 4, PollInterval: time.Hour})
	done := func() []outcome {
		d.mu.Lock()
		d.inUse++
		d.inUseBy[1]++
		d.mu.Unlock()
		return []outcome{{result: store.AttemptResult{OrganizationID: 1}}}
	}
	if _, err := d.claim(t.Context()); err != nil || !d.isDrained() {
		t.Fatalf("claim on an empty store: drained %v, %v; want drained", d.isDrained(), err)
	}
	d.freeWorkers(done(), nil)
	if woken(d) {
		t.Fatal("woken by freed workers after a claim that found nothing")
	}
	// Outside Run no worker is promised: the key goes untried.
	success := store.Completion{Results: []store.AttemptResult{{OrganizationID: 1, OrderKey: "m:1", Status: otw.DeliverySucceeded}}}
	if !d.handOverNext(&success) {
		t.Fatal("a key let go without a promised worker is not reported untried")
	}
	d.undrain()
	d.freeWorkers(done(), nil)
	if !woken(d) {
		t.Fatal("not woken once a key was let go untried")
	}
	d.mu.Lock()
	d.drained = true
	d.inUseBy[1] = 4 // the organization holds all it may (a round ahead of its 2): the claim skips it
	d.mu.Unlock()
	if _, err := d.claim(t.Context()); err != nil || d.isDrained() {
		t.Fatalf("claim while an organization held all it may: drained %v, %v; want not", d.isDrained(), err)
	}
}

// A success freed early wakes the claim loop only when the last claim may
// have left work behind and its organization is left with fewer than half
// a webhook's worth waiting: after a claim that took all it found, new work
// is announced, and a claim per request would find nothing.
func TestSuccessFreedEarlyWakesOnlyWhenWorkWasLeft(t *testing.T) {
	d := New(Config{PerWebhook: 4, Workers: 8})
	success := func() outcome {
		d.mu.Lock()
		d.inUse++
		d.inUseBy[1]++
		d.mu.Unlock()
		return outcome{result: store.AttemptResult{OrganizationID: 1, Status: otw.DeliverySucceeded}}
	}
	setWaiting := func(n int) {
		d.mu.Lock()
		d.waiting[1] = make([]*store.Claimed, n)
		d.mu.Unlock()
	}
	d.claimedAll = true
	d.requestEnded(success())
	if woken(d) {
		t.Fatal("woken although the last claim took all it found")
	}
	d.claimedAll = false
	setWaiting(2)
	d.requestEnded(success())
	if woken(d) {
		t.Fatal("woken with half a webhook's worth waiting")
	}
	setWaiting(1)
	if o := d.requestEnded(success()); !o.freedEarly || !woken(d) {
		t.Fatalf("freed early %v, woken: want both once the last claim reached its room and less than half waits", o.freedEarly)
	}
}

// A claim may have left work behind when it took all the room of some
// organization (perOrg less what it held).
func TestReachedRoom(t *testing.T) {
	of := func(orgs ...int64) []store.Claimed {
		var c []store.Claimed
		for _, org := range orgs {
			c = append(c, store.Claimed{OrganizationID: org})
		}
		return c
	}
	for _, tc := range []struct {
		claimed []store.Claimed
		held    map[int64]int
		want    bool
	}{
		{of(), nil, false},
		{of(1, 1, 2), nil, false},
		{of(1, 1, 1), nil, true},
		{of(1, 2), map[int64]int{2: 2}, true},
		{of(1, 2), map[int64]int{1: 1}, false},
	} {
		if got := reachedRoom(tc.claimed, 3, tc.held); got != tc.want {
			t.Errorf("reachedRoom(%d claimed, perOrg 3, held %v) = %v, want %v", len(tc.claimed), tc.held, got, tc.want)
		}
	}
}
