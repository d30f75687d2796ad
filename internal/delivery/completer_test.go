package delivery

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/sqlite"
)

// faultyStore is a real SQLite store whose outcome writes fail while down
// is set, as a full disk or a lost database makes them fail.
type faultyStore struct {
	*sqlite.Store
	down   atomic.Bool
	writes atomic.Int32
	// poison, when set, is a delivery whose outcome the store refuses (a
	// constraint it breaks), while it takes the others.
	poison atomic.Int64
	// hold, when set, holds every outcome write until it is closed, as a
	// slow disk holds them.
	hold chan struct{}
	// blind, when set, has every claim find nothing.
	blind atomic.Bool
}

func (f *faultyStore) ClaimDeliveries(ctx context.Context, p store.ClaimParams) ([]store.Claimed, error) {
	if f.blind.Load() {
		return nil, nil
	}
	return f.Store.ClaimDeliveries(ctx, p)
}

// errDiskFull is what the SQLite driver answers on a full disk.
var errDiskFull = otw.Errorf(otw.EUNAVAILABLE, "the database is out of disk space")

func (f *faultyStore) CompleteAttempts(ctx context.Context, c store.Completion) ([]store.Claimed, error) {
	f.writes.Add(1)
	if f.hold != nil {
		select {
		case <-f.hold:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.down.Load() {
		return nil, errDiskFull
	}
	for _, r := range c.Results {
		if r.DeliverySeq == f.poison.Load() {
			return nil, errors.New("FOREIGN KEY constraint failed")
		}
	}
	return f.Store.CompleteAttempts(ctx, c)
}

// clock is a test's time, moved by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// completerFixture is a dispatcher that is not running, on a faulty store
// with n deliveries of organization 1 claimed and using workers as if
// their requests had just ended.
func completerFixture(t *testing.T, n int) (*Dispatcher, *faultyStore, *clock, []outcome) {
	t.Helper()
	return completerFixtureAnswering(t, n, 200)
}

// completerFixtureAnswering is completerFixture with every request
// answered with code.
func completerFixtureAnswering(t *testing.T, n, code int) (*Dispatcher, *faultyStore, *clock, []outcome) {
	t.Helper()
	ctx := t.Context()
	s := OpenTestStore(t, "case_resolved", map[int64]string{1: "http://127.0.0.1:1/"})
	clk := &clock{now: time.Now()}
	now := clk.Now()
	var events []otw.Event
	for range n {
		events = append(events, otw.Event{ID: otw.NewID("evt_", now), OrganizationID: 1, Type: "case_resolved",
			Body: []byte(`{}`), CreatedAt: now})
	}
	if _, _, err := s.InsertEvents(ctx, events, now, store.Take{}); err != nil {
		t.Fatal(err)
	}
	f := &faultyStore{Store: s}
	d := New(Config{Store: f, Client: &http.Client{}, Now: clk.Now, Timeout: time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	claimed, err := s.ClaimDeliveries(ctx, store.ClaimParams{Now: now, LeaseUntil: now.Add(d.LeaseTerm()), Limit: n, PerOrganization: n})
	if err != nil || len(claimed) != n {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	var batch []outcome
	for i := range claimed {
		batch = append(batch, d.exec.rules.judge(&claimed[i], response{code: code}, now, now))
	}
	d.inUse, d.inUseBy[1] = n, n
	return d, f, clk, batch
}

// A write that fails keeps its outcomes and frees their workers, so other
// deliveries go on; their leases are extended while the write is retried,
// so no claim sends them again; once the store takes writes again, the
// kept outcomes are written.
func TestFailingWriteIsKeptAndDelaysOnlyItself(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d, f, clk, batch := completerFixture(t, 3)
	c := d.done
	f.down.Store(true)
	if c.write(ctx, batch) {
		t.Fatal("a failed write reported written")
	}
	if d.WorkersInUse() != 0 || len(c.backlog) != 3 {
		t.Fatalf("after a failed write: %d workers in use, %d kept; want the workers freed and 3 kept", d.WorkersInUse(), len(c.backlog))
	}

	// Past the lease: a retry extends what it keeps, so a claim finds
	// nothing to take over.
	clk.add(d.LeaseTerm() - time.Second)
	if c.write(ctx, nil) {
		t.Fatal("a failed retry reported written")
	}
	clk.add(2 * time.Second)
	if again, err := f.Store.ClaimDeliveries(ctx, store.ClaimParams{Now: clk.Now(), LeaseUntil: clk.Now().Add(time.Minute),
		Limit: 10, PerOrganization: 10}); err != nil || len(again) != 0 {
		t.Fatalf("claimed %d past the first lease while the outcomes were kept (%v): they would be sent twice", len(again), err)
	}

	f.down.Store(false)
	if !c.write(ctx, nil) {
		t.Fatal("the retry failed with the store up")
	}
	if len(c.backlog) != 0 {
		t.Fatalf("%d still kept after a successful write", len(c.backlog))
	}
	for _, o := range batch {
		dl, err := f.Store.GetDelivery(ctx, 1, o.deliveryID)
		if err != nil || dl.Status != otw.DeliverySucceeded || len(dl.Attempts) != 1 {
			t.Fatalf("delivery after the kept write: %v, status %q, %d attempts; want succeeded with one", err, dl.Status, len(dl.Attempts))
		}
	}
}

// At shutdown with the store failing, Run still returns within the grace
// and a moment, and says how many attempts it could not write.
func TestRunStopsWithinTheGraceWhenWritesFail(t *testing.T) {
	t.Parallel()
	d, f, _, batch := completerFixture(t, 2)
	f.down.Store(true)
	d.cfg.ShutdownGrace = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	go func() { ran <- d.Run(ctx) }()
	for _, o := range batch {
		d.results <- o
	}
	for f.writes.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	stopped := time.Now()
	select {
	case err := <-ran:
		if took := time.Since(stopped); took > d.cfg.ShutdownGrace+writeMargin+time.Second {
			t.Fatalf("Run took %s to stop with a grace of %s", took, d.cfg.ShutdownGrace)
		}
		if err == nil || !strings.Contains(err.Error(), "2 delivery attempts could not be written") || !errors.Is(err, errDiskFull) {
			t.Fatalf("Run = %v, want it to say 2 attempts were not written, and why", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not stop with the store failing")
	}
}

// An outcome the store keeps refusing (not an outage: it takes the others)
// holds nothing up: the others are written at once, and it is dropped
// after a few tries, its lease given back so the delivery is sent again.
func TestRefusedOutcomeHoldsUpNoOther(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d, f, _, batch := completerFixture(t, 3)
	c := d.done
	f.poison.Store(batch[1].result.DeliverySeq)
	if c.write(ctx, batch) {
		t.Fatal("a write with a refused outcome reported everything written")
	}
	for _, i := range []int{0, 2} {
		if dl, err := f.Store.GetDelivery(ctx, 1, batch[i].deliveryID); err != nil || dl.Status != otw.DeliverySucceeded {
			t.Fatalf("outcome %d beside the refused one: %v, status %q; want written", i, err, dl.Status)
		}
	}
	if len(c.backlog) != 1 || d.WorkersInUse() != 0 {
		t.Fatalf("%d kept, %d workers in use; want the refused one kept and every worker free", len(c.backlog), d.WorkersInUse())
	}
	for n := 2; n <= maxRefusals; n++ {
		c.write(ctx, nil)
	}
	if len(c.backlog) != 0 {
		t.Fatalf("still kept after %d refusals", maxRefusals)
	}
	// Given back: due again, claimable at once.
	again, err := f.Store.ClaimDeliveries(ctx, store.ClaimParams{Now: time.Now(), LeaseUntil: time.Now().Add(time.Minute), Limit: 10, PerOrganization: 10})
	if err != nil || len(again) != 1 || again[0].DeliveryID != batch[1].deliveryID {
		t.Fatalf("claimed %d (%v) after the drop, want the refused delivery back", len(again), err)
	}
}

// The operational events go with their outcomes: a write that fails
// stores neither (nor the disable), and the retried write stores them
// together, the webhook disabled by the 410s of two batches told once.
func TestOpsEventsGoWithTheirOutcomes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d, f, _, batch := completerFixtureAnswering(t, 3, 410)
	if err := f.Store.CreateOrganization(ctx, otw.Organization{ID: otw.OpsOrganizationID, Name: "ops", CreatedAt: time.Now()},
		otw.APIKey{ID: "key_ops", OrganizationID: otw.OpsOrganizationID, Hash: []byte("ops"), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Store.SaveWebhook(ctx, otw.OpsOrganizationID, otw.WebhookSettings{Enabled: true, URL: "http://127.0.0.1:1/ops",
		SubscribedEvents: otw.OpsEventTypes()}, []byte("whsec-key"), time.Now()); err != nil {
		t.Fatal(err)
	}
	d.cfg.Ops = true
	c := d.done
	opsDeliveries := func() []otw.Delivery {
		t.Helper()
		page, _, err := f.Store.ListDeliveries(ctx, store.ListParams{OrganizationID: otw.OpsOrganizationID, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return page
	}

	f.down.Store(true)
	if c.write(ctx, batch[:2]) {
		t.Fatal("a failed write reported written")
	}
	if w, err := f.Store.GetWebhook(ctx, 1); err != nil || w.State != otw.WebhookActive || len(opsDeliveries()) != 0 {
		t.Fatalf("after a failed write: webhook %q (%v), %d operational deliveries; want it active and none", w.State, err, len(opsDeliveries()))
	}

	f.down.Store(false)
	if !c.write(ctx, batch[2:]) {
		t.Fatal("the retry failed with the store up")
	}
	if w, err := f.Store.GetWebhook(ctx, 1); err != nil || w.State != otw.WebhookDisabled {
		t.Fatalf("after the write: webhook %q (%v), want disabled", w.State, err)
	}
	got := opsDeliveries()
	if len(got) != 1 || got[0].EventType != otw.EventWebhookDisabled {
		t.Fatalf("operational deliveries %+v, want one webhook.disabled", got)
	}
	// The 410 of a request still out when the webhook was disabled: no
	// second event.
	late := batch[2]
	late.deliveryID, late.result.Attempt.N = "dlv_late", 2
	late.ops = nil
	if !c.write(ctx, []outcome{late}) {
		t.Fatal("the late outcome was not written")
	}
	if got := opsDeliveries(); len(got) != 1 {
		t.Fatalf("%d operational deliveries after a late 410, want still one", len(got))
	}
}
