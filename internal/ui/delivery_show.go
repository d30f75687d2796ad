package ui

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// deliveryPage is one delivery: what was sent and every attempt.
type deliveryPage struct {
	Delivery otw.Delivery
	Payload  string // indented for reading
	// SwitchedOff: the webhook is switched off, so a pending delivery
	// waits for it to be enabled (no claim takes it until then).
	SwitchedOff bool
	// CanRetry shows the Retry button: see canRetry.
	CanRetry bool
}

// canRetry reports whether Retry helps: the delivery failed, or it waits
// for a scheduled retry that Retry brings forward. Not when it is new (it
// goes out now), nor when what it waits for is an earlier delivery or the
// webhook being enabled, which no retry changes. A delivery that
// succeeded can be sent again, a quieter action of the same operation.
func (p deliveryPage) canRetry() bool {
	d := p.Delivery
	switch d.Status {
	case otw.DeliveryFailed:
		return true
	case otw.DeliveryPending:
		blocked := d.WaitingFor != nil && d.WaitingFor.DeliveryID != ""
		return d.AttemptCount > 0 && !blocked && !p.SwitchedOff
	}
	return false
}

// showDelivery answers 404 for an ID of another organization, exactly as
// for one that does not exist: the store looks it up within s.Org.
func (u *UI) showDelivery(w http.ResponseWriter, r *http.Request, s session) {
	d, err := u.svc.GetDelivery(r.Context(), s.Org, r.PathValue("id"))
	if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	p := deliveryPage{Delivery: d}
	if d.Status == otw.DeliveryPending {
		wh, err := u.svc.GetWebhook(r.Context(), s.Org)
		if err != nil {
			u.fail(w, r, &s, err)
			return
		}
		p.SwitchedOff = !wh.Enabled
	}
	p.CanRetry = p.canRetry()
	var pretty bytes.Buffer
	if json.Indent(&pretty, d.Payload, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(d.Payload)
	}
	p.Payload = pretty.String()
	u.render(w, r, http.StatusOK, "delivery", &view{Title: "Delivery " + d.ID, Nav: "deliveries", Session: &s,
		Notice: notice(r), Data: p})
}
