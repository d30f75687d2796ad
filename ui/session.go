package ui

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"time"
)

// cookieName is the session cookie. The __Host- prefix would pin it to
// HTTPS, and the UI must also work on http://127.0.0.1, so it has none.
const cookieName = "otw_session"

// session is who signed in, carried whole in a signed cookie: there is no
// session table, so any node with the same SessionKey accepts it.
type session struct {
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

// Layout: version (1) | admin (1) | org (8) | expires unix (8) | credential (32).
const sessionLen = 1 + 1 + 8 + 8 + 32

func (u *UI) encodeSession(s session) string {
	b := make([]byte, 0, sessionLen+sha256.Size)
	b = append(b, 1)
	if s.Admin {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(s.Org))
	b = binary.BigEndian.AppendUint64(b, uint64(s.Expires.Unix()))
	b = append(b, s.Credential[:]...)
	b = append(b, u.mac(b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errBadSession = errors.New("ui: no valid session")

// decodeSession checks the signature and the expiry; whether the
// credential is still good is checkSession's job.
func (u *UI) decodeSession(v string) (session, error) {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) != sessionLen+sha256.Size || b[0] != 1 {
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
	copy(s.Credential[:], b[18:sessionLen])
	if !u.cfg.Now().Before(s.Expires) {
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
func (u *UI) adminCredential() (c [32]byte) {
	copy(c[:], u.mac(append([]byte("admin:"), u.cfg.AdminTokenHash...)))
	return c
}

// checkSession reports whether the credential behind s still signs in.
func (u *UI) checkSession(r *http.Request, s session) error {
	if s.Admin {
		want := u.adminCredential()
		if subtle.ConstantTimeCompare(s.Credential[:], want[:]) != 1 {
			return errBadSession
		}
		return nil
	}
	key, err := u.cfg.Store.FindAPIKey(r.Context(), s.Credential[:])
	if err != nil || key.RevokedAt != nil || key.OrganizationID != s.Org {
		return errBadSession
	}
	return nil
}

// setSession sends the session cookie: HttpOnly (no script reads it),
// SameSite=Strict (no other site's link or form carries it) and Secure
// whenever the request came over TLS.
func (u *UI) setSession(w http.ResponseWriter, r *http.Request, s session) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: u.encodeSession(s), Path: "/",
		Expires: s.Expires, MaxAge: int(s.Expires.Sub(u.cfg.Now()).Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
}

func clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}
