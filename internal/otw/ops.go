package otw

import (
	"encoding/json"
	"strconv"
	"time"
)

// OpsOrganizationID is the platform's own organization, which receives
// the operational events when an ops webhook is configured. Organizations'
// IDs are 1..MaxOrganizationID, so 0 never collides with one.
const OpsOrganizationID = 0

// Operational event types: what the service tells the platform about its
// organizations' webhooks. The service builds them; the platform cannot
// publish them.
const (
	EventWebhookDisabled   = "webhook.disabled"
	EventDeliveryExhausted = "delivery.exhausted"
	EventWebhookRecovered  = "webhook.recovered"
)

// OpsEventTypes is what the ops webhook subscribes to: a fresh slice on
// each call, so that no caller changes another's.
func OpsEventTypes() []string {
	return []string{EventWebhookDisabled, EventDeliveryExhausted, EventWebhookRecovered}
}

// Disable reasons in a webhook.disabled event.
const (
	OpsReasonGone    = "410"
	OpsReasonFailing = "failing"
)

// OpsEvent is the body of an operational event; fields a type does not
// use are left out.
type OpsEvent struct {
	Type           string    `json:"type"`
	Timestamp      time.Time `json:"timestamp"`
	OrganizationID int64     `json:"organizationID"`
	Reason         string    `json:"reason,omitempty"`
	Message        string    `json:"message,omitempty"`
	DeliveryID     string    `json:"deliveryID,omitempty"`
	EventID        string    `json:"eventID,omitempty"`
	LastError      string    `json:"lastError,omitempty"`
}

// NewOpsEvent makes the event to store for the ops organization. key is
// its idempotency key, derived from what caused it, so that emitting it
// again (a retried write) stores it once.
func NewOpsEvent(body OpsEvent, key string, now time.Time) Event {
	body.Timestamp = now.UTC()
	b, _ := json.Marshal(body) // plain fields: cannot fail
	return Event{
		ID: NewID("evt_", now), OrganizationID: OpsOrganizationID, Type: body.Type,
		Body: b, CreatedAt: now, IdempotencyKey: body.Type + ":" + strconv.FormatInt(body.OrganizationID, 10) + ":" + key,
	}
}
