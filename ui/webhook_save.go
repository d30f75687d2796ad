package ui

import (
	"net/http"

	otw "github.com/onetalk/onetalk-webhooks"
	"github.com/onetalk/onetalk-webhooks/api"
	"github.com/onetalk/onetalk-webhooks/webhook"
)

// saveWebhook is "Save Changes". Invalid input shows the form again with
// each message beside its control and saves nothing.
func (u *UI) saveWebhook(w http.ResponseWriter, r *http.Request, s session) {
	form, body := parseWebhookForm(r)
	set, err := api.ParseWebhookSettings(body, u.cfg.AllowPrivate)
	if otw.ErrorCode(err) == otw.EINVALID {
		_, getErr := u.cfg.Store.GetWebhook(r.Context(), s.Org)
		form.New = otw.IsNotFound(getErr)
		form.Errors = fieldErrors(err)
		u.render(w, r, http.StatusUnprocessableEntity, "webhook_form", &view{Title: "Set webhook", Nav: "webhooks",
			Session: &s, Error: "The webhook was not saved: fix the fields marked below.", Data: form})
		return
	}
	// As in the API: a secret is made for every save and kept only by the
	// first, which the store decides atomically.
	var secret string
	if err == nil {
		secret, err = webhook.NewSecret()
	}
	var wh otw.Webhook
	if err == nil {
		wh, err = u.cfg.Store.SaveWebhook(r.Context(), s.Org, set, u.cfg.Box.Seal([]byte(secret)), u.cfg.Now())
	}
	if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	if wh.Enabled {
		u.cfg.Notify() // deliveries held while it was switched off may go now
	}
	http.Redirect(w, r, "/webhooks?notice=saved", http.StatusSeeOther)
}
