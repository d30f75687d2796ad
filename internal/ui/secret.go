package ui

import (
	"net/http"

	"github.com/onetalk/onetalk-webhooks/internal/api"
)

// revealSecret answers a POST with the page and the secret on it: a GET
// would leave the secret in the history and in any cache of the URL.
func (u *UI) revealSecret(w http.ResponseWriter, r *http.Request, s session) {
	p, err := u.loadWebhookPage(r.Context(), s.Org)
	if err == nil && p.Webhook == nil {
		http.Redirect(w, r, "/webhooks", http.StatusSeeOther)
		return
	}
	var secret []byte
	if err == nil {
		secret, err = u.cfg.Box.Open(p.Webhook.Secret)
	}
	var key string
	if err == nil {
		// An Ed25519 webhook shows its public key: the private one stays
		// in the service.
		key, err = api.ReceiverKey(secret)
	}
	if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	p.Secret = key
	u.render(w, r, http.StatusOK, "webhook", &view{Title: "Webhooks", Nav: "webhooks", Session: &s, Data: p})
}

// rotateSecret makes a new secret; the old one keeps signing beside it for
// the overlap, so receivers can switch without missing an event.
func (u *UI) rotateSecret(w http.ResponseWriter, r *http.Request, s session) {
	secret, until, err := u.cfg.API.RotateSecret(r.Context(), s.Org)
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
