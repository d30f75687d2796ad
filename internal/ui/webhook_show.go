package ui

import "net/http"

func (u *UI) showWebhook(w http.ResponseWriter, r *http.Request, s session) {
	p, err := u.loadWebhookPage(r.Context(), s.Org)
	if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	u.render(w, r, http.StatusOK, "webhook", &view{Title: "Webhooks", Nav: "webhooks", Session: &s,
		Notice: notice(r), Data: p})
}
