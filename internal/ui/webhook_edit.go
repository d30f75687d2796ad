package ui

import "net/http"

// editWebhook is where "Set" leads: the form, filled with what is saved.
func (u *UI) editWebhook(w http.ResponseWriter, r *http.Request, s session) {
	p, err := u.loadWebhookPage(r.Context(), s.Org)
	if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	u.render(w, r, http.StatusOK, "webhook_form", &view{Title: "Set webhook", Nav: "webhooks", Session: &s,
		Data: formFromWebhook(p.Webhook)})
}
