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
	_, deliveryID, err := u.cfg.API.PublishTest(r.Context(), s.Org, r.PostFormValue("eventType"))
	switch {
	case otw.IsNotFound(err), err == nil && deliveryID == "":
		// No webhook, or one that takes no delivery of this type.
		http.Redirect(w, r, "/webhooks?notice=test-none", http.StatusSeeOther)
	case err != nil:
		u.fail(w, r, &s, err)
	default:
		http.Redirect(w, r, "/deliveries/"+deliveryID+"?notice=test-sent", http.StatusSeeOther)
	}
}
