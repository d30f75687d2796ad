package ui

import "net/http"

// logout ends the session on the server as well as in this browser: its
// ID is recorded as revoked until it would have expired, so a copy of the
// cookie (another tab, a stolen one) gets the sign-in page on every node.
// Without a valid session there is nothing to revoke; the cookie is
// dropped all the same.
func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil {
		if s, err := u.decodeSession(c.Value); err == nil {
			if err := u.cfg.Store.RevokeSession(r.Context(), s.ID[:], s.Expires, u.cfg.Now()); err != nil {
				// The cookie stays, so that signing out can be tried
				// again: the page says it failed.
				u.fail(w, r, nil, err)
				return
			}
		}
	}
	u.clearSession(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
