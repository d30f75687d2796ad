package sqlite_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/sqlite"
)

// TestFullDatabaseAnswersUnavailableAndRecovers fills the database (a page
// cap makes SQLite fail writes as on a full disk: SQLITE_FULL), then frees
// it: publishes fail as EUNAVAILABLE saying so, CheckWrite says so too, and
// once there is room again both succeed with every accepted event kept and
// the file intact.
func TestFullDatabaseAnswersUnavailableAndRecovers(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "otw.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UTC().Truncate(time.Millisecond)
	const org = 7
	if err := s.CreateOrganization(ctx, otw.Organization{ID: org, Name: "Org", CreatedAt: now},
		otw.APIKey{ID: "key_7", OrganizationID: org, Hash: []byte("hash-7"), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveWebhook(ctx, org, otw.WebhookSettings{Enabled: true, URL: "https://hooks.example.com/7",
		SubscribedEvents: []string{"case_resolved"}}, []byte("sealed"), now); err != nil {
		t.Fatal(err)
	}
	batch := func(n int) []otw.Event {
		events := make([]otw.Event, n)
		for i := range events {
			id := otw.NewID("evt_", now)
			events[i] = otw.Event{ID: id, OrganizationID: org, Type: "case_resolved", CreatedAt: now,
				Body: []byte(fmt.Sprintf(`{"id":%q,"pad":%q}`, id, strings.Repeat("x", 1000)))}
		}
		return events
	}
	var accepted []store.Inserted
	publish := func() error {
		ins, _, err := s.InsertEvents(ctx, batch(20), now, store.Take{})
		accepted = append(accepted, ins...)
		return err
	}

	if err := s.FillUp(ctx, 40); err != nil {
		t.Fatal(err)
	}
	var failed error
	for range 100 {
		if failed = publish(); failed != nil {
			break
		}
	}
	if failed == nil {
		t.Fatal("100 publishes into a database capped at 40 more pages all committed")
	}
	const full = "the database is out of disk space"
	if otw.ErrorCode(failed) != otw.EUNAVAILABLE || otw.ErrorMessage(failed) != full {
		t.Fatalf("publish into a full database: %v; want %s: %q", failed, otw.EUNAVAILABLE, full)
	}
	if err := s.CheckWrite(ctx); otw.ErrorCode(err) != otw.EUNAVAILABLE || otw.ErrorMessage(err) != full {
		t.Fatalf("CheckWrite after a publish failed for want of space: %v; want %q", err, full)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping on a full database: %v (reads still work)", err)
	}

	if err := s.Free(ctx); err != nil {
		t.Fatal(err)
	}
	if err := publish(); err != nil {
		t.Fatalf("publish once there is room again: %v", err)
	}
	if err := s.CheckWrite(ctx); err != nil {
		t.Fatalf("CheckWrite once a publish committed again: %v", err)
	}
	for _, in := range accepted {
		if _, err := s.GetDelivery(ctx, org, in.DeliveryID); err != nil {
			t.Fatalf("accepted event %s: delivery %s: %v", in.EventID, in.DeliveryID, err)
		}
	}
	if n, err := s.CountPending(ctx); err != nil || n != int64(len(accepted)) {
		t.Fatalf("CountPending = %d, %v; want the %d accepted", n, err, len(accepted))
	}
	integrityCheck(t, path)
}

// integrityCheck runs PRAGMA integrity_check on the file through a
// connection of its own.
func integrityCheck(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ok string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check = %q, %v", ok, err)
	}
}
