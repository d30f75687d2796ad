package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/sqlite"
)

// The dispatcher's cycle on one webhook, in the sizes the bench sees:
// publish a batch, claim what one webhook may hold, write the outcomes.

func benchStore(b *testing.B) *sqlite.Store {
	b.Helper()
	return benchStoreFiltered(b, nil)
}

// benchStoreFiltered is benchStore with the webhook's filters set.
func benchStoreFiltered(b *testing.B, filters otw.Filters) *sqlite.Store {
	b.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	now := time.Now()
	if err := s.CreateOrganization(context.Background(), otw.Organization{ID: 1, Name: "Bench", CreatedAt: now},
		otw.APIKey{ID: "key_bench", OrganizationID: 1, Hash: []byte("hash"), CreatedAt: now}); err != nil {
		b.Fatal(err)
	}
	if _, err := s.SaveWebhook(context.Background(), 1, otw.WebhookSettings{Enabled: true, URL: "https://example.com/",
		SubscribedEvents: []string{"integration_message_status"}, Filters: filters}, []byte("sealed"), now); err != nil {
		b.Fatal(err)
	}
	return s
}

var benchBody = []byte(`{"type":"integration_message_status","integrationMessageStatus":{"channelID":"0123456","channelType":"whatsapp","contactPhone":"628123456789","reason":"","status":"delivered","timestamp":1587352926788,"trxID":"000000-0000-0000-0000-000000"},"organizationID":1}`)

func benchEvents(n, round int, now time.Time) []otw.Event {
	events := make([]otw.Event, n)
	for i := range events {
		events[i] = otw.Event{ID: otw.NewID("evt_", now), OrganizationID: 1, Type: "integration_message_status",
			OrderKey: fmt.Sprintf("m:%d-%d", round, i), Body: benchBody, CreatedAt: now}
	}
	return events
}

func BenchmarkInsertEvents500(b *testing.B) {
	s := benchStore(b)
	round := 0
	for b.Loop() {
		round++
		now := time.Now()
		if _, _, err := s.InsertEvents(context.Background(), benchEvents(500, round, now), now, store.Take{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*500), "ns/event")
}

// BenchmarkInsertEvents500Filtered is BenchmarkInsertEvents500 through
// a webhook whose filters pass every event: what matching costs (two
// conditions, the second field near the end of the payload).
func BenchmarkInsertEvents500Filtered(b *testing.B) {
	s := benchStoreFiltered(b, otw.Filters{"integration_message_status": {
		"status": {"failed", "read", "delivered"}, "trxID": {"000000-0000-0000-0000-000000"}}})
	round := 0
	for b.Loop() {
		round++
		now := time.Now()
		if _, _, err := s.InsertEvents(context.Background(), benchEvents(500, round, now), now, store.Take{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*500), "ns/event")
}

// BenchmarkClaimAndComplete64 claims 64 due deliveries and writes their
// outcomes: the database's share of delivering 64 events.
func BenchmarkClaimAndComplete64(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	round := 0
	for b.Loop() {
		b.StopTimer()
		round++
		now := time.Now()
		if _, _, err := s.InsertEvents(ctx, benchEvents(64, round, now), now, store.Take{}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		got, err := s.ClaimDeliveries(ctx, store.ClaimParams{Now: now, LeaseUntil: now.Add(time.Minute), Limit: 64, PerOrganization: 64})
		if err != nil || len(got) != 64 {
			b.Fatalf("claimed %d, %v", len(got), err)
		}
		results := make([]store.AttemptResult, len(got))
		code := 200
		for i, c := range got {
			results[i] = store.AttemptResult{Lease: c.Lease, OrganizationID: c.OrganizationID, Status: otw.DeliverySucceeded,
				Attempt: otw.Attempt{N: 1, StartedAt: now, DurationMs: 1, StatusCode: &code, ResponseBody: "ok"}}
		}
		if _, err := s.CompleteAttempts(ctx, store.Completion{Results: results}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64), "ns/delivery")
}

// BenchmarkDrainOrdered is the dispatcher's steady state on a backlog in
// the bench's shape (five events per order key, one webhook): 128
// deliveries held (in flight or waiting), and each round writes the
// outcomes of the oldest 50 and claims 50 more.
func BenchmarkDrainOrdered(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	now := time.Now()
	const held, step = 128, 50
	fill := func(round int) {
		events := benchEvents(500, round, now)
		for i := range events {
			events[i].OrderKey = fmt.Sprintf("m:%d-%d", round, i/5)
		}
		if _, _, err := s.InsertEvents(ctx, events, now, store.Take{}); err != nil {
			b.Fatal(err)
		}
	}
	round := 0
	for ; round < 200; round++ {
		fill(round)
	}
	claim := func(n int, busy int) []store.Claimed {
		got, err := s.ClaimDeliveries(ctx, store.ClaimParams{Now: now, LeaseUntil: now.Add(time.Hour), Limit: n,
			PerOrganization: held, Held: map[int64]int{1: busy}})
		if err != nil {
			b.Fatal(err)
		}
		return got
	}
	out := claim(held, 0)
	code := 200
	var claimTime, completeTime time.Duration
	delivered := 0
	for b.Loop() {
		if len(out) < held {
			b.StopTimer()
			round++
			fill(round)
			b.StartTimer()
		}
		n := min(step, len(out))
		results := make([]store.AttemptResult, n)
		for i, c := range out[:n] {
			results[i] = store.AttemptResult{Lease: c.Lease, OrganizationID: 1, Status: otw.DeliverySucceeded,
				Attempt: otw.Attempt{N: 1, StartedAt: now, DurationMs: 1, StatusCode: &code, ResponseBody: "ok"}}
		}
		t := time.Now()
		if _, err := s.CompleteAttempts(ctx, store.Completion{Results: results}); err != nil {
			b.Fatal(err)
		}
		completeTime += time.Since(t)
		out = out[n:]
		delivered += n
		t = time.Now()
		out = append(out, claim(held-len(out), len(out))...)
		claimTime += time.Since(t)
	}
	b.ReportMetric(float64(claimTime.Nanoseconds())/float64(delivered), "claim-ns/delivery")
	b.ReportMetric(float64(completeTime.Nanoseconds())/float64(delivered), "complete-ns/delivery")
}

// BenchmarkCheckWrite is the cost of one /readyz: it is polled, so it must
// stay small beside a publish.
func BenchmarkCheckWrite(b *testing.B) {
	s := benchStore(b)
	for b.Loop() {
		if err := s.CheckWrite(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
