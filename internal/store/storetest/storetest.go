// Package storetest is the suite every store.Store driver must pass. It
// tests the contract written in store.Store's doc comments and nothing of
// any one database, so the SQLite and the PostgreSQL driver are held to the
// same behaviour:
//
//	func TestStore(t *testing.T) {
//		storetest.Exercise(t, func(t *testing.T) store.Store { return openEmpty(t) })
//	}
//
// Every subtest runs in parallel on its own empty store, and time is only
// ever what the test passes in: no sleeps, no wall clock (only a bound on
// how long a Listen may take to start).
package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// Exercise runs the suite. open must return a new, empty, migrated store on
// each call and close it when t ends.
func Exercise(t *testing.T, open func(t *testing.T) store.Store) {
	groups := []struct {
		name  string
		tests map[string]func(*testing.T, store.Store)
	}{
		{"Organizations", organizationTests},
		{"Sessions", sessionTests},
		{"Webhooks", webhookTests},
		{"Signing", signingTests},
		{"InsertEvents", insertEventTests},
		{"NotDelivered", notDeliveredTests},
		{"Filters", filterTests},
		{"BatchIdempotency", batchKeyTests},
		{"ClaimDeliveries", claimTests},
		{"TakeAtInsert", takeTests},
		{"TakeAtCompletion", nextTests},
		{"TraceParent", traceParentTests},
		{"CompleteAttempts", completeTests},
		{"Completion", completionTests},
		{"ListDeliveries", listTests},
		{"WaitingFor", waitingTests},
		{"RetryAndRecover", retryTests},
		{"FindAndBulkRetry", findTests},
		{"DeliveryStats", statsTests},
		{"Health", healthTests},
		{"Retention", pruneTests},
		{"Lifecycle", lifecycleTests},
		{"Listen", listenTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for name, test := range g.tests {
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					test(t, open(t))
				})
			}
		})
	}
}

// t0 is the suite's "now". Stores keep milliseconds, so every time here is
// a whole millisecond.
var t0 = time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)

const (
	org1 int64 = 1001
	org2 int64 = 1002
	org3 int64 = 1003
)

// secretA and secretB stand for sealed secrets: the store keeps them as
// opaque bytes.
var (
	secretA = []byte("sealed-secret-A")
	secretB = []byte("sealed-secret-B")
)

// newOrg creates an organization with one API key.
func newOrg(t *testing.T, s store.Store, id int64) {
	t.Helper()
	key := otw.APIKey{ID: fmt.Sprintf("key_%d", id), OrganizationID: id, Hash: []byte(fmt.Sprintf("hash-%d", id)), CreatedAt: t0}
	if err := s.CreateOrganization(t.Context(), otw.Organization{ID: id, Name: fmt.Sprintf("Org %d", id), CreatedAt: t0}, key); err != nil {
		t.Fatalf("CreateOrganization(%d): %v", id, err)
	}
}

// newSubscribedOrg creates an organization whose enabled webhook takes the
// given event types (case_resolved when none).
func newSubscribedOrg(t *testing.T, s store.Store, id int64, types ...string) otw.Webhook {
	t.Helper()
	newOrg(t, s, id)
	if len(types) == 0 {
		types = []string{"case_resolved"}
	}
	return saveWebhook(t, s, id, true, types...)
}

func saveWebhook(t *testing.T, s store.Store, org int64, enabled bool, types ...string) otw.Webhook {
	t.Helper()
	w, err := s.SaveWebhook(t.Context(), org, otw.WebhookSettings{
		Enabled: enabled, URL: fmt.Sprintf("https://hooks.example.com/%d", org), SubscribedEvents: types,
	}, secretA, t0)
	if err != nil {
		t.Fatalf("SaveWebhook(%d): %v", org, err)
	}
	return w
}

// event returns a new event of the organization, created at, with a body
// that differs from every other event's.
func event(org int64, typ, orderKey string, at time.Time) otw.Event {
	id := otw.NewID("evt_", at)
	return otw.Event{
		ID: id, OrganizationID: org, Type: typ, OrderKey: orderKey, CreatedAt: at,
		Body: []byte(fmt.Sprintf(`{"eventType":%q,"organizationID":%d,"id":%q}`, typ, org, id)),
	}
}

func insert(t *testing.T, s store.Store, now time.Time, events ...otw.Event) []store.Inserted {
	t.Helper()
	out, _, err := s.InsertEvents(t.Context(), events, now, store.Take{})
	if err != nil {
		t.Fatalf("InsertEvents: %v", err)
	}
	if len(out) != len(events) {
		t.Fatalf("InsertEvents returned %d results for %d events", len(out), len(events))
	}
	return out
}

// deliver inserts one event that the organization's webhook takes and
// returns its delivery ID.
func deliver(t *testing.T, s store.Store, org int64, orderKey string, now time.Time) string {
	t.Helper()
	in := insert(t, s, now, event(org, "case_resolved", orderKey, now))
	if in[0].DeliveryID == "" {
		t.Fatalf("no delivery created for organization %d", org)
	}
	return in[0].DeliveryID
}

// claimParams claims plenty at now with a one-minute lease.
func claimParams(now time.Time) store.ClaimParams {
	return store.ClaimParams{Now: now, LeaseUntil: now.Add(time.Minute), Limit: 100, PerOrganization: 100}
}

func claim(t *testing.T, s store.Store, p store.ClaimParams) []store.Claimed {
	t.Helper()
	c, err := s.ClaimDeliveries(t.Context(), p)
	if err != nil {
		t.Fatalf("ClaimDeliveries: %v", err)
	}
	return c
}

// claimOne claims at now and expects exactly the delivery id.
func claimOne(t *testing.T, s store.Store, now time.Time, id string) store.Claimed {
	t.Helper()
	c := claim(t, s, claimParams(now))
	if got := claimedIDs(c); len(got) != 1 || got[0] != id {
		t.Fatalf("claimed %v at %v, want only %s", got, now, id)
	}
	return c[0]
}

func claimedIDs(c []store.Claimed) []string {
	ids := make([]string, len(c))
	for i := range c {
		ids[i] = c[i].DeliveryID
	}
	return ids
}

// result is the attempt of a claimed delivery that started at and leaves
// it in status; a pending one is due again a minute later.
func result(c store.Claimed, status string, code int, at time.Time) store.AttemptResult {
	r := store.AttemptResult{
		Lease:          c.Lease,
		OrganizationID: c.OrganizationID,
		OrderKey:       c.OrderKey,
		// The URL the claim gave, as the dispatcher records it.
		Attempt: otw.Attempt{N: c.AttemptCount + 1, StartedAt: at, DurationMs: 25, URL: c.URL},
		Status:  status,
	}
	if code != 0 {
		r.Attempt.StatusCode = &code
		r.Attempt.ResponseBody = fmt.Sprintf("answer %d", code)
		if code >= 300 {
			r.Attempt.Error = fmt.Sprintf("HTTP %d", code)
		}
	} else {
		r.Attempt.Error = "connection refused"
	}
	if status == otw.DeliveryPending {
		r.NextAttemptAt = at.Add(time.Minute)
	}
	return r
}

func complete(t *testing.T, s store.Store, results ...store.AttemptResult) {
	t.Helper()
	if _, err := s.CompleteAttempts(t.Context(), store.Completion{Results: results}); err != nil {
		t.Fatalf("CompleteAttempts: %v", err)
	}
}

// sendOnce claims the one due delivery id at now and completes it.
func sendOnce(t *testing.T, s store.Store, id, status string, code int, now time.Time) {
	t.Helper()
	complete(t, s, result(claimOne(t, s, now, id), status, code, now))
}

func getDelivery(t *testing.T, s store.Store, org int64, id string) otw.Delivery {
	t.Helper()
	d, err := s.GetDelivery(t.Context(), org, id)
	if err != nil {
		t.Fatalf("GetDelivery(%d, %s): %v", org, id, err)
	}
	return d
}

// list returns every delivery matching p, one page of up to 1000.
func list(t *testing.T, s store.Store, p store.ListParams) []otw.Delivery {
	t.Helper()
	if p.Limit == 0 {
		p.Limit = 1000
	}
	page, _, err := s.ListDeliveries(t.Context(), p)
	if err != nil {
		t.Fatalf("ListDeliveries(%+v): %v", p, err)
	}
	return page
}

func deliveryIDs(ds []otw.Delivery) []string {
	ids := make([]string, len(ds))
	for i := range ds {
		ids[i] = ds[i].ID
	}
	return ids
}

// wantCode fails unless err carries the domain code.
func wantCode(t *testing.T, err error, code, what string) {
	t.Helper()
	if got := otw.ErrorCode(err); err == nil || got != code {
		t.Fatalf("%s: error %v (code %s), want code %s", what, err, got, code)
	}
}

// wantField fails unless err is an *otw.Error naming the field.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var e *otw.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *otw.Error", err)
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return
		}
	}
	t.Fatalf("error %v names fields %+v, want %q", err, e.Fields, field)
}

func wantTime(t *testing.T, what string, got *time.Time, want time.Time) {
	t.Helper()
	if got == nil || !got.Equal(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func wantEqualIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func wantBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s = %q, want %q", what, got, want)
	}
}
