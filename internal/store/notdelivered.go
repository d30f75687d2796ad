package store

// The reasons an event is stored but not sent (Inserted.NotDelivered).
// They are part of the API's answers, so they are worded for a person.
const (
	NotDeliveredUnknownOrganization = "unknown organization"
	NotDeliveredNoWebhook           = "no webhook"
	NotDeliveredWebhookDisabled     = "webhook disabled"
	NotDeliveredNotSubscribed       = "not subscribed"
	// The webhook's filters for the type do not take the event.
	NotDeliveredFiltered = "filtered"
)
