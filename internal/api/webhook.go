package api

import (
	"net/http"
	"strings"
	"time"

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
	wh, err := s.svc.GetWebhook(r.Context(), org)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, toWebhookJSON(wh))
}

func (s *Server) putWebhook(w http.ResponseWriter, r *http.Request, org int64) {
	body, err := readBody(r, maxSmallBody, "a JSON object")
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	set, err := s.svc.ParseWebhookSettings(body)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	wh, err := s.svc.SaveWebhook(r.Context(), org, set)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, toWebhookJSON(wh))
}

func (s *Server) getSecret(w http.ResponseWriter, r *http.Request, org int64) {
	key, err := s.svc.RevealSecret(r.Context(), org)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeSecret(w, key)
}

func (s *Server) rotateSecret(w http.ResponseWriter, r *http.Request, org int64) {
	key, _, err := s.svc.RotateSecret(r.Context(), org)
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
