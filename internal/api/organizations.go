package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
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
	k := otw.APIKey{ID: otw.NewID("key_", now), OrganizationID: id, Hash: hash, Prefix: keyPrefix(key), CreatedAt: now}
	if err := s.store.CreateOrganization(r.Context(), org, k); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, organizationJSON{OrganizationID: id, Name: name, CreatedAt: now, APIKeyID: k.ID, APIKey: key})
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) {
	org, err := adminOrg(r)
	if err == nil && org == otw.OpsOrganizationID {
		err = otw.Errorf(otw.EFORBIDDEN, "the operations organization takes no API keys: the admin token reads it")
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	now := s.now().UTC()
	key, hash := NewAPIKey()
	k := otw.APIKey{ID: otw.NewID("key_", now), OrganizationID: org, Hash: hash, Prefix: keyPrefix(key), CreatedAt: now}
	if err := s.store.CreateAPIKey(r.Context(), k); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": k.ID, "apiKey": key, "createdAt": now})
}

func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	org, err := adminOrg(r)
	if err == nil {
		err = s.store.RevokeAPIKey(r.Context(), org, r.PathValue("id"), s.now())
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// organizationListedJSON is one organization of the list: no key, which
// is shown only when it is made.
type organizationListedJSON struct {
	OrganizationID int64     `json:"organizationID"`
	Name           string    `json:"name"`
	CreatedAt      time.Time `json:"createdAt"`
}

// ParsePageParams reads a list's paging query as the deliveries list
// reads it: limit (1 to 250, default 50) and cursor, the nextCursor of the
// page before.
func ParsePageParams(r *http.Request) (store.PageParams, error) {
	q := r.URL.Query()
	p := store.PageParams{Limit: 50, Cursor: q.Get("cursor")}
	var c checker
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 250 {
			c.fail("limit", "must be an integer from 1 to 250")
		}
		p.Limit = n
	}
	if _, err := store.ParseOrgCursor(p.Cursor); err != nil {
		c.fail("cursor", "not a cursor this API returned")
	}
	return p, c.err()
}

// listOrganizations is the admin's list of every organization, in ID
// order, paged.
func (s *Server) listOrganizations(w http.ResponseWriter, r *http.Request) {
	p, err := ParsePageParams(r)
	var page []otw.Organization
	var next string
	if err == nil {
		page, next, err = s.store.ListOrganizations(r.Context(), p)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := make([]organizationListedJSON, len(page))
	for i, o := range page {
		out[i] = organizationListedJSON{OrganizationID: o.ID, Name: o.Name, CreatedAt: o.CreatedAt}
	}
	var nextCursor *string
	if next != "" {
		nextCursor = &next
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out, "nextCursor": nextCursor})
}
