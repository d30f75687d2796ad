package ui

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// webhookForm is the "Set" form: what it shows and what was posted.
type webhookForm struct {
	Enabled bool
	URL     string
	// RateLimit is the field as typed: "" is no limit.
	RateLimit string
	// Signing is the scheme chosen: otw.SigningHMAC or otw.SigningEd25519.
	Signing string
	Types   []typeRow
	Filters []filterGroup
	// Errors holds the service's messages by field: url, subscribedEvents,
	// rateLimit, signing, filters and filters.<type>[.<path>].
	Errors map[string]string
	New    bool // no webhook saved yet
}

// parseWebhookForm reads the posted form and builds the API's JSON body
// from it, so that service.Service.ParseWebhookSettings judges the UI's
// input exactly as it judges a PUT, with the same messages.
// subscribedEvents is always an array: with no box ticked it is empty,
// which is refused with "choose a minimum of 1 event". An empty rate limit
// is left out (no limit); anything typed that is not an integer goes as a
// string, which is refused with the rate limit's own message.
func parseWebhookForm(r *http.Request) (webhookForm, []byte) {
	_ = r.ParseForm()
	events := r.PostForm["subscribedEvents"]
	if events == nil {
		events = []string{}
	}
	f := webhookForm{
		Enabled:   r.PostForm.Get("enabled") == "on",
		URL:       strings.TrimSpace(r.PostForm.Get("url")),
		RateLimit: strings.TrimSpace(r.PostForm.Get("rateLimit")),
		Signing:   r.PostForm.Get("signing"),
		Types:     typeRows(events),
	}
	m := map[string]any{"enabled": f.Enabled, "url": f.URL, "subscribedEvents": events}
	// The form always posts a scheme; a post without one (an old page)
	// keeps the webhook's, as the API does.
	if f.Signing != "" {
		m["signing"] = f.Signing
	}
	var filters map[string]map[string][]string
	if f.Filters, filters = parseFilterForm(r.PostForm); filters != nil {
		m["filters"] = filters
	}
	if f.RateLimit != "" {
		m["rateLimit"] = f.RateLimit
		if n, err := strconv.ParseInt(f.RateLimit, 10, 64); err == nil {
			m["rateLimit"] = n
		}
	}
	body, _ := json.Marshal(m)
	return f, body
}

func formFromWebhook(wh *otw.Webhook) webhookForm {
	if wh == nil {
		return webhookForm{Types: typeRows(nil), Filters: savedFilterGroups(nil), New: true, Signing: otw.SigningHMAC}
	}
	f := webhookForm{Enabled: wh.Enabled, URL: wh.URL, Types: typeRows(wh.SubscribedEvents), Filters: savedFilterGroups(wh.Filters),
		Signing: otw.SigningOrDefault(wh.Signing)}
	if wh.RateLimit > 0 {
		f.RateLimit = strconv.Itoa(wh.RateLimit)
	}
	return f
}
