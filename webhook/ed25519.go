package webhook

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// The asymmetric form of Standard Webhooks ("v1a"): the sender signs
// id.timestamp.body with an Ed25519 private key and the receiver verifies
// with the public key alone, so a receiver that must not hold a shared
// secret (one that could also forge requests) still verifies every one.
const (
	// SigningKeyPrefix marks an Ed25519 signing key: the sender's, never
	// given to a receiver.
	SigningKeyPrefix = "whsk_"
	// PublicKeyPrefix marks an Ed25519 public key: what a receiver holds.
	PublicKeyPrefix = "whpk_"
	// sigPrefixEd names the scheme of one asymmetric signature.
	sigPrefixEd = "v1a,"
)

// b64EdSigLen is the length of a base64 Ed25519 signature: 64 bytes, padded.
var b64EdSigLen = base64.StdEncoding.EncodedLen(ed25519.SignatureSize)

const signingKeyForm = "a signing key starts with whsk_ followed by the base64 of a 64-byte Ed25519 private key (or its 32-byte seed)"

const publicKeyForm = "a public key starts with whpk_ followed by the base64 of a 32-byte Ed25519 public key, as GET /v1/organizations/{org}/webhook/secret returns it"

// NewSigningKey returns a new Ed25519 signing key: "whsk_" and the standard,
// padded base64 of the 64-byte private key. The error is always nil
// (crypto/rand cannot fail since Go 1.24); it stays for compatibility.
func NewSigningKey() (string, error) {
	seed := make([]byte, ed25519.SeedSize)
	rand.Read(seed) // never fails: since Go 1.24 a broken source crashes the program
	return SigningKeyPrefix + base64.StdEncoding.EncodeToString(ed25519.NewKeyFromSeed(seed)), nil
}

// PublicKey returns the public key ("whpk_…") of a signing key ("whsk_…"):
// what to give receivers.
func PublicKey(signingKey string) (string, error) {
	priv, err := decodeSigningKey(signingKey)
	if err != nil {
		return "", err
	}
	return PublicKeyPrefix + base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)), nil
}

// decodeSigningKey reads "whsk_…" holding a 64-byte private key or a
// 32-byte seed. A 64-byte key whose second half is not the public key of
// its seed is refused: it would sign what no published key verifies.
func decodeSigningKey(s string) (ed25519.PrivateKey, error) {
	b64, ok := strings.CutPrefix(s, SigningKeyPrefix)
	if !ok || b64 == "" {
		return nil, errors.New("webhook: not a signing key: " + signingKeyForm)
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, errors.New("webhook: signing key is not valid (" + err.Error() + "): " + signingKeyForm)
	}
	switch len(b) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(b), nil
	case ed25519.PrivateKeySize:
		priv := ed25519.NewKeyFromSeed(b[:ed25519.SeedSize])
		if !priv.Equal(ed25519.PrivateKey(b)) {
			return nil, errors.New("webhook: signing key's public half does not match its seed: " + signingKeyForm)
		}
		return priv, nil
	}
	return nil, errors.New("webhook: signing key has " + strconv.Itoa(len(b)) + " bytes: " + signingKeyForm)
}

// decodePublicKey reads "whpk_…".
func decodePublicKey(s string) (ed25519.PublicKey, error) {
	b64, _ := strings.CutPrefix(s, PublicKeyPrefix)
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, errors.New("webhook: public key is not valid (" + err.Error() + "): " + publicKeyForm)
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, errors.New("webhook: public key has " + strconv.Itoa(len(b)) + " bytes: " + publicKeyForm)
	}
	return ed25519.PublicKey(b), nil
}

// signedContent is what both schemes sign: id.unix.body.
func signedContent(id string, unix int64, body []byte) []byte {
	p := make([]byte, 0, len(id)+22+len(body))
	p = append(p, id...)
	p = append(p, '.')
	p = strconv.AppendInt(p, unix, 10)
	p = append(p, '.')
	return append(p, body...)
}
