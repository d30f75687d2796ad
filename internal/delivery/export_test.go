package delivery

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store/sqlite"
)

// OpenTestStore is a real SQLite file in t's temporary folder where each
// organization of urls has an enabled webhook at its URL subscribed to
// eventType. Every test of the package, inside it or out, starts here.
func OpenTestStore(t *testing.T, eventType string, urls map[int64]string) *sqlite.Store {
	t.Helper()
	ctx := t.Context()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "otw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	now := time.Now()
	for org, url := range urls {
		if err := s.CreateOrganization(ctx, otw.Organization{ID: org, Name: "Org", CreatedAt: now},
			otw.APIKey{ID: fmt.Sprint("key_", org), OrganizationID: org, Hash: []byte(fmt.Sprint(org)), CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SaveWebhook(ctx, org, otw.WebhookSettings{Enabled: true, URL: url,
			SubscribedEvents: []string{eventType}}, []byte("whsec-key"), now); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// Receive is the ID (webhook-id) of the next request to arrive on arrived,
// within 10 s.
func Receive(t *testing.T, arrived <-chan string) string {
	t.Helper()
	select {
	case id := <-arrived:
		return id
	case <-time.After(10 * time.Second):
		t.Fatal("no request arrived within 10 s")
		return ""
	}
}
