package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// listenTests hold each driver to the announcements of Store.Listen: a
// listener is woken after each write the contract names, and after no
// other. A store announces to its own listeners before the write returns,
// so every check is made at once, without waiting.
var listenTests = map[string]func(*testing.T, store.Store){
	"InsertNotTakenAnnounces": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		l := listen(t, s)
		insert(t, s, t0, event(org1, "case_resolved", "", t0))
		l.wantWoken(t, "an insert that made a pending delivery")
		// Taken in part: the rest is for a claim.
		take := store.Take{LeaseUntil: t0.Add(time.Minute), Room: map[int64]int{org1: 1}}
		if _, taken, err := s.InsertEvents(t.Context(), []otw.Event{event(org1, "case_resolved", "", t0), event(org1, "case_resolved", "", t0)}, t0, take); err != nil || len(taken) != 1 {
			t.Fatalf("took %d, %v; want 1", len(taken), err)
		}
		l.wantWoken(t, "an insert that took one of its two deliveries")
	},
	"InsertWaitingBehindItsKeyIsSilent": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		take := store.Take{LeaseUntil: t0.Add(time.Minute), Room: map[int64]int{org1: 2}}
		// The first of m:1 is taken; the second waits behind it in the
		// same call.
		in, taken, err := s.InsertEvents(t.Context(), []otw.Event{event(org1, "case_resolved", "m:1", t0), event(org1, "case_resolved", "m:1", t0)}, t0, take)
		if err != nil || len(taken) != 1 || !in[0].Taken || in[0].Waits || in[1].Taken || !in[1].Waits {
			t.Fatalf("inserted %+v, took %d, %v; want the first taken, the second waiting", in, len(taken), err)
		}
		l := listen(t, s)
		// A third waits behind the two, pending from an earlier call.
		in, taken, err = s.InsertEvents(t.Context(), []otw.Event{event(org1, "case_resolved", "m:1", t0)}, t0, take)
		if err != nil || len(taken) != 0 || !in[0].Waits {
			t.Fatalf("inserted %+v, took %d, %v; want it waiting", in, len(taken), err)
		}
		l.wantSilent(t, "an insert whose only delivery waits behind its key")
		// One waits, the other, of a key of its own, is taken.
		in, taken, err = s.InsertEvents(t.Context(), []otw.Event{event(org1, "case_resolved", "m:1", t0), event(org1, "case_resolved", "m:2", t0)},
			t0, store.Take{LeaseUntil: t0.Add(time.Minute), Room: map[int64]int{org1: 1}})
		if err != nil || len(taken) != 1 || !in[0].Waits || !in[1].Taken {
			t.Fatalf("inserted %+v, took %d, %v; want the first waiting, the second taken", in, len(taken), err)
		}
		l.wantSilent(t, "an insert whose deliveries were taken or wait")
		// Without a Take nothing is asked: pending, not known to wait.
		if in := insert(t, s, t0, event(org1, "case_resolved", "m:1", t0)); in[0].Waits {
			t.Fatalf("inserted %+v; want Waits unknown (false) without a Take", in)
		}
		l.wantWoken(t, "an insert that did not ask whether its delivery waits")
	},
	"InsertAllTakenIsSilent": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		l := listen(t, s)
		take := store.Take{LeaseUntil: t0.Add(time.Minute), Room: map[int64]int{org1: 2}}
		in, taken, err := s.InsertEvents(t.Context(), []otw.Event{event(org1, "case_resolved", "", t0), event(org1, "case_resolved", "", t0),
			event(org1, "integration_message_status", "", t0)}, t0, take)
		if err != nil || len(taken) != 2 || in[2].DeliveryID != "" {
			t.Fatalf("took %d, %v; want 2 and no delivery for the type not subscribed", len(taken), err)
		}
		l.wantSilent(t, "an insert whose deliveries were all taken")
	},
	"InsertWithoutPendingDeliveryIsSilent": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		newOrg(t, s, org2) // no webhook
		newSubscribedOrg(t, s, org3)
		if err := s.DisableWebhook(t.Context(), org3, "the endpoint answered 410 Gone", t0); err != nil {
			t.Fatal(err)
		}
		keyed := event(org1, "case_resolved", "", t0)
		keyed.IdempotencyKey = "k-1"
		insert(t, s, t0, keyed)
		l := listen(t, s)
		again := keyed
		again.ID = otw.NewID("evt_", t0)
		in := insert(t, s, t0,
			event(org1, "integration_message_status", "", t0), // not subscribed
			event(org2, "case_resolved", "", t0),              // no webhook
			event(1999, "case_resolved", "", t0),              // no organization
			event(org3, "case_resolved", "", t0),              // recorded failed: disabled
			again)                                             // the first event's, pending already
		if in[3].DeliveryID == "" || !in[4].Existing {
			t.Fatalf("inserted %+v; want a failed delivery for the disabled webhook and the repeat Existing", in)
		}
		l.wantSilent(t, "an insert that made no pending delivery")
	},
	"RetryAndRecoverAnnounce": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		a, b := deliver(t, s, org1, "", t0), deliver(t, s, org1, "", t0)
		c := claim(t, s, claimParams(t0))
		complete(t, s, result(c[0], otw.DeliveryFailed, 0, t0), result(c[1], otw.DeliveryFailed, 0, t0))
		l := listen(t, s)
		if err := s.RetryDelivery(t.Context(), org1, a, t0); err != nil {
			t.Fatal(err)
		}
		l.wantWoken(t, "RetryDelivery")
		if n, err := s.RecoverDeliveries(t.Context(), org1, t0, t0); err != nil || n != 1 {
			t.Fatalf("RecoverDeliveries = %d, %v; want 1 (%s)", n, err, b)
		}
		l.wantWoken(t, "RecoverDeliveries of one")
		if n, err := s.RecoverDeliveries(t.Context(), org1, t0, t0); err != nil || n != 0 {
			t.Fatalf("RecoverDeliveries again = %d, %v; want 0", n, err)
		}
		l.wantSilent(t, "RecoverDeliveries of none")
	},
	"BulkRetryAnnounces": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		sendOnce(t, s, deliver(t, s, org1, "", t0), otw.DeliveryFailed, 0, t0)
		l := listen(t, s)
		p := store.RetryParams{DeliveryFilter: store.DeliveryFilter{OrganizationID: org1, Status: otw.DeliveryFailed}, Limit: 10, DryRun: true, Now: t0}
		for _, c := range []struct {
			dryRun bool
			n      int
			woken  bool
			what   string
		}{
			{true, 1, false, "a dry run"},
			{false, 1, true, "a bulk retry of one"},
			{false, 0, false, "a bulk retry of none"},
		} {
			p.DryRun = c.dryRun
			if n, _, err := s.RetryDeliveries(t.Context(), p); err != nil || n != c.n {
				t.Fatalf("%s: RetryDeliveries = %d, %v; want %d", c.what, n, err, c.n)
			}
			if c.woken {
				l.wantWoken(t, c.what)
			} else {
				l.wantSilent(t, c.what)
			}
		}
	},
	"SaveEnabledAnnounces": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		l := listen(t, s)
		saveWebhook(t, s, org1, false, "case_resolved")
		l.wantSilent(t, "a webhook saved switched off")
		saveWebhook(t, s, org1, true, "case_resolved")
		l.wantWoken(t, "a webhook saved enabled")
	},
	"ReleaseAnnounces": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		c := claimOne(t, s, t0, deliver(t, s, org1, "", t0))
		l := listen(t, s)
		if err := s.ReleaseDeliveries(t.Context(), []store.Lease{c.Lease}); err != nil {
			t.Fatal(err)
		}
		l.wantWoken(t, "a lease given back")
		if err := s.ReleaseDeliveries(t.Context(), []store.Lease{c.Lease}); err != nil {
			t.Fatal(err)
		}
		l.wantSilent(t, "a lease given back that had ended")
	},
	"OtherWritesAreSilent": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		newSubscribedOrg(t, s, org2)
		a, b := deliver(t, s, org1, "", t0), deliver(t, s, org1, "", t0)
		deliver(t, s, org2, "", t0)
		l := listen(t, s)
		ctx := t.Context()
		c := claim(t, s, claimParams(t0))
		l.wantSilent(t, "a claim")
		byID := map[string]store.Claimed{}
		for _, x := range c {
			byID[x.DeliveryID] = x
		}
		if _, err := s.ExtendLeases(ctx, []store.Lease{byID[a].Lease}, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		l.wantSilent(t, "ExtendLeases")
		complete(t, s, result(byID[b], otw.DeliveryPending, 503, t0))
		l.wantSilent(t, "an outcome that schedules a retry")
		if err := s.DisableWebhook(ctx, org2, "the endpoint answered 410 Gone", t0); err != nil {
			t.Fatal(err)
		}
		l.wantSilent(t, "DisableWebhook")
		if _, err := s.RotateSecret(ctx, org1, secretB, t0.Add(time.Hour), t0); err != nil {
			t.Fatal(err)
		}
		newOrg(t, s, org3)
		if err := s.DeleteOrganization(ctx, org3); err != nil {
			t.Fatal(err)
		}
		l.wantSilent(t, "writes that make nothing due")
	},
}

// listener counts the wakes of a Listen.
type listener struct{ woken chan struct{} }

// listen runs s.Listen until t ends, when it must return
// context.Canceled, and waits for the wake that Listen gives once it
// listens.
func listen(t *testing.T, s store.Store) *listener {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &listener{woken: make(chan struct{}, 1)}
	done := make(chan error, 1)
	go func() { done <- s.Listen(ctx, l.wake) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Listen returned %v once its context ended; want context.Canceled", err)
		}
	})
	select {
	case <-l.woken:
	case <-time.After(10 * time.Second):
		t.Fatal("Listen did not wake its caller once it listened")
	}
	return l
}

// wake is the intended shape of a wake: a send that never blocks.
func (l *listener) wake() {
	select {
	case l.woken <- struct{}{}:
	default:
	}
}

func (l *listener) wantWoken(t *testing.T, after string) {
	t.Helper()
	select {
	case <-l.woken:
	default:
		t.Fatalf("Listen did not wake after %s", after)
	}
}

func (l *listener) wantSilent(t *testing.T, after string) {
	t.Helper()
	select {
	case <-l.woken:
		t.Fatalf("Listen woke after %s, which makes no work due", after)
	default:
	}
}
