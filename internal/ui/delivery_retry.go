package ui

import (
	"net/http"
	"net/url"
)

// retryDelivery is "Retry": one more attempt now, beyond the schedule.
func (u *UI) retryDelivery(w http.ResponseWriter, r *http.Request, s session) {
	id := r.PathValue("id")
	if err := u.svc.RetryDelivery(r.Context(), s.Org, id); err != nil {
		u.fail(w, r, &s, err)
		return
	}
	http.Redirect(w, r, "/deliveries/"+url.PathEscape(id)+"?notice=retried", http.StatusSeeOther)
}
