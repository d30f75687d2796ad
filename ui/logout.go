package ui

import "net/http"

// logout drops the cookie. Sessions live only in cookies, so this ends the
// session in this browser; revoking the key ends it everywhere.
func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	clearSession(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
