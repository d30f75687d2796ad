package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/service"
	"github.com/onetalk/onetalk-webhooks/internal/web"
)

type principalKey struct{}

// bearer reads the token of the Authorization header.
func bearer(r *http.Request) (string, error) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	token = strings.TrimSpace(token)
	if !ok || token == "" {
		return "", otw.Errorf(otw.EUNAUTHORIZED, "send Authorization: Bearer <admin token or organization API key>")
	}
	return token, nil
}

// authenticate resolves the request's bearer token to its principal.
func (s *Server) authenticate(r *http.Request) (service.Principal, error) {
	token, err := bearer(r)
	if err != nil {
		return service.Principal{}, err
	}
	return s.svc.Authenticate(r.Context(), token)
}

// authed wraps a /v1 handler: 401 without a valid token, 403 when the
// route is the admin's and the caller is not, 429 (before the token is
// looked at) when the client's address has failed too often of late.
func (s *Server) authed(adminOnly bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		addr := web.ClientAddr(r)
		if wait := s.failures.Blocked(addr); wait > 0 {
			secs := web.Seconds(wait)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeError(w, r, s.log, otw.Errorf(otw.ETOOMANY, "too many failed authentications from %s: try again in %d s", addr, secs))
			return
		}
		p, err := s.authenticate(r)
		// A wrong credential is a guess; a missing one is not, and a
		// store that fails is nobody's guess. (err is tested first: ErrorCode
		// allocates even for nil.)
		if err != nil && otw.ErrorCode(err) == otw.EUNAUTHORIZED && r.Header.Get("Authorization") != "" {
			s.failures.Fail(addr)
		}
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if adminOnly && !p.Admin {
			writeError(w, r, s.log, otw.Errorf(otw.EFORBIDDEN, "this route is for the platform's admin token"))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}
}

// orgRoute wraps a route under /v1/organizations/{org}: the caller must
// reach the organization (service.Principal.Reach); any other answers 403
// and reveals nothing, not even whether that organization exists.
func (s *Server) orgRoute(h func(w http.ResponseWriter, r *http.Request, org int64)) http.HandlerFunc {
	return s.authed(false, func(w http.ResponseWriter, r *http.Request) {
		p := r.Context().Value(principalKey{}).(service.Principal)
		org, err := strconv.ParseInt(r.PathValue("org"), 10, 64)
		if err != nil {
			org = -1 // no organization has a negative ID: nobody's key reaches it
		}
		if err := p.Reach(org); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if org < 0 {
			writeError(w, r, s.log, otw.Errorf(otw.ENOTFOUND, "no organization %q", r.PathValue("org")))
			return
		}
		h(w, r, org)
	})
}
