package ui

import "net/http"

// notices are the one-line confirmations shown after a redirect. The query
// carries only a code, so no text of a link can be injected into a page.
var notices = map[string]string{
	"saved":        "Webhook saved.",
	"renamed":      "Organization renamed.",
	"deleted":      "Organization deleted, with everything of it.",
	"retried":      "Retry queued: the delivery is being sent again now.",
	"bulk-retried": "Retry queued: the failed deliveries of this view are being sent again now, each message's and case's in order.",
	"test-sent":    "Test event sent. It appears here as soon as the receiver answers.",
	"test-none":    "Test event accepted, but not delivered: the webhook is switched off, does not subscribe to that event type, or its filters do not take the type's example.",
}

func notice(r *http.Request) string { return notices[r.URL.Query().Get("notice")] }
