package storetest

import (
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/store"
)

var sessionTests = map[string]func(*testing.T, store.Store){
	"RevokedUntilForgotten": func(t *testing.T, s store.Store) {
		a, b, c := []byte("session-a-16byte"), []byte("session-b-16byte"), []byte("session-c-16byte")
		revoked := func(id []byte, want bool, when string) {
			t.Helper()
			got, err := s.SessionRevoked(t.Context(), id)
			if err != nil || got != want {
				t.Fatalf("SessionRevoked(%s) %s = %v, %v; want %v", id, when, got, err, want)
			}
		}
		revoked(a, false, "before any sign-out")
		if err := s.RevokeSession(t.Context(), a, t0.Add(time.Hour), t0); err != nil {
			t.Fatal(err)
		}
		revoked(a, true, "after its sign-out")
		revoked(b, false, "after another session's sign-out")
		// Signing out twice (two tabs) is no error.
		if err := s.RevokeSession(t.Context(), a, t0.Add(time.Hour), t0.Add(time.Minute)); err != nil {
			t.Fatalf("second RevokeSession of one session: %v", err)
		}
		if err := s.RevokeSession(t.Context(), b, t0.Add(3*time.Hour), t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		// A sign-out after a's expiry forgets a, whose cookie is refused
		// for its age by then, and keeps b, which has not expired.
		if err := s.RevokeSession(t.Context(), c, t0.Add(4*time.Hour), t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		revoked(a, false, "after a later sign-out past its expiry")
		revoked(b, true, "before its expiry")
		revoked(c, true, "after its sign-out")
	},
}
