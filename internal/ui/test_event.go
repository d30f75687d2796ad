package ui

import (
	"net/http"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// sendTestEvent is "Send test event": the type's example with this
// organization's ID, published as POST …/webhook/test publishes it, so it
// goes through the store and the dispatcher like any event and shows in
// the log.
func (u *UI) sendTestEvent(w http.ResponseWriter, r *http.Request, s session) {
	in, err := u.svc.SendTestEvent(r.Context(), s.Org, r.PostFormValue("eventType"))
	if err != nil && !otw.IsNotFound(err) {
		u.fail(w, r, &s, err)
		return
	}
	if in.DeliveryID == "" {
		// No webhook (not found), or one that takes no delivery of this
		// type.
		http.Redirect(w, r, "/webhooks?notice=test-none", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/deliveries/"+in.DeliveryID+"?notice=test-sent", http.StatusSeeOther)
}
