package service

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
	"sync"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// APIKeyPrefix starts every organization key, so a leaked one is easy to
// recognize (and to scan for).
const APIKeyPrefix = "otk_"

// Principal is who is calling: the platform's admin, or the holder of an
// organization's key.
type Principal struct {
	Admin bool
	Org   int64 // the key's organization when not Admin
}

// Reach reports whether p may act on org: the admin reaches every
// organization; a key only its own, and never the platform's operations
// organization (otw.OpsOrganizationID), which only the admin reads. The
// refusal reveals nothing, not even whether org exists.
func (p Principal) Reach(org int64) error {
	if !p.Admin && (org != p.Org || org == otw.OpsOrganizationID) {
		return otw.Errorf(otw.EFORBIDDEN, "this key belongs to another organization")
	}
	return nil
}

// HashToken is how tokens and keys are stored: SHA-256 is enough for
// 256-bit random secrets, which no dictionary holds.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// NewAPIKey returns a new organization key and its hash.
func NewAPIKey() (key string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b) // never fails: see "Randomness cannot fail" in docs/design.md
	key = APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	return key, HashToken(key)
}

// errBadToken is every refusal of a credential, whatever was wrong with
// it: a guesser learns nothing from the answer.
func errBadToken() error { return otw.Errorf(otw.EUNAUTHORIZED, "the token is not valid") }

// Authenticate resolves a token to its Principal: the admin token
// (compared in constant time) or a live organization key, whose use is
// recorded (now and then, see keyUses). Any other token is EUNAUTHORIZED;
// a store that fails answers its own error, which is nobody's guess.
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
	// On the stack: the admin's token, on every publish, is checked
	// without allocating; a key's hash is copied out for the store.
	sum := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(sum[:], s.adminHash) == 1 {
		return Principal{Admin: true}, nil
	}
	if !strings.HasPrefix(token, APIKeyPrefix) {
		return Principal{}, errBadToken()
	}
	key, err := s.liveKey(ctx, bytes.Clone(sum[:]))
	if err != nil {
		return Principal{}, err
	}
	if now := s.now(); s.uses.due(key.ID, now) {
		// Off the request's path and deadline: a missed record of use
		// harms nothing.
		go func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = s.store.TouchAPIKey(ctx, key.ID, now)
		}()
	}
	return Principal{Org: key.OrganizationID}, nil
}

// AuthenticateKeyHash is Authenticate for what a UI session carries of an
// organization key, its hash (HashToken), checked again on every page so
// that revoking the key ends the session. Browsing is not a use of the
// key: nothing is recorded.
func (s *Service) AuthenticateKeyHash(ctx context.Context, hash []byte) (Principal, error) {
	key, err := s.liveKey(ctx, hash)
	if err != nil {
		return Principal{}, err
	}
	return Principal{Org: key.OrganizationID}, nil
}

// liveKey is the unrevoked key with this hash, or EUNAUTHORIZED.
func (s *Service) liveKey(ctx context.Context, hash []byte) (otw.APIKey, error) {
	key, err := s.store.FindAPIKey(ctx, hash)
	switch {
	case otw.IsNotFound(err):
		return otw.APIKey{}, errBadToken()
	case err != nil:
		return otw.APIKey{}, err
	case key.RevokedAt != nil:
		return otw.APIKey{}, errBadToken()
	}
	return key, nil
}

// AdminTag is a MAC under key of the admin token's hash: what a UI session
// of the admin carries, so that a new admin token ends the old sessions
// without a cookie holding a hash of a token that may be a guessable
// password.
func (s *Service) AdminTag(key []byte) [sha256.Size]byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("admin:"))
	m.Write(s.adminHash)
	var tag [sha256.Size]byte
	m.Sum(tag[:0])
	return tag
}

// keyUses records keys' last use at most every touchEvery per key, so
// that authenticating does not write on every request.
type keyUses struct {
	mu   sync.Mutex
	last map[string]time.Time
}

const touchEvery = 5 * time.Minute

// due reports whether the key's use at now should be written.
func (u *keyUses) due(id string, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.last == nil || len(u.last) > 100000 {
		u.last = make(map[string]time.Time)
	}
	if t, ok := u.last[id]; ok && now.Sub(t) < touchEvery {
		return false
	}
	u.last[id] = now
	return true
}
