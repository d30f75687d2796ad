package ui

import (
	"net/http"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// saveWebhook is "Save Changes". Invalid input shows the form again with
// each message beside its control and saves nothing.
func (u *UI) saveWebhook(w http.ResponseWriter, r *http.Request, s session) {
	form, body := parseWebhookForm(r)
	set, err := u.svc.ParseWebhookSettings(body)
	if otw.ErrorCode(err) == otw.EINVALID {
		_, getErr := u.svc.GetWebhook(r.Context(), s.Org)
		form.New = otw.IsNotFound(getErr)
		form.Errors = fieldErrors(err)
		markFilterErrors(form.Filters, form.Errors)
		u.render(w, r, http.StatusUnprocessableEntity, "webhook_form", &view{Title: "Set webhook", Nav: "webhooks",
			Session: &s, Error: "The webhook was not saved: fix the fields marked below.", Data: form})
		return
	}
	if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	if _, err := u.svc.SaveWebhook(r.Context(), s.Org, set); err != nil {
		u.fail(w, r, &s, err)
		return
	}
	http.Redirect(w, r, "/webhooks?notice=saved", http.StatusSeeOther)
}
