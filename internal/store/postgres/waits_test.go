package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// An insert does not announce a delivery that waits behind a pending one
// of its key: the write that ends that one hands it over. But that write
// may read the key before the insert commits and commit after the insert
// read it: then neither saw the other. So after its commit the insert asks
// again, and announces a delivery that no longer waits. Here the write
// that ends the first delivery hands nothing over (no Take), as in that
// race, and the question after the commit is what wakes a claim.
func TestInsertAnnouncesWhatNoLongerWaitsAfterItsCommit(t *testing.T) {
	t.Parallel()
	s := open(t, newSchema(t))
	newOrg(t, s, 1)
	ctx := context.Background()
	take := store.Take{LeaseUntil: t0.Add(time.Minute), Room: map[int64]int{1: 1}}
	_, first, err := s.InsertEvents(ctx, []otw.Event{newEvent(1, "case_resolved", "m:1")}, t0, take)
	if err != nil || len(first) != 1 {
		t.Fatalf("took %d, %v; want the first of m:1", len(first), err)
	}
	next := []otw.Event{newEvent(1, "case_resolved", "m:1")}
	out, _, err := s.InsertEvents(ctx, next, t0, take)
	if err != nil || !out[0].Waits {
		t.Fatalf("inserted %+v, %v; want it waiting behind the first", out, err)
	}
	ch := listen(t, s)
	s.AnnounceInserted(ctx, next, out)
	noWake(t, ch, 300*time.Millisecond, "the question while the first is still pending")

	r := store.AttemptResult{Lease: first[0].Lease, OrganizationID: 1, OrderKey: "m:1", Status: otw.DeliverySucceeded,
		Attempt: otw.Attempt{N: 1, StartedAt: t0, DurationMs: 1}}
	if taken, err := s.CompleteAttempts(ctx, store.Completion{Results: []store.AttemptResult{r}, Now: t0}); err != nil || len(taken) != 0 {
		t.Fatalf("CompleteAttempts handed over %d, %v; want nothing, without a Take", len(taken), err)
	}
	noWake(t, ch, 300*time.Millisecond, "a write that ends a delivery")
	s.AnnounceInserted(ctx, next, out)
	waitWake(t, ch, 5*time.Second, "the question once the first has ended")
}
