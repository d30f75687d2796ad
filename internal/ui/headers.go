package ui

import "net/http"

// csp allows nothing inline and nothing from elsewhere: scripts and styles
// come from /static/ only. The chart is inline SVG, which CSP does not
// restrict as long as it uses presentation attributes rather than style.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// wrap puts every UI response behind the security headers and every
// unsafe request (POST) behind Go's cross-origin protection: a form posted
// from another site is refused with 403 before any handler runs.
func (u *UI) wrap(h http.Handler) http.Handler {
	protected := u.cop.Handler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		protected.ServeHTTP(w, r)
	})
}
