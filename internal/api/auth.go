package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// APIKeyPrefix starts every organization key, so a leaked one is easy to
// recognize (and to scan for).
const APIKeyPrefix = "otk_"

// principal is who is calling.
type principal struct {
	admin bool
	org   int64 // the key's organization when not admin
}

type principalKey struct{}

// HashToken is how tokens and keys are stored: SHA-256 is enough for
// 256-bit random secrets, which no dictionary holds.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// NewAPIKey returns a new organization key and its hash.
func NewAPIKey() (key string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	key = APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	return key, HashToken(key)
}

// authenticate resolves the bearer token to a principal: the admin token
// (compared in constant time) or a live organization key.
func (s *Server) authenticate(r *http.Request) (principal, error) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	token = strings.TrimSpace(token)
	if !ok || token == "" {
		return principal{}, otw.Errorf(otw.EUNAUTHORIZED, "send Authorization: Bearer <admin token or organization API key>")
	}
	hash := HashToken(token)
	if subtle.ConstantTimeCompare(hash, s.adminHash) == 1 {
		return principal{admin: true}, nil
	}
	if strings.HasPrefix(token, APIKeyPrefix) {
		key, err := s.store.FindAPIKey(r.Context(), hash)
		if err == nil && key.RevokedAt == nil {
			if now := s.now(); s.uses.due(key.ID, now) {
				// Off the request's path and deadline: a missed record
				// of use harms nothing.
				go func() {
					ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
					defer cancel()
					_ = s.store.TouchAPIKey(ctx, key.ID, now)
				}()
			}
			return principal{org: key.OrganizationID}, nil
		}
		if err != nil && !otw.IsNotFound(err) {
			return principal{}, err
		}
	}
	return principal{}, otw.Errorf(otw.EUNAUTHORIZED, "the token is not valid")
}

// authed wraps a /v1 handler: 401 without a valid token, 403 when the
// route is the admin's and the caller is not, 429 (before the token is
// looked at) when the client's address has failed too often of late.
func (s *Server) authed(adminOnly bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		addr := ClientAddr(r)
		if wait := s.failures.Blocked(addr); wait > 0 {
			secs := int(math.Ceil(wait.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeError(w, r, s.log, otw.Errorf(otw.ETOOMANY, "too many failed authentications from %s: try again in %d s", addr, secs))
			return
		}
		p, err := s.authenticate(r)
		// A wrong credential is a guess; a missing one is not, and a
		// store that fails is nobody's guess.
		if otw.ErrorCode(err) == otw.EUNAUTHORIZED && r.Header.Get("Authorization") != "" {
			s.failures.Fail(addr)
		}
		if err == nil && adminOnly && !p.admin {
			err = otw.Errorf(otw.EFORBIDDEN, "this route is for the platform's admin token")
		}
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}
}

// orgRoute wraps a route under /v1/organizations/{org}: an organization key
// reaches only its own organization; any other answers 403 and reveals
// nothing, not even whether that organization exists.
func (s *Server) orgRoute(h func(w http.ResponseWriter, r *http.Request, org int64)) http.HandlerFunc {
	return s.authed(false, func(w http.ResponseWriter, r *http.Request) {
		p := r.Context().Value(principalKey{}).(principal)
		org, err := strconv.ParseInt(r.PathValue("org"), 10, 64)
		switch {
		case !p.admin && (err != nil || org != p.org || org == otw.OpsOrganizationID):
			writeError(w, r, s.log, otw.Errorf(otw.EFORBIDDEN, "this key belongs to another organization"))
		// 0 is the platform's operations organization (otw.OpsOrganizationID),
		// which only the admin reaches: no organization key is for it.
		case err != nil || org < 0:
			writeError(w, r, s.log, otw.Errorf(otw.ENOTFOUND, "no organization %q", r.PathValue("org")))
		default:
			h(w, r, org)
		}
	})
}
