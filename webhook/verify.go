package webhook

import (
	"crypto/ed25519"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Verification errors. Verify wraps them with the header at fault; test with
// errors.Is.
var (
	ErrMissingHeaders      = errors.New("webhook: missing signature headers")
	ErrInvalidHeaders      = errors.New("webhook: invalid signature headers")
	ErrTimestampTooOld     = errors.New("webhook: timestamp too old")
	ErrTimestampTooNew     = errors.New("webhook: timestamp too new")
	ErrNoMatchingSignature = errors.New("webhook: no matching signature")
)

// Verify checks a request's Standard Webhooks headers and body against the
// secret ("whsec_…") or the public key ("whpk_…"): the timestamp is within
// DefaultTolerance of now and one of the v1 signatures (with a secret) or
// v1a signatures (with a public key) matches.
func Verify(secret string, header http.Header, body []byte) error {
	v, err := NewVerifier(secret)
	if err != nil {
		return err
	}
	return v.Verify(header, body)
}

// Verifier verifies requests signed with one secret or one Ed25519 key.
// Build it once with NewVerifier; it is safe for concurrent use.
type Verifier struct {
	// Tolerance is how far the timestamp may be from Now, either way; zero
	// or less means DefaultTolerance.
	Tolerance time.Duration
	// Now is the clock; nil means time.Now. Tests set it.
	Now func() time.Time

	key *key              // HMAC, v1
	pub ed25519.PublicKey // Ed25519, v1a
}

// NewVerifier returns a Verifier, with DefaultTolerance, for an HMAC
// secret ("whsec_…", checks v1 signatures) or an Ed25519 public key
// ("whpk_…", checks v1a signatures).
func NewVerifier(secret string) (*Verifier, error) {
	switch {
	case strings.HasPrefix(secret, PublicKeyPrefix):
		pub, err := decodePublicKey(secret)
		if err != nil {
			return nil, err
		}
		return &Verifier{Tolerance: DefaultTolerance, Now: time.Now, pub: pub}, nil
	case strings.HasPrefix(secret, SigningKeyPrefix):
		// The signing key is the sender's alone: a receiver holding it could
		// sign requests, which is what the public key spares it.
		return nil, errors.New("webhook: a signing key (whsk_…) signs; verify with its public key: " + publicKeyForm)
	}
	k, err := DecodeSecret(secret)
	if err != nil {
		return nil, err
	}
	return &Verifier{Tolerance: DefaultTolerance, Now: time.Now, key: newKey(k)}, nil
}

// Verify checks the request's headers and body.
func (v *Verifier) Verify(header http.Header, body []byte) error {
	id, tsText, sigs := get(header, HeaderID), get(header, HeaderTimestamp), get(header, HeaderSignature)
	var missing []string
	for _, h := range [...][2]string{{HeaderID, id}, {HeaderTimestamp, tsText}, {HeaderSignature, sigs}} {
		if h[1] == "" {
			missing = append(missing, h[0])
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", ErrMissingHeaders, strings.Join(missing, ", "))
	}
	unix, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s %q is not Unix seconds", ErrInvalidHeaders, HeaderTimestamp, tsText)
	}
	if err := v.checkTime(unix); err != nil {
		return err
	}

	if v.pub != nil {
		return v.verifyEd(id, unix, sigs, body)
	}
	var buf [44]byte
	want := v.key.sign(buf[:0], id, unix, body)
	found := false
	for _, sig := range strings.Fields(sigs) {
		// Other schemes (v1a asymmetric, future versions) may sit beside v1:
		// a receiver skips what it does not know, as the standard says.
		b64, ok := strings.CutPrefix(sig, sigPrefix)
		if !ok {
			continue
		}
		found = true
		if subtle.ConstantTimeCompare([]byte(b64), want) == 1 {
			return nil
		}
	}
	if !found {
		return fmt.Errorf("%w: %s holds no v1 signature", ErrInvalidHeaders, HeaderSignature)
	}
	return ErrNoMatchingSignature
}

// verifyEd looks for a v1a signature that the public key verifies.
func (v *Verifier) verifyEd(id string, unix int64, sigs string, body []byte) error {
	var content []byte
	found := false
	for _, sig := range strings.Fields(sigs) {
		// v1 signatures (HMAC) sit beside v1a while a webhook switches
		// schemes: skipped, as any scheme a receiver does not hold a key for.
		b64, ok := strings.CutPrefix(sig, sigPrefixEd)
		if !ok {
			continue
		}
		found = true
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) != ed25519.SignatureSize {
			continue
		}
		if content == nil {
			content = signedContent(id, unix, body)
		}
		if ed25519.Verify(v.pub, content, raw) {
			return nil
		}
	}
	if !found {
		return fmt.Errorf("%w: %s holds no v1a signature", ErrInvalidHeaders, HeaderSignature)
	}
	return ErrNoMatchingSignature
}

func (v *Verifier) checkTime(unix int64) error {
	tol := v.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	// Compare in whole seconds against bounds around now: a timestamp near
	// the int64 range would overflow a difference or a time.Duration.
	n, limit := now().Unix(), int64(tol/time.Second)
	switch {
	case unix < n-limit:
		return fmt.Errorf("%w: %s %d is more than %v before now", ErrTimestampTooOld, HeaderTimestamp, unix, tol)
	case unix > n+limit:
		return fmt.Errorf("%w: %s %d is more than %v after now", ErrTimestampTooNew, HeaderTimestamp, unix, tol)
	}
	return nil
}

// get reads a header by its canonical name and, failing that, by its
// lower-case name: receivers behind other frameworks often build the map
// by hand.
func get(h http.Header, name string) string {
	if v := h.Get(name); v != "" {
		return v
	}
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}
