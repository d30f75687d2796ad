package ui

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/service"
	"github.com/onetalk/onetalk-webhooks/internal/web"
)

func (u *UI) showLogin(w http.ResponseWriter, r *http.Request) {
	u.render(w, r, http.StatusOK, "login", &view{Title: "Sign in"})
}

// login signs in with an organization API key or the admin token,
// authenticated as the API authenticates a bearer token
// (service.Service.Authenticate).
func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	addr := web.ClientAddr(r)
	if wait := u.cfg.Failures.Blocked(addr); wait > 0 {
		secs := web.Seconds(wait)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		u.render(w, r, http.StatusTooManyRequests, "login", &view{Title: "Sign in",
			Error: fmt.Sprintf("Too many failed sign-ins from this address. Try again in %d seconds.", secs)})
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	if token == "" {
		u.refuseLogin(w, r)
		return
	}
	p, err := u.svc.Authenticate(r.Context(), token)
	switch {
	case otw.ErrorCode(err) == otw.EUNAUTHORIZED:
		u.cfg.Failures.Fail(addr)
		u.refuseLogin(w, r)
		return
	case err != nil:
		u.fail(w, r, nil, err)
		return
	}
	s := session{ID: newSessionID(), Admin: p.Admin, Org: p.Org, Expires: u.svc.Now().Add(u.cfg.SessionTTL)}
	next := "/webhooks"
	if p.Admin {
		s.Org, s.Credential, next = 0, u.adminCredential(), "/organization"
	} else {
		copy(s.Credential[:], service.HashToken(token))
	}
	u.setSession(w, r, s)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// refuseLogin answers a sign-in whose token is missing or not valid.
func (u *UI) refuseLogin(w http.ResponseWriter, r *http.Request) {
	u.render(w, r, http.StatusUnauthorized, "login", &view{Title: "Sign in",
		Error: "That is not a valid API key or admin token. Check it and try again."})
}
