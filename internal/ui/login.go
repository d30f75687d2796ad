package ui

import (
	"crypto/subtle"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/onetalk/onetalk-webhooks/internal/api"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

func (u *UI) showLogin(w http.ResponseWriter, r *http.Request) {
	u.render(w, r, http.StatusOK, "login", &view{Title: "Sign in"})
}

// login signs in with an organization API key or the admin token, checked
// as the API checks a bearer token: by hash, the admin's in constant time,
// a revoked key refused.
func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	addr := api.ClientAddr(r)
	if wait := u.cfg.Failures.Blocked(addr); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		u.render(w, r, http.StatusTooManyRequests, "login", &view{Title: "Sign in",
			Error: fmt.Sprintf("Too many failed sign-ins from this address. Try again in %d seconds.", int(math.Ceil(wait.Seconds())))})
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	hash := api.HashToken(token)
	expires := u.cfg.Now().Add(u.cfg.SessionTTL)
	switch {
	case token == "":
	case subtle.ConstantTimeCompare(hash, u.cfg.AdminTokenHash) == 1:
		u.setSession(w, r, session{ID: newSessionID(), Admin: true, Credential: u.adminCredential(), Expires: expires})
		http.Redirect(w, r, "/organization", http.StatusSeeOther)
		return
	case strings.HasPrefix(token, api.APIKeyPrefix):
		key, err := u.cfg.Store.FindAPIKey(r.Context(), hash)
		if err != nil && !otw.IsNotFound(err) {
			u.fail(w, r, nil, err)
			return
		}
		if err == nil && key.RevokedAt == nil {
			s := session{ID: newSessionID(), Org: key.OrganizationID, Expires: expires}
			copy(s.Credential[:], hash)
			u.setSession(w, r, s)
			http.Redirect(w, r, "/webhooks", http.StatusSeeOther)
			return
		}
	}
	if token != "" {
		u.cfg.Failures.Fail(addr)
	}
	u.render(w, r, http.StatusUnauthorized, "login", &view{Title: "Sign in",
		Error: "That is not a valid API key or admin token. Check it and try again."})
}
