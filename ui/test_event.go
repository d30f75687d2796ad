package ui

import (
	"net/http"

	otw "github.com/onetalk/onetalk-webhooks"
	"github.com/onetalk/onetalk-webhooks/event"
)

// sendTestEvent is "Send test event": the type's example with this
// organization's ID, published as the platform would (POST
// …/webhook/test does the same), so it goes through the store and the
// dispatcher like any event and shows in the log.
func (u *UI) sendTestEvent(w http.ResponseWriter, r *http.Request, s session) {
	eventType := r.PostFormValue("eventType")
	if _, err := u.cfg.Store.GetWebhook(r.Context(), s.Org); otw.IsNotFound(err) {
		http.Redirect(w, r, "/webhooks?notice=test-none", http.StatusSeeOther)
		return
	} else if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	example, err := event.Example(eventType, s.Org)
	var p event.Parsed
	if err == nil {
		p, err = event.Parse(example)
	}
	if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	now := u.cfg.Now().UTC()
	ins, err := u.cfg.Store.InsertEvents(r.Context(), []otw.Event{{ID: otw.NewID("evt_", now),
		OrganizationID: s.Org, Type: p.Type, OrderKey: p.OrderKey, Body: p.Body, CreatedAt: now}}, now)
	if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	if ins[0].DeliveryID == "" {
		http.Redirect(w, r, "/webhooks?notice=test-none", http.StatusSeeOther)
		return
	}
	u.cfg.Notify()
	http.Redirect(w, r, "/deliveries/"+ins[0].DeliveryID+"?notice=test-sent", http.StatusSeeOther)
}
