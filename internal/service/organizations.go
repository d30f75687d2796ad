package service

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// NewKey is an API key as it is made: the key itself is shown this once
// and never stored (its hash is).
type NewKey struct {
	otw.APIKey
	Key string
}

// ParsePageParams reads a list's paging query as the deliveries list
// reads it: limit (1 to 250, default 50) and cursor, the nextCursor of the
// page before.
func ParsePageParams(q url.Values) (store.PageParams, error) {
	p := store.PageParams{Limit: 50, Cursor: q.Get("cursor")}
	var c checker
	p.Limit = c.limit(q.Get("limit"), p.Limit)
	if _, err := store.ParseOrgCursor(p.Cursor); err != nil {
		c.fail("cursor", "not a cursor this API returned")
	}
	return p, c.err()
}

// ParseNewOrganization reads the body that creates an organization:
// {"organizationID": the platform's ID, "name": …}.
func ParseNewOrganization(body []byte) (id int64, name string, err error) {
	var c checker
	m, err := c.fields(body, "organizationID", "name")
	if err != nil {
		return 0, "", err
	}
	var raw json.RawMessage
	if c.decode(m, "organizationID", "an integer", &raw) {
		// A number that is no int64 (1.5, 1e3) is as wrong as one out of
		// range: 0 says so.
		id, _ = strconv.ParseInt(string(raw), 10, 64)
		c.organizationID(id)
	}
	if c.decode(m, "name", "a string", &name) {
		name = c.name(name)
	}
	return id, name, c.err()
}

// ParseRename reads the body that renames an organization, {"name": …}:
// its name is the one thing of it that can change (its ID is the
// platform's own).
func ParseRename(body []byte) (name string, err error) {
	var c checker
	m, err := c.fields(body, "name")
	if err != nil {
		return "", err
	}
	if c.decode(m, "name", "a string", &name) {
		name = c.name(name)
	}
	return name, c.err()
}

// organizationID checks the ID of a new organization.
func (c *checker) organizationID(id int64) {
	if id < 1 || id > otw.MaxOrganizationID {
		c.fail("organizationID", "%s", otw.OrganizationIDRule)
	}
}

// name checks an organization's name and returns it trimmed.
func (c *checker) name(name string) string {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 200 {
		c.fail("name", "must be 1 to 200 characters")
	}
	return name
}

// CreateOrganization makes the organization and its first API key, in one
// step: ECONFLICT when the ID is taken.
func (s *Service) CreateOrganization(ctx context.Context, id int64, name string) (otw.Organization, NewKey, error) {
	var c checker
	c.organizationID(id)
	name = c.name(name)
	if err := c.err(); err != nil {
		return otw.Organization{}, NewKey{}, err
	}
	k := s.newKey(id)
	org := otw.Organization{ID: id, Name: name, CreatedAt: k.CreatedAt}
	if err := s.store.CreateOrganization(ctx, org, k.APIKey); err != nil {
		return otw.Organization{}, NewKey{}, err
	}
	return org, k, nil
}

// newKey makes a key of org, stamped now.
func (s *Service) newKey(org int64) NewKey {
	now := s.now().UTC()
	key, hash := NewAPIKey()
	return NewKey{Key: key, APIKey: otw.APIKey{ID: otw.NewID("key_", now), OrganizationID: org, Hash: hash,
		Prefix: keyPrefix(key), CreatedAt: now}}
}

// keyPrefix is what of a new key is kept to tell it apart: its kind and
// a few characters, far too few to guess the rest.
func keyPrefix(key string) string { return key[:min(len(key), len(APIKeyPrefix)+6)] }

// ListOrganizations returns a page of every organization, in ID order,
// and the cursor of the next page ("" on the last one).
func (s *Service) ListOrganizations(ctx context.Context, p store.PageParams) ([]otw.Organization, string, error) {
	return s.store.ListOrganizations(ctx, p)
}

// GetOrganization returns one organization: ENOTFOUND when there is none.
func (s *Service) GetOrganization(ctx context.Context, id int64) (otw.Organization, error) {
	return s.store.GetOrganization(ctx, id)
}

// RenameOrganization gives the organization a new name, of 1 to 200
// characters (trimmed).
func (s *Service) RenameOrganization(ctx context.Context, id int64, name string) (otw.Organization, error) {
	var c checker
	name = c.name(name)
	if err := c.err(); err != nil {
		return otw.Organization{}, err
	}
	return s.store.RenameOrganization(ctx, id, name)
}

// DeleteOrganization removes the organization and everything of it; its
// keys stop working at once.
func (s *Service) DeleteOrganization(ctx context.Context, id int64) error {
	return s.store.DeleteOrganization(ctx, id)
}

// CreateAPIKey makes another key of org. The operations organization
// takes none: the admin token reads it.
func (s *Service) CreateAPIKey(ctx context.Context, org int64) (NewKey, error) {
	if org == otw.OpsOrganizationID {
		return NewKey{}, otw.Errorf(otw.EFORBIDDEN, "the operations organization takes no API keys: the admin token reads it")
	}
	k := s.newKey(org)
	if err := s.store.CreateAPIKey(ctx, k.APIKey); err != nil {
		return NewKey{}, err
	}
	return k, nil
}

// ListAPIKeys returns org's keys, oldest first, revoked ones included:
// their IDs and prefixes, never a key.
func (s *Service) ListAPIKeys(ctx context.Context, org int64) ([]otw.APIKey, error) {
	return s.store.ListAPIKeys(ctx, org)
}

// RevokeAPIKey stops one of org's keys working, at once.
func (s *Service) RevokeAPIKey(ctx context.Context, org int64, id string) error {
	return s.store.RevokeAPIKey(ctx, org, id, s.now())
}
