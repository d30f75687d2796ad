package delivery

import (
	"bytes"
	"encoding/base64"
	"sync"

	"github.com/onetalk/onetalk-webhooks/webhook"
)

// signerCache keeps one Signer per sealed secret pair: opening a secret
// and keying HMAC on every request would cost more than the signature.
type signerCache struct {
	open func([]byte) ([]byte, error)
	mu   sync.Mutex
	m    map[string]*webhook.Signer
}

// maxSigners bounds the cache; past it the cache starts over.
const maxSigners = 10000

func newSignerCache(open func([]byte) ([]byte, error)) *signerCache {
	return &signerCache{open: open, m: make(map[string]*webhook.Signer)}
}

// asWritten gives an opened secret its written form: one that is already
// "whsec_…" or "whsk_…" as it is, raw HMAC key bytes as "whsec_…". Each
// key names its own scheme, so during a switch of scheme the old key keeps
// signing in its own beside the new one.
func asWritten(key []byte) string {
	if bytes.HasPrefix(key, []byte(webhook.SigningKeyPrefix)) || bytes.HasPrefix(key, []byte("whsec_")) {
		return string(key)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(key)
}

func (c *signerCache) get(secret, previous []byte) (*webhook.Signer, error) {
	// The key is built on the stack and looked up without becoming a
	// string: only a miss, which stores it, allocates one.
	var scratch [256]byte
	k := append(append(append(scratch[:0], secret...), 0), previous...)
	c.mu.Lock()
	s, ok := c.m[string(k)]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	keys := make([]string, 0, 2)
	for _, sealed := range [][]byte{secret, previous} {
		if sealed == nil {
			continue
		}
		key, err := c.open(sealed)
		if err != nil {
			return nil, err
		}
		keys = append(keys, asWritten(key))
	}
	s, err := webhook.NewSignerFromSecrets(keys...)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) >= maxSigners {
		clear(c.m)
	}
	c.m[string(k)] = s
	c.mu.Unlock()
	return s, nil
}
