package ui

import (
	"encoding/json"
	"net/http"
	"strings"

	otw "github.com/onetalk/onetalk-webhooks"
)

// webhookForm is the "Set" form: what it shows and what was posted.
type webhookForm struct {
	Enabled bool
	URL     string
	Types   []typeRow
	// Errors holds the API's messages by field: url, subscribedEvents.
	Errors map[string]string
	New    bool // no webhook saved yet
}

// parseWebhookForm reads the posted form and builds the API's JSON body
// from it, so that api.ParseWebhookSettings judges the UI's input exactly
// as it judges a PUT, with the same messages. subscribedEvents is always
// an array: with no box ticked it is empty, which the API refuses with
// "choose a minimum of 1 event".
func parseWebhookForm(r *http.Request) (webhookForm, []byte) {
	_ = r.ParseForm()
	events := r.PostForm["subscribedEvents"]
	if events == nil {
		events = []string{}
	}
	f := webhookForm{
		Enabled: r.PostForm.Get("enabled") == "on",
		URL:     strings.TrimSpace(r.PostForm.Get("url")),
		Types:   typeRows(events),
	}
	body, _ := json.Marshal(map[string]any{"enabled": f.Enabled, "url": f.URL, "subscribedEvents": events})
	return f, body
}

func formFromWebhook(wh *otw.Webhook) webhookForm {
	if wh == nil {
		return webhookForm{Types: typeRows(nil), New: true}
	}
	return webhookForm{Enabled: wh.Enabled, URL: wh.URL, Types: typeRows(wh.SubscribedEvents)}
}
