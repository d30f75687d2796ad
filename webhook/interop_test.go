package webhook_test

// The official Standard Webhooks Go library as an independent check: what
// we sign, it verifies, and what it signs, we verify. It is a test-only
// dependency; receivers importing package webhook do not get it.

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/webhook"
)

// interopBodies are what the service sends (the examples, compacted) and
// bodies that trip a careless signer: empty, non-ASCII, and dots, the
// separator of id.timestamp.body.
func interopBodies(t *testing.T) map[string][]byte {
	t.Helper()
	bodies := map[string][]byte{
		"empty":     {},
		"non-ASCII": []byte(`{"agentRemark":"café ✓ 日本"}`),
		"dots":      []byte(`...{"a":"1.2.3"}...`),
	}
	for _, typ := range []string{event.TypeIntegrationMessageStatus, event.TypeCaseResolved} {
		b, err := event.Example(typ, 1111)
		if err != nil {
			t.Fatal(err)
		}
		bodies[typ] = b
	}
	return bodies
}

func headers(id string, ts time.Time, sig string) http.Header {
	h := http.Header{}
	h.Set(webhook.HeaderID, id)
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(webhook.HeaderSignature, sig)
	return h
}

func mustSecret(t *testing.T) (string, []byte) {
	t.Helper()
	s, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	k, err := webhook.DecodeSecret(s)
	if err != nil {
		t.Fatal(err)
	}
	return s, k
}

func TestOfficialLibraryVerifiesOurSignatures(t *testing.T) {
	secret, key := mustSecret(t)
	theirs, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatalf("the official library refuses our secret %q: %v", secret, err)
	}
	signer := webhook.NewSigner(key)
	now := time.Now()
	for name, body := range interopBodies(t) {
		id := "evt_01JABCDEFGHJKMNPQRSTVWXYZ0"
		if err := theirs.Verify(body, headers(id, now, signer.Sign(id, now, body))); err != nil {
			t.Errorf("%s: the official library refuses our signature: %v", name, err)
		}
		// And it is not a library that accepts anything.
		tampered := append([]byte("x"), body...)
		if err := theirs.Verify(tampered, headers(id, now, signer.Sign(id, now, body))); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
			t.Errorf("%s: the official library accepts a tampered body: %v", name, err)
		}
	}
}

// During a rotation the service signs with both secrets; a receiver holding
// either one verifies with the official library.
func TestOfficialLibraryVerifiesBothSignaturesOfARotation(t *testing.T) {
	newSecret, newKey := mustSecret(t)
	oldSecret, oldKey := mustSecret(t)
	now := time.Now()
	body, _ := event.Example(event.TypeCaseResolved, 7)
	sig := webhook.NewSigner(newKey, oldKey).Sign("evt_1", now, body)
	for _, s := range []string{newSecret, oldSecret} {
		theirs, _ := standardwebhooks.NewWebhook(s)
		if err := theirs.Verify(body, headers("evt_1", now, sig)); err != nil {
			t.Errorf("the official library refuses %q with one of its two secrets: %v", sig, err)
		}
	}
	other, _ := mustSecret(t)
	theirs, _ := standardwebhooks.NewWebhook(other)
	if err := theirs.Verify(body, headers("evt_1", now, sig)); err == nil {
		t.Error("the official library accepts a rotation signature with a third secret")
	}
}

func TestWeVerifyTheOfficialLibrarysSignatures(t *testing.T) {
	secret, key := mustSecret(t)
	theirs, _ := standardwebhooks.NewWebhook(secret)
	now := time.Now()
	for name, body := range interopBodies(t) {
		sig, err := theirs.Sign("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", now, body)
		if err != nil {
			t.Fatal(err)
		}
		h := headers("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", now, sig)
		if err := webhook.Verify(secret, h, body); err != nil {
			t.Errorf("%s: Verify refuses the official library's signature: %v", name, err)
		}
		// Same key, same message: the same header value, byte for byte.
		if ours := webhook.NewSigner(key).Sign("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", now, body); ours != sig {
			t.Errorf("%s: we sign %q, the official library %q", name, ours, sig)
		}
		if err := webhook.Verify(secret, h, append(body, ' ')); !errors.Is(err, webhook.ErrNoMatchingSignature) {
			t.Errorf("%s: Verify accepts a changed body: %v", name, err)
		}
	}
}

// The official library's own test secret: 24 bytes, no whsec_ prefix. Both
// sides read it the same way.
func TestSecretWithoutPrefixMeansTheSameKey(t *testing.T) {
	const secret = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	theirs, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	body := []byte(`{"type":"case_resolved"}`)
	sig, _ := theirs.Sign("evt_1", now, body)
	for _, s := range []string{secret, "whsec_" + secret} {
		if err := webhook.Verify(s, headers("evt_1", now, sig), body); err != nil {
			t.Errorf("Verify(%q) refuses the official library's signature: %v", s, err)
		}
	}
}

// Both sides refuse a timestamp outside five minutes, so a receiver that
// switches libraries gets no different replay window.
func TestTimestampToleranceAgrees(t *testing.T) {
	secret, key := mustSecret(t)
	theirs, _ := standardwebhooks.NewWebhook(secret)
	body := []byte(`{}`)
	for _, c := range []struct {
		age    time.Duration
		accept bool
	}{{4 * time.Minute, true}, {-4 * time.Minute, true}, {6 * time.Minute, false}, {-6 * time.Minute, false}} {
		ts := time.Now().Add(-c.age)
		h := headers("evt_1", ts, webhook.NewSigner(key).Sign("evt_1", ts, body))
		ourErr, theirErr := webhook.Verify(secret, h, body), theirs.Verify(body, h)
		if (ourErr == nil) != c.accept || (theirErr == nil) != c.accept {
			t.Errorf("timestamp %v old: Verify %v, official library %v; want accepted %v", c.age, ourErr, theirErr, c.accept)
		}
	}
}
