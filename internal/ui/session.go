package ui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// cookieName is the session cookie. The __Host- prefix would pin it to
// HTTPS, and the UI must also work on http://127.0.0.1, so it has none.
const cookieName = "otw_session"

// session is who signed in, carried whole in a signed cookie, so any node
// with the same SessionKey accepts it without a session table. Only
// signing out is written to the database (revoked_sessions, by ID), where
// every node looks on every request.
type session struct {
	// ID names the sign-in (random), so that signing out can revoke it;
	// choosing an organization keeps it.
	ID    [16]byte
	Admin bool
	// Org is the organization the pages show: the key's own, or the one
	// an admin chose (0 until then).
	Org int64
	// Credential ties the session to what signed in. For an organization
	// key it is the key's SHA-256 (a hash of 256 random bits reveals
	// nothing), looked up on every request so a revoked key ends its
	// sessions. For the admin it is a MAC of the admin token's hash, so a
	// new admin token ends the old sessions without the cookie holding a
	// hash of a token that may be a guessable password.
	Credential [32]byte
	Expires    time.Time
}

// SessionKeyFrom derives the cookie-signing key from another secret every
// node shares (the --secret-key), so that the key that encrypts signing
// secrets is never used for a second purpose as it is.
func SessionKeyFrom(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("onetalk-webhooks ui session v1"))
	return m.Sum(nil)
}

// Layout: version (2) | admin (1) | org (8) | expires unix (8) |
// credential (32) | ID (16). Version 1 cookies had no ID, so no sign-out
// could end them: they are refused, and their holders sign in again.
const sessionLen = 1 + 1 + 8 + 8 + 32 + 16

const sessionVersion = 2

// newSessionID names a new sign-in.
func newSessionID() (id [16]byte) {
	rand.Read(id[:]) // never fails: see "Randomness cannot fail" in docs/design.md
	return id
}

func (u *UI) encodeSession(s session) string {
	b := make([]byte, 0, sessionLen+sha256.Size)
	b = append(b, sessionVersion)
	if s.Admin {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(s.Org))
	b = binary.BigEndian.AppendUint64(b, uint64(s.Expires.Unix()))
	b = append(b, s.Credential[:]...)
	b = append(b, s.ID[:]...)
	b = append(b, u.mac(b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errBadSession = errors.New("ui: no valid session")

// decodeSession checks the signature and the expiry; whether the
// credential is still good is checkSession's job.
func (u *UI) decodeSession(v string) (session, error) {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) != sessionLen+sha256.Size || b[0] != sessionVersion {
		return session{}, errBadSession
	}
	if !hmac.Equal(u.mac(b[:sessionLen]), b[sessionLen:]) {
		return session{}, errBadSession
	}
	s := session{
		Admin:   b[1] == 1,
		Org:     int64(binary.BigEndian.Uint64(b[2:10])),
		Expires: time.Unix(int64(binary.BigEndian.Uint64(b[10:18])), 0),
	}
	copy(s.Credential[:], b[18:50])
	copy(s.ID[:], b[50:sessionLen])
	if !u.svc.Now().Before(s.Expires) {
		return session{}, errBadSession
	}
	return s, nil
}

func (u *UI) mac(b []byte) []byte {
	m := hmac.New(sha256.New, u.cfg.SessionKey)
	m.Write(b)
	return m.Sum(nil)
}

// adminCredential is what an admin session carries (see session).
func (u *UI) adminCredential() [32]byte { return u.svc.AdminTag(u.cfg.SessionKey) }

// checkSession reports whether the credential behind s still signs in to
// s's organization and s was not signed out. Both are indexed lookups by
// key; a store that fails answers its own error, not "signed out".
func (u *UI) checkSession(r *http.Request, s session) error {
	if err := u.checkCredential(r, s); err != nil {
		return err
	}
	revoked, err := u.svc.SessionRevoked(r.Context(), s.ID[:])
	if err != nil {
		return err
	}
	if revoked {
		return errBadSession
	}
	return nil
}

// checkCredential is checkSession's check of the credential: the admin
// token unchanged, or a live key that reaches the session's organization.
func (u *UI) checkCredential(r *http.Request, s session) error {
	if s.Admin {
		want := u.adminCredential()
		if subtle.ConstantTimeCompare(s.Credential[:], want[:]) != 1 {
			return errBadSession
		}
		return nil
	}
	p, err := u.svc.AuthenticateKeyHash(r.Context(), s.Credential[:])
	switch {
	case otw.ErrorCode(err) == otw.EUNAUTHORIZED:
		return errBadSession
	case err != nil:
		return err
	case p.Reach(s.Org) != nil:
		return errBadSession
	}
	return nil
}

// setSession sends the session cookie: HttpOnly (no script reads it),
// SameSite=Strict (no other site's link or form carries it) and Secure
// whenever the browser reaches the service over HTTPS (see secure).
func (u *UI) setSession(w http.ResponseWriter, r *http.Request, s session) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: u.encodeSession(s), Path: "/",
		Expires: s.Expires, MaxAge: int(s.Expires.Sub(u.svc.Now()).Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: u.secure(r),
	})
}

func (u *UI) clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: u.secure(r)})
}

// secure reports whether the browser reached the service over HTTPS:
// directly (the request came over TLS), or through a proxy that ends TLS,
// which the public URL names. A forwarded header is not trusted for it:
// any client can send one. A Secure cookie on plain http would be dropped
// by the browser, so neither is assumed.
func (u *UI) secure(r *http.Request) bool {
	return r.TLS != nil || u.httpsPublic
}
