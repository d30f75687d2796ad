package client

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"time"
)

// The admin calls need the service's admin token. They are retried like
// publishes, but without an idempotency key, which the service does not
// take on them: a create whose answer was lost and that is retried may
// answer 409 (the organization was created, and its key is lost with the
// answer: make another with CreateAPIKey) or make a second key.

// APIKey is an organization's API key, shown only when it is made.
type APIKey struct {
	ID        string // "key_…": what RevokeAPIKey takes
	Key       string // "otk_…": the bearer token of the organization's routes
	CreatedAt time.Time
}

// CreateOrganization creates organization id (a positive integer, the
// platform's own) named name, and returns its first API key.
func (c *Client) CreateOrganization(ctx context.Context, id int64, name string) (APIKey, error) {
	body, err := json.Marshal(struct {
		OrganizationID int64  `json:"organizationID"`
		Name           string `json:"name"`
	}{id, name})
	if err != nil {
		return APIKey{}, err
	}
	var out struct {
		APIKeyID  string    `json:"apiKeyID"`
		APIKey    string    `json:"apiKey"`
		CreatedAt time.Time `json:"createdAt"`
	}
	if err := c.do(ctx, request{method: "POST", path: "/v1/organizations", body: body}, &out); err != nil {
		return APIKey{}, err
	}
	return APIKey{ID: out.APIKeyID, Key: out.APIKey, CreatedAt: out.CreatedAt}, nil
}

// CreateAPIKey makes another API key for organization org.
func (c *Client) CreateAPIKey(ctx context.Context, org int64) (APIKey, error) {
	var out struct {
		ID        string    `json:"id"`
		APIKey    string    `json:"apiKey"`
		CreatedAt time.Time `json:"createdAt"`
	}
	if err := c.do(ctx, request{method: "POST", path: orgPath(org) + "/api-keys"}, &out); err != nil {
		return APIKey{}, err
	}
	return APIKey{ID: out.ID, Key: out.APIKey, CreatedAt: out.CreatedAt}, nil
}

// RevokeAPIKey revokes organization org's key keyID (APIKey.ID): it is
// refused from then on.
func (c *Client) RevokeAPIKey(ctx context.Context, org int64, keyID string) error {
	return c.do(ctx, request{method: "DELETE", path: orgPath(org) + "/api-keys/" + url.PathEscape(keyID)}, nil)
}

func orgPath(org int64) string { return "/v1/organizations/" + strconv.FormatInt(org, 10) }
