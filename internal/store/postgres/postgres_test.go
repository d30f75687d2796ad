package postgres_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/postgres"
	"github.com/onetalk/onetalk-webhooks/internal/store/storetest"
)

// testURL returns the server the tests run on, or skips: a developer
// without PostgreSQL still runs everything else. CI sets
// OTW_TEST_REQUIRE_POSTGRES=1 so a missing server fails instead of passing
// silently.
func testURL(t testing.TB) string {
	u := os.Getenv("OTW_TEST_POSTGRES_URL")
	if u == "" {
		if os.Getenv("OTW_TEST_REQUIRE_POSTGRES") == "1" {
			t.Fatal("OTW_TEST_REQUIRE_POSTGRES=1 but OTW_TEST_POSTGRES_URL is not set")
		}
		t.Skip("PostgreSQL tests skipped: set OTW_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	return u
}

// newSchema creates an empty schema that t alone uses, dropped when t
// ends, and returns a URL that puts connections in it. A schema per test
// lets the tests run in parallel on one database.
func newSchema(t testing.TB) string {
	base := testURL(t)
	conn, err := pgx.Connect(context.Background(), base)
	if err != nil {
		t.Fatalf("connect to %s: %v", base, err)
	}
	defer conn.Close(context.Background())
	name := "otw_test_" + rand.Text()[:12]
	if _, err := conn.Exec(context.Background(), "CREATE SCHEMA "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), base)
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name) // pgx sends unknown URL parameters as run-time settings
	u.RawQuery = q.Encode()
	return u.String()
}

// connect opens a connection of the test's own to url, closed when t
// ends.
func connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// open opens a node on the schema at url, closed when t ends.
func open(t testing.TB, url string) *postgres.Store {
	s, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	testURL(t)
	storetest.Exercise(t, func(t *testing.T) store.Store { return open(t, newSchema(t)) })
}

var t0 = time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)

// newOrg creates an organization whose enabled webhook takes case_resolved.
func newOrg(t testing.TB, s store.Store, id int64) {
	t.Helper()
	ctx := context.Background()
	key := otw.APIKey{ID: fmt.Sprintf("key_%d", id), OrganizationID: id, Hash: fmt.Appendf(nil, "hash-%d", id), CreatedAt: t0}
	if err := s.CreateOrganization(ctx, otw.Organization{ID: id, Name: "Org", CreatedAt: t0}, key); err != nil {
		t.Fatal(err)
	}
	set := otw.WebhookSettings{Enabled: true, URL: "https://hooks.example.com/", SubscribedEvents: []string{"case_resolved"}}
	if _, err := s.SaveWebhook(ctx, id, set, []byte("sealed"), t0); err != nil {
		t.Fatal(err)
	}
}

func newEvent(org int64, typ, orderKey string) otw.Event {
	id := otw.NewID("evt_", t0)
	return otw.Event{ID: id, OrganizationID: org, Type: typ, OrderKey: orderKey, CreatedAt: t0,
		Body: fmt.Appendf(nil, `{"eventType":%q,"organizationID":%d,"id":%q}`, typ, org, id)}
}

func insert(t testing.TB, s store.Store, events ...otw.Event) []store.Inserted {
	t.Helper()
	out, _, err := s.InsertEvents(context.Background(), events, t0, store.Take{})
	if err != nil {
		t.Fatalf("InsertEvents: %v", err)
	}
	return out
}

// Several nodes start at once on an empty database: every one opens, and
// each migration is applied once.
func TestOpenConcurrently(t *testing.T) {
	t.Parallel()
	u := newSchema(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := postgres.Open(context.Background(), u)
			if errs[i] = err; err != nil {
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: Open: %v", i, err)
		}
	}
	conn := connect(t, u)
	var applied, versions int
	if err := conn.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&applied, &versions); err != nil {
		t.Fatal(err)
	}
	if applied != versions || applied == 0 {
		t.Errorf("schema_migrations has %d rows for %d versions; want each version once", applied, versions)
	}
}

// Two nodes claiming side by side never lease the same delivery, and
// between them lease every one.
func TestConcurrentClaimsNeverShareADelivery(t *testing.T) {
	t.Parallel()
	u := newSchema(t)
	nodes := []*postgres.Store{open(t, u), open(t, u)}
	const orgs, perOrg = 4, 500
	for org := range int64(orgs) {
		newOrg(t, nodes[0], org+1)
		events := make([]otw.Event, perOrg)
		for i := range events {
			events[i] = newEvent(org+1, "case_resolved", "")
		}
		insert(t, nodes[0], events...)
	}
	const total = orgs * perOrg
	var (
		mu       sync.Mutex
		claimed  = make(map[int64]int) // delivery seq → times claimed
		perNode  [2]int
		leased   atomic.Int64
		deadline = time.Now().Add(30 * time.Second)
		wg       sync.WaitGroup
	)
	for n, node := range nodes {
		wg.Go(func() {
			for leased.Load() < total && time.Now().Before(deadline) {
				got, err := node.ClaimDeliveries(context.Background(), store.ClaimParams{
					Now: t0, LeaseUntil: t0.Add(time.Hour), Limit: 64, PerOrganization: 1000,
				})
				if err != nil {
					t.Errorf("node %d: ClaimDeliveries: %v", n, err)
					return
				}
				mu.Lock()
				for _, c := range got {
					claimed[c.DeliverySeq]++
				}
				perNode[n] += len(got)
				mu.Unlock()
				leased.Add(int64(len(got)))
			}
		})
	}
	wg.Wait()
	t.Logf("node 0 leased %d, node 1 leased %d", perNode[0], perNode[1])
	for seq, n := range claimed {
		if n != 1 {
			t.Errorf("delivery seq %d leased %d times", seq, n)
		}
	}
	if len(claimed) != total {
		t.Errorf("leased %d distinct deliveries of %d", len(claimed), total)
	}
}

// Two nodes sending deliveries that share order keys: a delivery is
// leased only after every earlier one of its key has been sent, although
// the earlier one may be locked by the other node at that moment.
func TestConcurrentClaimsKeepOrder(t *testing.T) {
	t.Parallel()
	u := newSchema(t)
	nodes := []*postgres.Store{open(t, u), open(t, u)}
	newOrg(t, nodes[0], 1)
	const keys, perKey = 100, 4
	var events []otw.Event
	for range perKey {
		for k := range keys {
			events = append(events, newEvent(1, "case_resolved", fmt.Sprintf("m:%d", k)))
		}
	}
	in := insert(t, nodes[0], events...)
	// position of each delivery within its key, in publish order
	position := make(map[string]int, len(in))
	for i, r := range in {
		position[r.DeliveryID] = i / keys
	}
	var (
		mu       sync.Mutex
		released = make(map[string]int) // order key → deliveries handed to CompleteAttempts
		seen     = make(map[string]bool)
		done     atomic.Int64
		deadline = time.Now().Add(30 * time.Second)
		wg       sync.WaitGroup
	)
	for n, node := range nodes {
		wg.Go(func() {
			ctx := context.Background()
			for done.Load() < keys*perKey && time.Now().Before(deadline) {
				got, err := node.ClaimDeliveries(ctx, store.ClaimParams{Now: t0, LeaseUntil: t0.Add(time.Hour), Limit: 16, PerOrganization: 1000})
				if err != nil {
					t.Errorf("node %d: ClaimDeliveries: %v", n, err)
					return
				}
				results := make([]store.AttemptResult, len(got))
				mu.Lock()
				for i, c := range got {
					if seen[c.DeliveryID] {
						t.Errorf("node %d: %s leased twice", n, c.DeliveryID)
					}
					seen[c.DeliveryID] = true
					// Marked before the attempt is recorded, so a delivery
					// legitimately leased after that commit always finds
					// its predecessor marked.
					if want := released[c.OrderKey]; position[c.DeliveryID] != want {
						t.Errorf("node %d: leased delivery %d of key %s while %d of them were sent", n, position[c.DeliveryID], c.OrderKey, want)
					}
					released[c.OrderKey]++
					code := 200
					results[i] = store.AttemptResult{Lease: c.Lease, OrganizationID: 1, Status: otw.DeliverySucceeded,
						Attempt: otw.Attempt{N: 1, StartedAt: t0, DurationMs: 1, StatusCode: &code}}
				}
				mu.Unlock()
				if _, err := node.CompleteAttempts(ctx, store.Completion{Results: results}); err != nil {
					t.Errorf("node %d: CompleteAttempts: %v", n, err)
					return
				}
				done.Add(int64(len(got)))
			}
		})
	}
	wg.Wait()
	if got := done.Load(); got != keys*perKey {
		t.Errorf("sent %d deliveries of %d", got, keys*perKey)
	}
}

// The same Idempotency-Key published through two nodes at once makes one
// event, and every caller gets its ID.
func TestIdempotencyAcrossNodes(t *testing.T) {
	t.Parallel()
	u := newSchema(t)
	nodes := []*postgres.Store{open(t, u), open(t, u)}
	newOrg(t, nodes[0], 1)
	e := newEvent(1, "case_resolved", "")
	e.IdempotencyKey = "key-1"
	ids := make([]string, 16)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			ev := e
			ev.ID = otw.NewID("evt_", t0) // each publish mints its own ID
			out, _, err := nodes[i%2].InsertEvents(context.Background(), []otw.Event{ev}, t0, store.Take{})
			if err != nil {
				t.Errorf("publish %d: %v", i, err)
				return
			}
			ids[i] = out[0].EventID
		})
	}
	wg.Wait()
	for i, id := range ids {
		if id != ids[0] {
			t.Errorf("publish %d got event %s, publish 0 got %s", i, id, ids[0])
		}
	}
	page, _, err := nodes[0].ListDeliveries(context.Background(), store.ListParams{OrganizationID: 1, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 1 {
		t.Errorf("%d deliveries after 16 publishes with one key; want 1", len(page))
	}
}

// wakes returns a wake function for Listen and the channel it signals.
func wakes() (func(), chan struct{}) {
	ch := make(chan struct{}, 1)
	return func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}, ch
}

func listen(t *testing.T, s *postgres.Store) chan struct{} {
	ctx, cancel := context.WithCancel(context.Background())
	wake, ch := wakes()
	done := make(chan error, 1)
	go func() { done <- s.Listen(ctx, wake) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Listen returned %v after its context ended; want context.Canceled", err)
		}
	})
	waitWake(t, ch, 5*time.Second, "the first LISTEN")
	return ch
}

func waitWake(t *testing.T, ch chan struct{}, within time.Duration, after string) time.Duration {
	t.Helper()
	start := time.Now()
	select {
	case <-ch:
		return time.Since(start)
	case <-time.After(within):
		t.Fatalf("no wake within %v of %s", within, after)
		return 0
	}
}

func noWake(t *testing.T, ch chan struct{}, during time.Duration, after string) {
	t.Helper()
	select {
	case <-ch:
		t.Errorf("woken after %s, which made no work due", after)
	case <-time.After(during):
	}
}

// A node listening hears of work that another node commits, within
// milliseconds, and only of work.
func TestListenWakesOnAnotherNodesInsert(t *testing.T) {
	t.Parallel()
	u := newSchema(t)
	a, b := open(t, u), open(t, u)
	newOrg(t, b, 1)
	ch := listen(t, a)

	insert(t, b, newEvent(1, "message_status", "")) // a type the webhook does not take
	noWake(t, ch, 300*time.Millisecond, "an event without a delivery")

	insert(t, b, newEvent(1, "case_resolved", ""))
	t.Logf("woken %v after the insert committed", waitWake(t, ch, time.Second, "an insert on another node"))
}

// A node's own announcement wakes it once, from this process: its
// notification, which comes back to it through the database, is passed
// over by the node name it carries, so that a node does not claim twice
// for each of its writes.
func TestListenHearsItsOwnWritesOnce(t *testing.T) {
	t.Parallel()
	u := newSchema(t)
	a := open(t, u)
	newOrg(t, a, 1)
	ch := listen(t, a)

	insert(t, a, newEvent(1, "case_resolved", ""))
	waitWake(t, ch, time.Second, "an insert on this node")
	noWake(t, ch, 300*time.Millisecond, "an insert heard already (its own notification)")
}

// Listen comes back after its connection is killed, wakes the caller
// (notifications may have been missed meanwhile) and hears new work again.
// Not parallel: it kills every listener connection of the database, and
// an extra wake would upset the test above.
func TestListenReconnects(t *testing.T) {
	u := newSchema(t)
	a, b := open(t, u), open(t, u)
	newOrg(t, b, 1)
	ch := listen(t, a)

	conn := connect(t, u)
	var killed int
	if err := conn.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = 'onetalk-webhooks listen'`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed == 0 {
		t.Fatal("found no listening connection to kill")
	}
	waitWake(t, ch, 5*time.Second, "the listening connection was killed")
	insert(t, b, newEvent(1, "case_resolved", ""))
	waitWake(t, ch, time.Second, "an insert after reconnecting")
}

// A response body that is not UTF-8 (a binary error page cut at 4 KiB)
// is kept byte for byte, and an error message with such bytes is kept
// readable instead of failing the whole batch.
func TestAttemptKeepsBinaryResponse(t *testing.T) {
	t.Parallel()
	s := open(t, newSchema(t))
	newOrg(t, s, 1)
	in := insert(t, s, newEvent(1, "case_resolved", ""))
	got, err := s.ClaimDeliveries(context.Background(), store.ClaimParams{Now: t0, LeaseUntil: t0.Add(time.Minute), Limit: 1, PerOrganization: 1})
	if err != nil || len(got) != 1 {
		t.Fatalf("ClaimDeliveries: %d, %v", len(got), err)
	}
	body := "\x00\xff\xfe binary \xe2\x82" // NUL, invalid bytes, a cut rune
	code := 500
	_, err = s.CompleteAttempts(context.Background(), store.Completion{Results: []store.AttemptResult{{Lease: got[0].Lease, OrganizationID: 1,
		Status: otw.DeliveryPending, NextAttemptAt: t0.Add(time.Minute),
		Attempt: otw.Attempt{N: 1, StartedAt: t0, DurationMs: 3, StatusCode: &code, Error: "bad \x00 \xff", ResponseBody: body}}}})
	if err != nil {
		t.Fatalf("CompleteAttempts: %v", err)
	}
	d, err := s.GetDelivery(context.Background(), 1, in[0].DeliveryID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Attempts) != 1 || d.Attempts[0].ResponseBody != body {
		t.Fatalf("attempts = %+v; want one with the body %q", d.Attempts, body)
	}
	if d.Attempts[0].Error != "bad \uFFFD \uFFFD" || d.LastError != "bad \uFFFD \uFFFD" {
		t.Errorf("error = %q, last error = %q; want the bad bytes replaced", d.Attempts[0].Error, d.LastError)
	}
}

func TestOpenRefusesABadURLWithoutQuotingIt(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://user:s3cret@host:notaport/db")
	if err == nil {
		t.Fatal("Open accepted a URL with a bad port")
	}
	if msg := err.Error(); strings.Contains(msg, "s3cret") {
		t.Errorf("error %q shows the password", msg)
	}
}

// BenchmarkInsertEvents1000 publishes a batch of 1000 events, each with a
// delivery, for 10 organizations.
func BenchmarkInsertEvents1000(b *testing.B) {
	s := open(b, newSchema(b))
	for org := range int64(10) {
		newOrg(b, s, org+1)
	}
	for b.Loop() {
		b.StopTimer()
		events := make([]otw.Event, 1000)
		for i := range events {
			events[i] = newEvent(int64(i%10)+1, "case_resolved", fmt.Sprintf("m:%d", i%50))
		}
		b.StartTimer()
		insert(b, s, events...)
	}
}

// BenchmarkClaim256 claims 256 due deliveries of 10 organizations.
func BenchmarkClaim256(b *testing.B) {
	s := open(b, newSchema(b))
	for org := range int64(10) {
		newOrg(b, s, org+1)
	}
	now := t0
	for b.Loop() {
		b.StopTimer()
		events := make([]otw.Event, 256)
		for i := range events {
			events[i] = newEvent(int64(i%10)+1, "case_resolved", "")
		}
		insert(b, s, events...)
		b.StartTimer()
		got, err := s.ClaimDeliveries(context.Background(), store.ClaimParams{Now: now, LeaseUntil: now.Add(time.Hour), Limit: 256, PerOrganization: 256})
		b.StopTimer()
		if err != nil || len(got) != 256 {
			b.Fatalf("claimed %d, %v", len(got), err)
		}
		// Sent, so that the next round claims from a table of the same
		// shape rather than past thousands of leased rows.
		results := make([]store.AttemptResult, len(got))
		for i, c := range got {
			results[i] = store.AttemptResult{Lease: c.Lease, OrganizationID: c.OrganizationID, Status: otw.DeliverySucceeded,
				Attempt: otw.Attempt{N: 1, StartedAt: now, DurationMs: 1}}
		}
		if _, err := s.CompleteAttempts(context.Background(), store.Completion{Results: results}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkCheckWrite is the cost of one /readyz: it is polled, so it must
// stay small beside a publish.
func BenchmarkCheckWrite(b *testing.B) {
	s := open(b, newSchema(b))
	for b.Loop() {
		if err := s.CheckWrite(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
