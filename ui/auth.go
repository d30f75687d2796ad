package ui

import (
	"net/http"
)

// pageHandler is a page that needs someone signed in.
type pageHandler func(w http.ResponseWriter, r *http.Request, s session)

// signedIn runs h with the request's session, or sends the browser to the
// sign-in page (dropping a cookie that is forged, expired or whose key was
// revoked).
func (u *UI) signedIn(h pageHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(cookieName)
		var s session
		if err == nil {
			s, err = u.decodeSession(c.Value)
		}
		if err == nil {
			err = u.checkSession(r, s)
		}
		if err != nil {
			if c != nil {
				clearSession(w, r)
			}
			http.Redirect(w, r, "/login", http.StatusSeeOther)
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
