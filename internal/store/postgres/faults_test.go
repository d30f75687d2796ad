package postgres_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/relay"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// throughRelay returns u with its host replaced by a relay to it, which
// the test cuts to make the database unreachable.
func throughRelay(t *testing.T, u string) (string, *relay.Relay) {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	r, err := relay.Start(parsed.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	parsed.Host = r.Addr
	return parsed.String(), r
}

const doesNotAnswer = "the database does not answer"

// wantUnavailable fails unless err is EUNAVAILABLE with one of the
// messages.
func wantUnavailable(t *testing.T, what string, err error, messages ...string) {
	t.Helper()
	if otw.ErrorCode(err) == otw.EUNAVAILABLE {
		for _, m := range messages {
			if otw.ErrorMessage(err) == m {
				return
			}
		}
	}
	t.Fatalf("%s: %v; want %s: one of %q", what, err, otw.EUNAVAILABLE, messages)
}

// publishUntil publishes one event at a time until one commits, and
// returns it: the pool's connections that the fault broke fail first.
func publishUntil(t *testing.T, s store.Store, within time.Duration) store.Inserted {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ins, _, err := s.InsertEvents(context.Background(), []otw.Event{newEvent(1, "case_resolved", "")}, t0, store.Take{})
		if err == nil {
			return ins[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no publish committed within %s of the database's return: %v", within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// An unreachable database (its port closed) answers EUNAVAILABLE saying
// so, to publishes, CheckWrite and Ping alike; once it is back the pool
// reconnects and nothing accepted before is lost.
func TestUnreachableDatabaseAnswersUnavailable(t *testing.T) {
	t.Parallel()
	u, r := throughRelay(t, newSchema(t))
	s := open(t, u)
	newOrg(t, s, 1)
	before := insert(t, s, newEvent(1, "case_resolved", ""))[0]

	r.Cut()
	_, _, err := s.InsertEvents(context.Background(), []otw.Event{newEvent(1, "case_resolved", "")}, t0, store.Take{})
	wantUnavailable(t, "publish with the port closed", err, doesNotAnswer)
	wantUnavailable(t, "CheckWrite with the port closed", s.CheckWrite(context.Background()), doesNotAnswer)
	wantUnavailable(t, "Ping with the port closed", s.Ping(context.Background()), doesNotAnswer)

	if err := r.Restore(); err != nil {
		t.Fatal(err)
	}
	after := publishUntil(t, s, 10*time.Second)
	if err := s.CheckWrite(context.Background()); err != nil {
		t.Fatalf("CheckWrite once a publish committed again: %v", err)
	}
	for _, in := range []store.Inserted{before, after} {
		if _, err := s.GetDelivery(context.Background(), 1, in.DeliveryID); err != nil {
			t.Fatalf("delivery %s: %v", in.DeliveryID, err)
		}
	}
}

// A connection the server ends (an administrator's pg_terminate_backend,
// as a shutdown does: 57P01) is EUNAVAILABLE too, and the pool moves on.
func TestTerminatedConnectionAnswersUnavailable(t *testing.T) {
	t.Parallel()
	u := newSchema(t)
	parsed, _ := url.Parse(u)
	q := parsed.Query()
	name := "otw_terminated_" + time.Now().Format("150405.000000")
	q.Set("application_name", name)
	parsed.RawQuery = q.Encode()
	s := open(t, parsed.String())
	newOrg(t, s, 1)
	insert(t, s, newEvent(1, "case_resolved", ""))

	admin := connect(t, testURL(t))
	var n int
	if err := admin.QueryRow(context.Background(),
		`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, name).Scan(&n); err != nil || n == 0 {
		t.Fatalf("terminated %d backends: %v", n, err)
	}
	_, _, err := s.InsertEvents(context.Background(), []otw.Event{newEvent(1, "case_resolved", "")}, t0, store.Take{})
	wantUnavailable(t, "publish on a terminated connection", err, "the database closed the connection", doesNotAnswer)
	wantUnavailable(t, "CheckWrite right after", s.CheckWrite(context.Background()), "the database closed the connection", doesNotAnswer)
	publishUntil(t, s, 10*time.Second)
	if err := s.CheckWrite(context.Background()); err != nil {
		t.Fatalf("CheckWrite once a publish committed again: %v", err)
	}
}
