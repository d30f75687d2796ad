package delivery_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	otw "github.com/onetalk/onetalk-webhooks"
	"github.com/onetalk/onetalk-webhooks/ingest"
	"github.com/onetalk/onetalk-webhooks/store"
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
	d.Notify()
	eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(times["/limited"]) == 10 && len(times["/free"]) == 10
	})
	mu.Lock()
	defer mu.Unlock()
	limited, free := times["/limited"], times["/free"]
	// Sent 50 ms apart; the first may take longer on the way (a new
	// connection), so the span is counted from the second.
	if span := limited[9].Sub(limited[1]); span < 390*time.Millisecond {
		t.Fatalf("deliveries 2 to 10 at 20/s arrived within %s, want at least 400 ms", span)
	}
	if span := free[9].Sub(free[0]); span > limited[9].Sub(limited[0]) {
		t.Fatalf("the unlimited webhook's 10 took %s, as long as the limited one's", span)
	}
	// Waiting for a turn is not a failed attempt: each went out once.
	eventually(t, func() bool {
		page, _, err := s.ListDeliveries(ctx, store.ListParams{OrganizationID: 1, Limit: 100})
		if err != nil || len(page) != 10 {
			return false
		}
		for _, dl := range page {
			if dl.Status != otw.DeliverySucceeded || dl.AttemptCount != 1 {
				return false
			}
		}
		return true
	})
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
