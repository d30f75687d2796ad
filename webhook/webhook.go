// Package webhook signs and verifies OneTalk webhooks and parses their
// payloads. It follows Standard Webhooks (https://www.standardwebhooks.com):
// every request carries a webhook-id, a webhook-timestamp in Unix seconds and
// a webhook-signature of "v1," plus the base64 HMAC-SHA256 of
// id.timestamp.body, or, for a webhook set to sign with Ed25519, "v1a," plus
// the base64 Ed25519 signature of the same, which a receiver verifies with
// the public key alone ("whpk_…"). The service signs with it; a receiver
// verifies with it.
//
// It uses the standard library only, so a receiver can import it alone.
package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"time"
)

// The Standard Webhooks request headers.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// DefaultTolerance is how far a request's timestamp may be from the
// receiver's clock: it bounds how long a captured request can be replayed.
const DefaultTolerance = 5 * time.Minute

// secretPrefix marks a signing secret so it is recognisable in a config file
// or a leak scanner, as Svix and Standard Webhooks do.
const secretPrefix = "whsec_"

// secretSize is 32 bytes, the size of a SHA-256 output: a longer HMAC key
// adds no strength.
const secretSize = 32

// NewSecret returns a new signing secret: "whsec_" and the standard, padded
// base64 of 32 random bytes. The error is always nil (crypto/rand cannot
// fail since Go 1.24); it stays for compatibility.
func NewSecret() (string, error) {
	var b [secretSize]byte
	rand.Read(b[:]) // never fails: since Go 1.24 a broken source crashes the program
	return secretPrefix + base64.StdEncoding.EncodeToString(b[:]), nil
}

// secretForm tells someone holding a bad secret what a good one looks like
// and where to find it.
const secretForm = "a secret starts with whsec_ followed by base64, as GET /v1/organizations/{org}/webhook/secret returns it"

// DecodeSecret returns the key bytes of a signing secret, given with or
// without its "whsec_" prefix.
func DecodeSecret(secret string) ([]byte, error) {
	s := strings.TrimPrefix(secret, secretPrefix)
	if s == "" {
		return nil, errors.New("webhook: secret is empty: " + secretForm)
	}
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		// The base64 error gives the offset only, never the secret itself.
		return nil, errors.New("webhook: secret is not valid (" + err.Error() + "): " + secretForm)
	}
	return key, nil
}
