package service

import (
	"strings"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/webhook"
)

// newKey makes a signing key of the scheme: an HMAC secret ("whsec_…")
// or an Ed25519 private key ("whsk_…"). Either is sealed as written, so
// the key itself tells a signer which scheme it signs in.
func newKey(signing string) (string, error) {
	if signing == otw.SigningEd25519 {
		return webhook.NewSigningKey()
	}
	return webhook.NewSecret()
}

// receiverKey is what a receiver verifies with, given an opened signing
// key: an HMAC secret as it is, for an Ed25519 key its public key
// ("whpk_…"). The Ed25519 private key is never shown: not holding it is
// the point of the scheme.
func receiverKey(opened []byte) (string, error) {
	k := string(opened)
	if strings.HasPrefix(k, webhook.SigningKeyPrefix) {
		pk, err := webhook.PublicKey(k)
		if err != nil {
			return "", otw.Errorf(otw.EINTERNAL, "the stored signing key is unreadable")
		}
		return pk, nil
	}
	return k, nil
}
