package service_test

import (
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/seal"
	"github.com/onetalk/onetalk-webhooks/internal/service"
	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/sqlite"
)

const admin = "ota_service-test-admin-token"

// newService is a Service on a SQLite file, with the number of times its
// store announced work due (what wakes a dispatcher, store.Store.Listen).
func newService(t *testing.T) (*service.Service, store.Store, *atomic.Int64) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "otw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	box, err := seal.New(make([]byte, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	var woken atomic.Int64
	listening := make(chan struct{})
	var started sync.Once
	go st.Listen(t.Context(), func() {
		woken.Add(1)
		started.Do(func() { close(listening) }) // the call Listen makes as it starts
	})
	<-listening
	woken.Store(0)
	svc := service.New(service.Config{Store: st, Box: box, AdminTokenHash: service.HashToken(admin), AllowPrivate: true,
		Retention: 72 * time.Hour})
	return svc, st, &woken
}

// The admin token and a live key sign in, a key recording its use; a
// revoked key, another token and a key's hash alone do not.
func TestAuthenticate(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := t.Context()
	if p, err := svc.Authenticate(ctx, admin); err != nil || !p.Admin {
		t.Fatalf("the admin token: %+v, %v", p, err)
	}
	_, k, err := svc.CreateOrganization(ctx, 1111, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := svc.Authenticate(ctx, k.Key); err != nil || p != (service.Principal{Org: 1111}) {
		t.Fatalf("the organization's key: %+v, %v", p, err)
	}
	if p, err := svc.AuthenticateKeyHash(ctx, service.HashToken(k.Key)); err != nil || p != (service.Principal{Org: 1111}) {
		t.Fatalf("the key's hash: %+v, %v", p, err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		keys, err := svc.ListAPIKeys(ctx, 1111)
		if err != nil {
			t.Fatal(err)
		}
		if keys[0].LastUsedAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the key's use was not recorded")
		}
	}
	if err := svc.RevokeAPIKey(ctx, 1111, k.ID); err != nil {
		t.Fatal(err)
	}
	for _, token := range []string{k.Key, "otk_never-made", "not-a-token", admin + "x"} {
		if _, err := svc.Authenticate(ctx, token); otw.ErrorCode(err) != otw.EUNAUTHORIZED {
			t.Errorf("%q: %v, want EUNAUTHORIZED", token, err)
		}
	}
	if _, err := svc.AuthenticateKeyHash(ctx, service.HashToken(k.Key)); otw.ErrorCode(err) != otw.EUNAUTHORIZED {
		t.Errorf("the revoked key's hash: %v, want EUNAUTHORIZED", err)
	}
}

// A key reaches its own organization only, never the operations one; the
// admin reaches every one.
func TestPrincipalReach(t *testing.T) {
	for _, c := range []struct {
		p   service.Principal
		org int64
		ok  bool
	}{
		{service.Principal{Admin: true}, 1111, true},
		{service.Principal{Admin: true}, otw.OpsOrganizationID, true},
		{service.Principal{Org: 1111}, 1111, true},
		{service.Principal{Org: 1111}, 2222, false},
		{service.Principal{Org: 1111}, -1, false},
		{service.Principal{Org: otw.OpsOrganizationID}, otw.OpsOrganizationID, false},
	} {
		err := c.p.Reach(c.org)
		if (err == nil) != c.ok || (err != nil && otw.ErrorCode(err) != otw.EFORBIDDEN) {
			t.Errorf("%+v reaching %d: %v, want ok %v", c.p, c.org, err, c.ok)
		}
	}
}

// A dispatcher is woken whenever an operation makes a delivery due, and
// only then: not for an event no webhook takes, nor for a dry run. The
// service wakes nobody itself: the store announces its writes.
func TestOperationsThatMakeDeliveriesDueWakeTheDispatcher(t *testing.T) {
	svc, st, woken := newService(t)
	ctx := t.Context()
	wakes := func(what string, want int64, op func() error) {
		t.Helper()
		before := woken.Load()
		if err := op(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := woken.Load() - before; got != want {
			t.Errorf("%s woke a dispatcher %d times, want %d", what, got, want)
		}
	}
	if _, _, err := svc.CreateOrganization(ctx, 1111, "Acme"); err != nil {
		t.Fatal(err)
	}
	set, err := svc.ParseWebhookSettings([]byte(`{"enabled":true,"url":"http://127.0.0.1:9/hook","subscribedEvents":["case_resolved"]}`))
	if err != nil {
		t.Fatal(err)
	}
	wakes("saving an enabled webhook", 1, func() error { _, err := svc.SaveWebhook(ctx, 1111, set); return err })
	example := func(org int64) []byte {
		b, err := event.Example(event.TypeCaseResolved, org)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var delivery string
	wakes("publishing to the webhook", 1, func() error {
		in, err := svc.Publish(ctx, example(1111), "")
		delivery = in.DeliveryID
		return err
	})
	wakes("publishing to nobody", 0, func() error {
		in, err := svc.Publish(ctx, example(2222), "")
		if in.DeliveryID != "" || in.NotDelivered == "" {
			t.Errorf("an event for an organization without a webhook: %+v", in)
		}
		return err
	})
	failAll := func() {
		if err := st.DisableWebhook(ctx, 1111, "test", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	failAll()
	retry := store.RetryParams{DeliveryFilter: store.DeliveryFilter{OrganizationID: 1111, Status: otw.DeliveryFailed}}
	wakes("a dry run", 0, func() error {
		dry := retry
		dry.DryRun = true
		n, _, err := svc.RetryDeliveries(ctx, dry)
		if n != 1 {
			t.Errorf("the dry run counts %d, want 1", n)
		}
		return err
	})
	wakes("a bulk retry", 1, func() error { _, _, err := svc.RetryDeliveries(ctx, retry); return err })
	failAll()
	wakes("a recover", 1, func() error {
		n, note, err := svc.Recover(ctx, 1111, time.Now().Add(-100*time.Hour))
		if n != 1 || !strings.Contains(note, "past the retention") {
			t.Errorf("recover: %d, %q; want 1 and a note on the retention", n, note)
		}
		return err
	})
	wakes("a retry", 1, func() error { return svc.RetryDelivery(ctx, 1111, delivery) })

	_, err = svc.GetDelivery(ctx, 1111, "dlv_gone")
	if !otw.IsNotFound(err) || !strings.Contains(otw.ErrorMessage(err), "(the retention)") {
		t.Errorf("a delivery that is not there: %v, want ENOTFOUND naming the retention", err)
	}
}
