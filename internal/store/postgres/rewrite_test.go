package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// Over a network a commit can succeed while its answer is lost; the
// completer then writes the same outcome again. The attempt is recorded
// once: the same delivery, number and start is the same attempt. (SQLite
// commits in process: an error there means nothing was written.)
func TestOutcomeWrittenTwiceRecordsOneAttempt(t *testing.T) {
	s := open(t, newSchema(t))
	ctx := context.Background()
	newOrg(t, s, 1)
	id := insert(t, s, newEvent(1, "case_resolved", ""))[0].DeliveryID
	claimed, err := s.ClaimDeliveries(ctx, store.ClaimParams{Now: t0, LeaseUntil: t0.Add(time.Minute), Limit: 1, PerOrganization: 1})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	code := 200
	r := store.AttemptResult{Lease: claimed[0].Lease, OrganizationID: 1, Status: otw.DeliverySucceeded,
		Attempt: otw.Attempt{N: 1, StartedAt: t0, DurationMs: 5, StatusCode: &code}}
	for range 2 {
		if _, err := s.CompleteAttempts(ctx, store.Completion{Results: []store.AttemptResult{r}}); err != nil {
			t.Fatal(err)
		}
	}
	d, err := s.GetDelivery(ctx, 1, id)
	if err != nil || len(d.Attempts) != 1 || d.Status != otw.DeliverySucceeded {
		t.Fatalf("%d attempts, status %q (%v) after writing one outcome twice; want 1, succeeded", len(d.Attempts), d.Status, err)
	}
}
