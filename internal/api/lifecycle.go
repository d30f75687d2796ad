package api

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// adminOrg reads the {org} of an admin route; an ID that cannot be one
// is an organization that does not exist.
func adminOrg(r *http.Request) (int64, error) {
	org, err := strconv.ParseInt(r.PathValue("org"), 10, 64)
	if err != nil {
		return 0, otw.Errorf(otw.ENOTFOUND, "no organization %q", r.PathValue("org"))
	}
	return org, nil
}

func (s *Server) getOrganization(w http.ResponseWriter, r *http.Request) {
	org, err := adminOrg(r)
	var o otw.Organization
	if err == nil {
		o, err = s.store.GetOrganization(r.Context(), org)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, organizationListedJSON{OrganizationID: o.ID, Name: o.Name, CreatedAt: o.CreatedAt})
}

// patchOrganization renames an organization: name is the one field that
// can change (its ID is the platform's own).
func (s *Server) patchOrganization(w http.ResponseWriter, r *http.Request) {
	org, err := adminOrg(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	body, err := readBody(r, maxSmallBody, "a JSON object")
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var c checker
	m, err := c.fields(body, "name")
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var name string
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
	o, err := s.store.RenameOrganization(r.Context(), org, name)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, organizationListedJSON{OrganizationID: o.ID, Name: o.Name, CreatedAt: o.CreatedAt})
}

// deleteOrganization removes the organization and everything of it; its
// keys stop working at once.
func (s *Server) deleteOrganization(w http.ResponseWriter, r *http.Request) {
	org, err := adminOrg(r)
	if err == nil {
		err = s.store.DeleteOrganization(r.Context(), org)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type apiKeyJSON struct {
	ID         string     `json:"id"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
	RevokedAt  *time.Time `json:"revokedAt"`
}

// listAPIKeys shows an organization's keys by ID and prefix: never the
// key, which is shown once, when it is made.
func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	org, err := adminOrg(r)
	var keys []otw.APIKey
	if err == nil {
		keys, err = s.store.ListAPIKeys(r.Context(), org)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := make([]apiKeyJSON, len(keys))
	for i, k := range keys {
		out[i] = apiKeyJSON{ID: k.ID, Prefix: k.Prefix, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

// keyPrefix is what of a new key is kept to tell it apart: its kind and
// a few characters, far too few to guess the rest.
func keyPrefix(key string) string { return key[:min(len(key), len(APIKeyPrefix)+6)] }

// keyUses records keys' last use at most every touchEvery per key, so
// that authenticating does not write on every request.
type keyUses struct {
	mu   sync.Mutex
	last map[string]time.Time
}

const touchEvery = 5 * time.Minute

// due reports whether the key's use at now should be written.
func (u *keyUses) due(id string, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.last == nil || len(u.last) > 100000 {
		u.last = make(map[string]time.Time)
	}
	if t, ok := u.last[id]; ok && now.Sub(t) < touchEvery {
		return false
	}
	u.last[id] = now
	return true
}
