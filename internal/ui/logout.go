package ui

import "net/http"

// logout ends the session on the server as well as in this browser: its
// ID is recorded as revoked until it would have expired, so a copy of the
// cookie (another tab, a stolen one) gets the sign-in page on every node.
// Without a valid session there is nothing to revoke; the cookie is
// dropped all the same.
func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	if err := u.revokeSession(r); err != nil {
		// The cookie stays, so that signing out can be tried again: the
		// page says it failed.
		u.fail(w, r, nil, err)
		return
	}
	u.clearSession(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// revokeSession records the request's session as signed out, if it has a
// valid one.
func (u *UI) revokeSession(r *http.Request) error {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	s, err := u.decodeSession(c.Value)
	if err != nil {
		return nil
	}
	return u.svc.RevokeSession(r.Context(), s.ID[:], s.Expires)
}
