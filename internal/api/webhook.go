package api

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/internal/netguard"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/webhook"
)

type webhookJSON struct {
	Enabled          bool        `json:"enabled"`
	URL              string      `json:"url"`
	SubscribedEvents []string    `json:"subscribedEvents"`
	State            string      `json:"state"`
	DisabledReason   string      `json:"disabledReason"`
	RateLimit        *int        `json:"rateLimit"` // null: no limit
	Signing          string      `json:"signing"`
	Filters          otw.Filters `json:"filters"` // {}: none
	UpdatedAt        time.Time   `json:"updatedAt"`
}

func toWebhookJSON(w otw.Webhook) webhookJSON {
	out := webhookJSON{Enabled: w.Enabled, URL: w.URL, SubscribedEvents: w.SubscribedEvents,
		State: w.State, DisabledReason: w.DisabledReason, Signing: otw.SigningOrDefault(w.Signing), Filters: w.Filters,
		UpdatedAt: w.UpdatedAt}
	if out.Filters == nil {
		out.Filters = otw.Filters{}
	}
	if w.RateLimit > 0 {
		out.RateLimit = &w.RateLimit
	}
	return out
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request, org int64) {
	wh, err := s.store.GetWebhook(r.Context(), org)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, toWebhookJSON(wh))
}

// ParseWebhookSettings validates a webhook body (the platform's settings
// page's rules): every bad field is named, nothing is saved.
func ParseWebhookSettings(body []byte, allowPrivate bool) (otw.WebhookSettings, error) {
	var set otw.WebhookSettings
	var c checker
	m, err := c.fields(body, "enabled", "url", "subscribedEvents", "rateLimit", "signing", "filters")
	if err != nil {
		return set, err
	}
	c.decode(m, "enabled", "true or false", &set.Enabled)
	if c.decode(m, "url", "a string", &set.URL) {
		if msg := netguard.CheckURL(set.URL, allowPrivate); msg != "" {
			c.fail("url", "%s", msg)
		}
	}
	var events []any
	if c.decode(m, "subscribedEvents", "an array of event types", &events) {
		seen := map[string]bool{}
		for i, v := range events {
			name, ok := v.(string)
			field := "subscribedEvents[" + strconv.Itoa(i) + "]"
			switch {
			case !ok:
				c.fail(field, "must be an event type name")
			case !event.Known(name):
				c.fail(field, "unknown event type %q; the types are %s", name, knownTypes())
			case !seen[name]:
				seen[name] = true
				set.SubscribedEvents = append(set.SubscribedEvents, name)
			}
		}
		if len(events) == 0 {
			c.fail("subscribedEvents", "choose a minimum of 1 event")
		}
	}
	set.RateLimit = parseRateLimit(&c, m["rateLimit"])
	set.Signing = parseSigning(&c, m["signing"])
	set.Filters = parseFilters(&c, m["filters"], set.SubscribedEvents)
	return set, c.err()
}

// parseSigning reads the optional signature scheme. Left out (or null) it
// is "": the webhook keeps its scheme (hmac-sha256 for a new one). Unlike
// the other settings it is not reset by a PUT that omits it: switching
// makes a new key, and a client that predates the field must not do that
// by saving the URL.
func parseSigning(c *checker, raw json.RawMessage) string {
	if raw == nil || string(raw) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || (s != otw.SigningHMAC && s != otw.SigningEd25519) {
		c.fail("signing", "must be %q or %q", otw.SigningHMAC, otw.SigningEd25519)
		return ""
	}
	return s
}

// knownTypes lists the event types, for a message refusing another.
func knownTypes() string {
	var names []string
	for _, t := range event.Types() {
		names = append(names, t.Name)
	}
	return strings.Join(names, ", ")
}

// parseRateLimit reads the optional rateLimit. A PUT replaces the
// settings, so leaving it out is the same as null: no limit. A whole
// number written as 5.0 is still 5 (JSON does not tell them apart).
func parseRateLimit(c *checker, raw json.RawMessage) int {
	if raw == nil || string(raw) == "null" {
		return 0
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || f != math.Trunc(f) || f < 1 || f > otw.MaxRateLimit {
		c.fail("rateLimit", "must be a whole number of deliveries per second from 1 to %d, or null for no limit", otw.MaxRateLimit)
		return 0
	}
	return int(f)
}

func (s *Server) putWebhook(w http.ResponseWriter, r *http.Request, org int64) {
	body, err := readBody(r, maxSmallBody, "a JSON object")
	var set otw.WebhookSettings
	if err == nil {
		set, err = ParseWebhookSettings(body, s.allowPrivate)
	}
	var wh otw.Webhook
	if err == nil {
		wh, err = s.SaveWebhook(r.Context(), org, set)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, toWebhookJSON(wh))
}

func (s *Server) getSecret(w http.ResponseWriter, r *http.Request, org int64) {
	wh, err := s.store.GetWebhook(r.Context(), org)
	var secret []byte
	if err == nil {
		secret, err = s.box.Open(wh.Secret)
	}
	var key string
	if err == nil {
		key, err = ReceiverKey(secret)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeSecret(w, key)
}

func (s *Server) rotateSecret(w http.ResponseWriter, r *http.Request, org int64) {
	key, _, err := s.RotateSecret(r.Context(), org)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeSecret(w, key)
}

// writeSecret answers with what a receiver verifies with: {"secret":
// "whsec_…"} or, for Ed25519, {"publicKey": "whpk_…"}. No cache may keep it.
func writeSecret(w http.ResponseWriter, key string) {
	field := "secret"
	if strings.HasPrefix(key, webhook.PublicKeyPrefix) {
		field = "publicKey"
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{field: key})
}
