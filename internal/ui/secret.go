package ui

import "net/http"

// revealSecret answers a POST with the page and the secret on it: a GET
// would leave the secret in the history and in any cache of the URL.
func (u *UI) revealSecret(w http.ResponseWriter, r *http.Request, s session) {
	p, err := u.loadWebhookPage(r.Context(), s.Org)
	if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	if p.Webhook == nil {
		http.Redirect(w, r, "/webhooks", http.StatusSeeOther)
		return
	}
	// An Ed25519 webhook shows its public key: the private one stays in
	// the service.
	if p.Secret, err = u.svc.OpenReceiverKey(*p.Webhook); err != nil {
		u.fail(w, r, &s, err)
		return
	}
	u.render(w, r, http.StatusOK, "webhook", &view{Title: "Webhooks", Nav: "webhooks", Session: &s, Data: p})
}

// rotateSecret makes a new secret; the old one keeps signing beside it for
// the overlap, so receivers can switch without missing an event.
func (u *UI) rotateSecret(w http.ResponseWriter, r *http.Request, s session) {
	secret, until, err := u.svc.RotateSecret(r.Context(), s.Org)
	if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	p, err := u.loadWebhookPage(r.Context(), s.Org)
	if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	p.Secret = secret
	made := "New signing secret made."
	if p.Ed25519 {
		made = "New signing key made: give your receiver the public key below."
	}
	u.render(w, r, http.StatusOK, "webhook", &view{Title: "Webhooks", Nav: "webhooks", Session: &s, Data: p,
		Notice: made + " The old one keeps signing beside it until " + fmtTime(until) + "."})
}
