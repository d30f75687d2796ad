package delivery

import (
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

func (c *signerCache) get(secret, previous []byte) (*webhook.Signer, error) {
	k := string(secret) + "\x00" + string(previous)
	c.mu.Lock()
	s, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	keys := make([][]byte, 0, 2)
	for _, sealed := range [][]byte{secret, previous} {
		if sealed == nil {
			continue
		}
		key, err := c.open(sealed)
		if err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	s = webhook.NewSigner(keys...)
	c.mu.Lock()
	if len(c.m) >= maxSigners {
		clear(c.m)
	}
	c.m[k] = s
	c.mu.Unlock()
	return s, nil
}
