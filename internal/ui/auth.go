package ui

import (
	"errors"
	"net/http"
)

// pageHandler is a page that needs someone signed in.
type pageHandler func(w http.ResponseWriter, r *http.Request, s session)

// signedIn runs h with the request's session, or sends the browser to the
// sign-in page (dropping a cookie that is forged, expired, signed out or
// whose key was revoked).
func (u *UI) signedIn(h pageHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(cookieName)
		if err != nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		s, err := u.validSession(r, c.Value)
		switch {
		case errors.Is(err, errBadSession):
			u.clearSession(w, r)
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		case err != nil:
			// The store failed: the session may be good, so it is kept
			// and the page says to try again.
			u.fail(w, r, nil, err)
			return
		}
		h(w, r, s)
	})
}

// withOrg is signedIn for the pages of one organization: an admin who has
// not chosen one yet is asked to.
func (u *UI) withOrg(h pageHandler) http.Handler {
	return u.signedIn(func(w http.ResponseWriter, r *http.Request, s session) {
		if s.Org <= 0 {
			http.Redirect(w, r, "/organization", http.StatusSeeOther)
			return
		}
		h(w, r, s)
	})
}

// validSession is the session of the cookie value v once it is checked:
// signed, not expired, its credential good and not signed out.
func (u *UI) validSession(r *http.Request, v string) (session, error) {
	s, err := u.decodeSession(v)
	if err != nil {
		return session{}, err
	}
	return s, u.checkSession(r, s)
}
