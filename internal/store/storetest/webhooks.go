package storetest

import (
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

var webhookTests = map[string]func(*testing.T, store.Store){
	"GetBeforeSave": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		_, err := s.GetWebhook(t.Context(), org1)
		wantCode(t, err, otw.ENOTFOUND, "GetWebhook before the first save")
	},
	"FirstSaveStoresSecretLaterSavesKeepIt": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		w, err := s.SaveWebhook(t.Context(), org1, otw.WebhookSettings{
			Enabled: true, URL: "https://a.example.com/hook", SubscribedEvents: []string{"case_resolved", "integration_message_status"},
		}, secretA, t0)
		if err != nil {
			t.Fatal(err)
		}
		if !w.Enabled || w.URL != "https://a.example.com/hook" || w.State != otw.WebhookActive || w.DisabledReason != "" ||
			!w.Subscribes("case_resolved") || !w.Subscribes("integration_message_status") || len(w.SubscribedEvents) != 2 {
			t.Fatalf("first SaveWebhook = %+v", w)
		}
		wantBytes(t, "Secret after the first save", w.Secret, secretA)
		if w.PreviousSecret != nil || w.PreviousSecretUntil != nil {
			t.Fatalf("a new webhook has a previous secret: %q until %v", w.PreviousSecret, w.PreviousSecretUntil)
		}

		later := t0.Add(time.Hour)
		w, err = s.SaveWebhook(t.Context(), org1, otw.WebhookSettings{
			Enabled: false, URL: "https://b.example.com/hook", SubscribedEvents: []string{"case_resolved"},
		}, secretB, later)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.GetWebhook(t.Context(), org1)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []otw.Webhook{w, got} {
			if w.Enabled || w.URL != "https://b.example.com/hook" || w.Subscribes("integration_message_status") || !w.Subscribes("case_resolved") {
				t.Fatalf("webhook after the second save = %+v, want the second settings", w)
			}
			wantBytes(t, "Secret after the second save", w.Secret, secretA)
			if !w.UpdatedAt.Equal(later) || !w.CreatedAt.Equal(t0) {
				t.Fatalf("created %v updated %v, want %v and %v", w.CreatedAt, w.UpdatedAt, t0, later)
			}
		}
	},
	"NoSubscriptionsRoundTrips": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		if _, err := s.SaveWebhook(t.Context(), org1, otw.WebhookSettings{Enabled: true, URL: "https://a.example.com/"}, secretA, t0); err != nil {
			t.Fatal(err)
		}
		w, err := s.GetWebhook(t.Context(), org1)
		if err != nil {
			t.Fatal(err)
		}
		if len(w.SubscribedEvents) != 0 || w.Subscribes("") {
			t.Fatalf("SubscribedEvents = %q, want none", w.SubscribedEvents)
		}
	},
	"RateLimitRoundTrips": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		set := otw.WebhookSettings{Enabled: true, URL: "https://a.example.com/", SubscribedEvents: []string{"case_resolved"}}
		for _, limit := range []int{25, otw.MaxRateLimit, 0, 1} {
			set.RateLimit = limit
			saved, err := s.SaveWebhook(t.Context(), org1, set, secretA, t0)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.GetWebhook(t.Context(), org1)
			if err != nil {
				t.Fatal(err)
			}
			if saved.RateLimit != limit || got.RateLimit != limit {
				t.Fatalf("saved RateLimit %d: SaveWebhook returned %d, GetWebhook %d", limit, saved.RateLimit, got.RateLimit)
			}
		}
	},
	"SealedSecretIsACurrentOne": func(t *testing.T, s store.Store) {
		_, err := s.SealedSecret(t.Context())
		wantCode(t, err, otw.ENOTFOUND, "SealedSecret before any webhook")
		newOrg(t, s, org1)
		_, err = s.SealedSecret(t.Context())
		wantCode(t, err, otw.ENOTFOUND, "SealedSecret with an organization but no webhook")

		newSubscribedOrg(t, s, org2) // its secret is secretA
		got, err := s.SealedSecret(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		wantBytes(t, "SealedSecret", got, secretA)
		// After a rotation the current secret is the one to open: the
		// previous one stops signing within the overlap.
		if _, err := s.RotateSecret(t.Context(), org2, secretB, t0.Add(time.Hour), t0); err != nil {
			t.Fatal(err)
		}
		got, err = s.SealedSecret(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		wantBytes(t, "SealedSecret after a rotation", got, secretB)
	},
	"SaveUnknownOrganization": func(t *testing.T, s store.Store) {
		_, err := s.SaveWebhook(t.Context(), org1, otw.WebhookSettings{Enabled: true, URL: "https://a.example.com/"}, secretA, t0)
		wantCode(t, err, otw.ENOTFOUND, "SaveWebhook for an unknown organization")
	},
	"RotateSecret": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		until := t0.Add(24 * time.Hour)
		w, err := s.RotateSecret(t.Context(), org1, secretB, until, t0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.GetWebhook(t.Context(), org1)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []otw.Webhook{w, got} {
			wantBytes(t, "Secret after rotation", w.Secret, secretB)
			wantBytes(t, "PreviousSecret after rotation", w.PreviousSecret, secretA)
			wantTime(t, "PreviousSecretUntil", w.PreviousSecretUntil, until)
		}
		_, err = s.RotateSecret(t.Context(), org2, secretB, until, t0)
		wantCode(t, err, otw.ENOTFOUND, "RotateSecret without a webhook")
	},
	"DisableFailsPendingThenSaveEnabledReactivates": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		newSubscribedOrg(t, s, org2)
		done := deliver(t, s, org1, "", t0)
		sendOnce(t, s, done, otw.DeliverySucceeded, 200, t0)
		d1 := deliver(t, s, org1, "", t0)
		d2 := deliver(t, s, org1, "c:1", t0)
		other := deliver(t, s, org2, "", t0)

		const reason = "410 Gone from https://hooks.example.com/1001"
		if err := s.DisableWebhook(t.Context(), org1, reason, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		w, err := s.GetWebhook(t.Context(), org1)
		if err != nil {
			t.Fatal(err)
		}
		if w.State != otw.WebhookDisabled || w.DisabledReason != reason {
			t.Fatalf("after DisableWebhook: state %q reason %q, want disabled, %q", w.State, w.DisabledReason, reason)
		}
		for _, id := range []string{d1, d2} {
			d := getDelivery(t, s, org1, id)
			if d.Status != otw.DeliveryFailed || d.LastError != reason {
				t.Fatalf("pending delivery after DisableWebhook: status %q last error %q, want failed, %q", d.Status, d.LastError, reason)
			}
		}
		if d := getDelivery(t, s, org1, done); d.Status != otw.DeliverySucceeded {
			t.Fatalf("succeeded delivery became %q after DisableWebhook", d.Status)
		}
		if d := getDelivery(t, s, org2, other); d.Status != otw.DeliveryPending {
			t.Fatalf("another organization's delivery became %q after DisableWebhook", d.Status)
		}
		if c := claim(t, s, claimParams(t0.Add(time.Hour))); len(c) != 1 || c[0].OrganizationID != org2 {
			t.Fatalf("claimed %v after disabling, want only organization %d's delivery", claimedIDs(c), org2)
		}

		w = saveWebhook(t, s, org1, true, "case_resolved")
		if w.State != otw.WebhookActive || w.DisabledReason != "" {
			t.Fatalf("after saving enabled: state %q reason %q, want active and no reason", w.State, w.DisabledReason)
		}
	},
}
