package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/service"
)

type organizationJSON struct {
	OrganizationID int64     `json:"organizationID"`
	Name           string    `json:"name"`
	CreatedAt      time.Time `json:"createdAt"`
	APIKeyID       string    `json:"apiKeyID"`
	APIKey         string    `json:"apiKey"`
}

// organizationListedJSON is one organization of the list: no key, which
// is shown only when it is made.
type organizationListedJSON struct {
	OrganizationID int64     `json:"organizationID"`
	Name           string    `json:"name"`
	CreatedAt      time.Time `json:"createdAt"`
}

func toOrganizationJSON(o otw.Organization) organizationListedJSON {
	return organizationListedJSON{OrganizationID: o.ID, Name: o.Name, CreatedAt: o.CreatedAt}
}

type apiKeyJSON struct {
	ID         string     `json:"id"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
	RevokedAt  *time.Time `json:"revokedAt"`
}

// adminOrg reads the {org} of an admin route; an ID that cannot be one
// is an organization that does not exist.
func adminOrg(r *http.Request) (int64, error) {
	org, err := strconv.ParseInt(r.PathValue("org"), 10, 64)
	if err != nil {
		return 0, otw.Errorf(otw.ENOTFOUND, "no organization %q", r.PathValue("org"))
	}
	return org, nil
}

func (s *Server) createOrganization(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r, maxSmallBody, "a JSON object")
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	id, name, err := service.ParseNewOrganization(body)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	org, k, err := s.svc.CreateOrganization(r.Context(), id, name)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, organizationJSON{OrganizationID: org.ID, Name: org.Name, CreatedAt: org.CreatedAt,
		APIKeyID: k.ID, APIKey: k.Key})
}

// listOrganizations is the admin's list of every organization, in ID
// order, paged.
func (s *Server) listOrganizations(w http.ResponseWriter, r *http.Request) {
	p, err := service.ParsePageParams(r.URL.Query())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	page, next, err := s.svc.ListOrganizations(r.Context(), p)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := make([]organizationListedJSON, len(page))
	for i, o := range page {
		out[i] = toOrganizationJSON(o)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out, "nextCursor": cursorJSON(next)})
}

func (s *Server) getOrganization(w http.ResponseWriter, r *http.Request) {
	org, err := adminOrg(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	o, err := s.svc.GetOrganization(r.Context(), org)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, toOrganizationJSON(o))
}

// patchOrganization renames an organization.
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
	name, err := service.ParseRename(body)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	o, err := s.svc.RenameOrganization(r.Context(), org, name)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, toOrganizationJSON(o))
}

// deleteOrganization removes the organization and everything of it; its
// keys stop working at once.
func (s *Server) deleteOrganization(w http.ResponseWriter, r *http.Request) {
	org, err := adminOrg(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if err := s.svc.DeleteOrganization(r.Context(), org); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) {
	org, err := adminOrg(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	k, err := s.svc.CreateAPIKey(r.Context(), org)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": k.ID, "apiKey": k.Key, "createdAt": k.CreatedAt})
}

// listAPIKeys shows an organization's keys by ID and prefix: never the
// key, which is shown once, when it is made.
func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	org, err := adminOrg(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	keys, err := s.svc.ListAPIKeys(r.Context(), org)
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

func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	org, err := adminOrg(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if err := s.svc.RevokeAPIKey(r.Context(), org, r.PathValue("id")); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
