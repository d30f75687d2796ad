package delivery_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/ingest"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// A webhook limited to 20 deliveries a second receives 10 over at least
// 9/20 s, one every 50 ms, and none of them is a failed attempt; a webhook
// without a limit is not slowed meanwhile.
func TestRateLimitedWebhookIsPaced(t *testing.T) {
	ctx := t.Context()
	var mu sync.Mutex
	times := map[string][]time.Time{}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times[r.URL.Path] = append(times[r.URL.Path], time.Now())
		mu.Unlock()
	}))
	defer receiver.Close()
	s, d, _, stop := runningDispatcher(t)
	defer stop()
	for org, path := range map[int64]string{1: "/limited", 2: "/free"} {
		if _, err := s.SaveWebhook(ctx, org, otw.WebhookSettings{Enabled: true, URL: receiver.URL + path,
			SubscribedEvents: []string{"integration_message_status"}, RateLimit: int(20 * (2 - org))}, []byte("whsec-key"), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	committer := ingest.New(s, ingest.Options{Handoff: d})
	defer committer.Close()
	var events []otw.Event
	for range 10 {
		for _, org := range []int64{1, 2} {
			events = append(events, otw.Event{ID: otw.NewID("evt_", time.Now()), OrganizationID: org,
				Type: "integration_message_status", Body: []byte(`{}`), CreatedAt: time.Now()})
		}
	}
	if _, err := committer.Insert(ctx, events); err != nil {
		t.Fatal(err)
	}
	// The committed insert announced its deliveries: the dispatcher is awake.
	eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(times["/limited"]) == 10 && len(times["/free"]) == 10
	})
	// Waiting for a turn is not a failed attempt: each went out once.
	var starts []time.Time
	eventually(t, func() bool {
		page, _, err := s.ListDeliveries(ctx, store.ListParams{OrganizationID: 1, Limit: 100})
		if err != nil || len(page) != 10 {
			return false
		}
		starts = starts[:0]
		for _, dl := range page {
			if dl.Status != otw.DeliverySucceeded || dl.AttemptCount != 1 {
				return false
			}
			full, err := s.GetDelivery(ctx, 1, dl.ID)
			if err != nil || len(full.Attempts) != 1 {
				return false
			}
			starts = append(starts, full.Attempts[0].StartedAt)
		}
		return true
	})
	// The requests were let go 50 ms apart; each starts a moment after
	// (a goroutine on a busy machine), so the starts may move a little,
	// but never bunch: no three within 50 ms, and ten over 400 ms at least.
	slices.SortFunc(starts, time.Time.Compare)
	for i := 2; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-2]); gap < 50*time.Millisecond {
			t.Fatalf("requests %d to %d of the limited webhook started within %s, want them 50 ms apart", i-1, i+1, gap)
		}
	}
	if span := starts[9].Sub(starts[0]); span < 400*time.Millisecond {
		t.Fatalf("10 requests at 20/s started within %s, want about 450 ms", span)
	}
	mu.Lock()
	defer mu.Unlock()
	if free, limited := times["/free"], times["/limited"]; free[9].Sub(free[0]) > limited[9].Sub(limited[0]) {
		t.Fatalf("the unlimited webhook's 10 took %s, as long as the limited one's", free[9].Sub(free[0]))
	}
}

// eventually waits up to 10 s for cond.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}
