package webhook

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sigPrefix names the scheme of one signature: symmetric HMAC-SHA256.
const sigPrefix = "v1,"

// b64MACLen is the length of a base64 HMAC-SHA256: 32 bytes, padded.
var b64MACLen = base64.StdEncoding.EncodedLen(sha256.Size)

// Signer signs with one or more keys: during a secret rotation, the current
// and the previous one, so a receiver that still holds the old secret keeps
// verifying. It is safe for concurrent use; keep one per set of keys, since
// its pooled HMAC states are what make Sign cheap.
type Signer struct {
	keys []signKey
}

// signKey is one key of a Signer: an HMAC secret (v1) or an Ed25519
// private key (v1a).
type signKey struct {
	mac *key
	ed  ed25519.PrivateKey
}

// key holds the HMAC states of one secret. hmac.New costs several
// allocations and two block hashes of the padded key; a pooled state that is
// Reset costs neither.
type key struct {
	pool sync.Pool // of *mac
}

// maxPooledBuf bounds the scratch buffer a pooled state keeps, so one
// unusually long id does not pin memory for the life of the pool.
const maxPooledBuf = 1024

// mac is one HMAC state and a scratch buffer for the signed prefix and the
// sum, so that signing allocates nothing but its result.
type mac struct {
	h   hash.Hash
	buf []byte
}

func newKey(k []byte) *key {
	// Copy the key: the caller may reuse its slice, and the pool's New runs
	// later, at any time.
	k = append([]byte(nil), k...)
	return &key{pool: sync.Pool{New: func() any {
		return &mac{h: hmac.New(sha256.New, k), buf: make([]byte, 0, 128)}
	}}}
}

// NewSigner returns a Signer for the given keys (from DecodeSecret), the
// current key first. It panics with no key or an empty one: signing with
// nothing would send requests no receiver can verify.
func NewSigner(keys ...[]byte) *Signer {
	if len(keys) == 0 {
		panic("webhook: NewSigner needs at least one key")
	}
	s := &Signer{keys: make([]signKey, len(keys))}
	for i, k := range keys {
		if len(k) == 0 {
			panic("webhook: NewSigner given an empty key")
		}
		s.keys[i] = signKey{mac: newKey(k)}
	}
	return s
}

// NewSignerFromSecrets returns a Signer for secrets as they are written,
// the current first: an HMAC secret ("whsec_…") signs v1, an Ed25519
// signing key ("whsk_…") signs v1a. The two kinds may be mixed, as they
// are while a webhook switches from one scheme to the other.
func NewSignerFromSecrets(secrets ...string) (*Signer, error) {
	if len(secrets) == 0 {
		return nil, errors.New("webhook: a Signer needs at least one secret")
	}
	s := &Signer{keys: make([]signKey, len(secrets))}
	for i, secret := range secrets {
		if strings.HasPrefix(secret, SigningKeyPrefix) {
			priv, err := decodeSigningKey(secret)
			if err != nil {
				return nil, err
			}
			s.keys[i] = signKey{ed: priv}
			continue
		}
		k, err := DecodeSecret(secret)
		if err != nil {
			return nil, err
		}
		if len(k) == 0 {
			return nil, errors.New("webhook: secret is empty: " + secretForm)
		}
		s.keys[i] = signKey{mac: newKey(k)}
	}
	return s, nil
}

// Sign returns the webhook-signature header value for a message: "v1,<b64>"
// for each HMAC key and "v1a,<b64>" for each Ed25519 key, space separated,
// the current key first.
func (s *Signer) Sign(id string, ts time.Time, body []byte) string {
	unix := ts.Unix()
	var b strings.Builder
	b.Grow(len(s.keys)*(len(sigPrefixEd)+b64EdSigLen+1) - 1)
	var sig [44]byte // b64MACLen, as a constant array length
	var content []byte
	for i, k := range s.keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		if k.ed != nil {
			if content == nil {
				content = signedContent(id, unix, body)
			}
			b.WriteString(sigPrefixEd)
			b.WriteString(base64.StdEncoding.EncodeToString(ed25519.Sign(k.ed, content)))
			continue
		}
		b.WriteString(sigPrefix)
		b.Write(k.mac.sign(sig[:0], id, unix, body))
	}
	return b.String()
}

// sign appends to dst the base64 HMAC-SHA256 of id.unix.body.
func (k *key) sign(dst []byte, id string, unix int64, body []byte) []byte {
	m := k.pool.Get().(*mac)
	m.h.Reset()
	// The id and timestamp go through the scratch buffer: converting id to
	// []byte for the hash.Hash interface would allocate.
	p := append(m.buf[:0], id...)
	p = append(p, '.')
	p = strconv.AppendInt(p, unix, 10)
	p = append(p, '.')
	m.h.Write(p)
	m.h.Write(body)
	sum := m.h.Sum(p[:0])
	dst = base64.StdEncoding.AppendEncode(dst, sum)
	if cap(sum) <= maxPooledBuf {
		m.buf = sum[:0] // keep the buffer if the id made it grow
	}
	k.pool.Put(m)
	return dst
}
