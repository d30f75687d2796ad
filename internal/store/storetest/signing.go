package storetest

import (
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// signingTests: a webhook's signature scheme is stored with its key, kept
// by later saves, and changed only with a key of the new scheme, the old
// key signing beside it through the overlap.
var signingTests = map[string]func(*testing.T, store.Store){
	"DefaultIsHMAC": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		w, err := s.GetWebhook(t.Context(), org1)
		if err != nil {
			t.Fatal(err)
		}
		if w.Signing != otw.SigningHMAC {
			t.Fatalf("Signing = %q, want %q", w.Signing, otw.SigningHMAC)
		}
	},
	"FirstSaveStoresTheSchemeLaterSavesKeepIt": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		set := otw.WebhookSettings{Enabled: true, URL: "https://a.example.com/", Signing: otw.SigningEd25519}
		w, err := s.SaveWebhook(t.Context(), org1, set, secretA, t0)
		if err != nil {
			t.Fatal(err)
		}
		if w.Signing != otw.SigningEd25519 {
			t.Fatalf("Signing after the first save = %q", w.Signing)
		}
		set.Signing = otw.SigningHMAC
		if _, err := s.SaveWebhook(t.Context(), org1, set, secretB, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetWebhook(t.Context(), org1)
		if err != nil {
			t.Fatal(err)
		}
		if got.Signing != otw.SigningEd25519 {
			t.Fatalf("Signing after a later save = %q, want it kept", got.Signing)
		}
		wantBytes(t, "Secret after a later save", got.Secret, secretA)
	},
	"SwitchKeepsTheOldKeyThroughTheOverlap": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1) // hmac-sha256, secretA
		until := t0.Add(24 * time.Hour)
		later := t0.Add(time.Minute)
		w, err := s.SwitchSigning(t.Context(), org1, otw.SigningEd25519, secretB, until, later)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.GetWebhook(t.Context(), org1)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []otw.Webhook{w, got} {
			if w.Signing != otw.SigningEd25519 || !w.UpdatedAt.Equal(later) {
				t.Fatalf("after the switch Signing %q updated %v", w.Signing, w.UpdatedAt)
			}
			wantBytes(t, "Secret after the switch", w.Secret, secretB)
			wantBytes(t, "PreviousSecret after the switch", w.PreviousSecret, secretA)
			wantTime(t, "PreviousSecretUntil", w.PreviousSecretUntil, until)
		}
		// The same switch again (a repeated save) changes nothing: the key
		// just made stays current.
		again, err := s.SwitchSigning(t.Context(), org1, otw.SigningEd25519, []byte("sealed-secret-C"), until.Add(time.Hour), later.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		wantBytes(t, "Secret after a repeated switch", again.Secret, secretB)
		wantBytes(t, "PreviousSecret after a repeated switch", again.PreviousSecret, secretA)
		if again.Signing != otw.SigningEd25519 {
			t.Fatalf("Signing after a repeated switch = %q", again.Signing)
		}
		// Rotation keeps the scheme.
		r, err := s.RotateSecret(t.Context(), org1, []byte("sealed-secret-C"), until, later)
		if err != nil {
			t.Fatal(err)
		}
		if r.Signing != otw.SigningEd25519 {
			t.Fatalf("Signing after a rotation = %q", r.Signing)
		}
		wantBytes(t, "PreviousSecret after a rotation", r.PreviousSecret, secretB)
	},
	"SwitchWithoutWebhook": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		_, err := s.SwitchSigning(t.Context(), org1, otw.SigningEd25519, secretB, t0, t0)
		wantCode(t, err, otw.ENOTFOUND, "SwitchSigning without a webhook")
	},
}
