// Package otw holds the domain of onetalk-webhooks: organizations, their
// webhook, events, deliveries and attempts, and the error codes that every
// other package speaks. It imports nothing of ours or anyone's, so the
// storage drivers, the dispatcher and the HTTP layer can all depend on it.
package otw

import "time"

// Version is what the service says it is: in User-Agent and `version`.
var Version = "0.1.0"

// Organization is a tenant of the platform. Its ID is the platform's own
// organizationID, so events name it directly.
type Organization struct {
	ID        int64
	Name      string
	CreatedAt time.Time
}

// MaxOrganizationID is the largest organizationID taken: 2^53−1, the
// largest integer a JavaScript receiver (and any reader that keeps JSON
// numbers as doubles) reads exactly. A larger one would reach it as
// another organization's number.
const MaxOrganizationID = 1<<53 - 1

// OrganizationIDRule is how an invalid organizationID is refused, in the
// API's and the event validator's words alike.
const OrganizationIDRule = "must be an integer from 1 to 9007199254740991 (2^53−1, the largest that JavaScript reads exactly)"

// APIKey lets one organization call its own routes. Only the hash of the key
// is ever stored.
type APIKey struct {
	ID             string
	OrganizationID int64
	Hash           []byte
	// Prefix is the key's first characters, kept so that a person can
	// tell keys apart without the key ("" for keys made before it was).
	Prefix     string
	CreatedAt  time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
}
