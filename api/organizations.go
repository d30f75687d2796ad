package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	otw "github.com/onetalk/onetalk-webhooks"
)

// maxSmallBody bounds the bodies of every route but publishing.
const maxSmallBody = 64 << 10

type organizationJSON struct {
	OrganizationID int64     `json:"organizationID"`
	Name           string    `json:"name"`
	CreatedAt      time.Time `json:"createdAt"`
	APIKeyID       string    `json:"apiKeyID"`
	APIKey         string    `json:"apiKey"`
}

func (s *Server) createOrganization(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r, maxSmallBody, "a JSON object")
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var c checker
	m, err := c.fields(body, "organizationID", "name")
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var id int64
	var name string
	var raw json.RawMessage
	if c.decode(m, "organizationID", "an integer", &raw) {
		n, perr := strconv.ParseInt(string(raw), 10, 64)
		if perr != nil || n < 1 || n > otw.MaxOrganizationID {
			c.fail("organizationID", "%s", otw.OrganizationIDRule)
		}
		id = n
	}
	if c.decode(m, "name", "a string", &name) {
		name = strings.TrimSpace(name)
		if name == "" || utf8.RuneCountInString(name) > 200 {
			c.fail("name", "must be 1 to 200 characters")
		}
	}
	if err := c.err(); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	now := s.now().UTC()
	key, hash := NewAPIKey()
	org := otw.Organization{ID: id, Name: name, CreatedAt: now}
	k := otw.APIKey{ID: otw.NewID("key_", now), OrganizationID: id, Hash: hash, CreatedAt: now}
	if err := s.store.CreateOrganization(r.Context(), org, k); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, organizationJSON{OrganizationID: id, Name: name, CreatedAt: now, APIKeyID: k.ID, APIKey: key})
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) {
	org, err := strconv.ParseInt(r.PathValue("org"), 10, 64)
	if err != nil {
		writeError(w, r, s.log, otw.Errorf(otw.ENOTFOUND, "no organization %q", r.PathValue("org")))
		return
	}
	now := s.now().UTC()
	key, hash := NewAPIKey()
	k := otw.APIKey{ID: otw.NewID("key_", now), OrganizationID: org, Hash: hash, CreatedAt: now}
	if err := s.store.CreateAPIKey(r.Context(), k); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": k.ID, "apiKey": key, "createdAt": now})
}

func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	org, err := strconv.ParseInt(r.PathValue("org"), 10, 64)
	if err == nil {
		err = s.store.RevokeAPIKey(r.Context(), org, r.PathValue("id"), s.now())
	} else {
		err = otw.Errorf(otw.ENOTFOUND, "no organization %q", r.PathValue("org"))
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
