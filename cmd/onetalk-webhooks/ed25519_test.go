package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/webhook"
)

// edVerify checks every v1a signature of a delivery with crypto/ed25519
// alone, from the public key as the API gives it: an independent check,
// not the webhook package's verifier. It returns how many verified and how
// many v1a signatures there were.
func edVerify(t *testing.T, publicKey string, r received) (ok, n int) {
	t.Helper()
	pub, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(publicKey, "whpk_"))
	if err != nil || len(pub) != ed25519.PublicKeySize {
		t.Fatalf("public key %q: %v", publicKey, err)
	}
	msg := r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "." + string(r.Body)
	for _, f := range strings.Fields(r.Header.Get("webhook-signature")) {
		b64, found := strings.CutPrefix(f, "v1a,")
		if !found {
			continue
		}
		n++
		if sig, err := base64.StdEncoding.DecodeString(b64); err == nil && ed25519.Verify(pub, []byte(msg), sig) {
			ok++
		}
	}
	return ok, n
}

// replay sends a delivery the service made, as it was, to url.
func replay(t *testing.T, url string, r received, body []byte) int {
	t.Helper()
	req, err := http.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"Content-Type", "webhook-id", "webhook-timestamp", "webhook-signature"} {
		req.Header.Set(h, r.Header.Get(h))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A webhook switched to Ed25519 on the real service: its deliveries carry
// v1a signatures that crypto/ed25519 verifies from the public key alone,
// beside the old HMAC one through the overlap; a rotation signs with both
// Ed25519 keys; `listen` given the public key takes a delivery and refuses
// it tampered or under another key.
func TestEd25519SignedDeliveries(t *testing.T) {
	s := sqliteDB.start(t, t.TempDir(), "--retry-schedule", "100ms")
	rc := newReceiver(t, nil)
	key := s.createOrg(601, rc.URL+"/hook")
	const org = "/v1/organizations/601"
	whsec := s.mustDo(200, "GET", org+"/webhook/secret", key, nil)["secret"].(string)
	settings := map[string]any{"enabled": true, "url": rc.URL + "/hook", "subscribedEvents": []string{"case_resolved"}}

	if r := s.do("PUT", org+"/webhook", key, map[string]any{"enabled": true, "url": rc.URL + "/hook",
		"subscribedEvents": []string{"case_resolved"}, "signing": "ed448"}); r.Status != 422 || !strings.Contains(string(r.Body), `"signing"`) {
		t.Fatalf("signing ed448: status %d, want 422 naming signing: %s", r.Status, r.Body)
	}
	settings["signing"] = "ed25519"
	if wh := s.mustDo(200, "PUT", org+"/webhook", key, settings); wh["signing"] != "ed25519" {
		t.Fatalf("after the switch signing = %v", wh["signing"])
	}
	got := s.mustDo(200, "GET", org+"/webhook/secret", key, nil)
	pk, _ := got["publicKey"].(string)
	if !strings.HasPrefix(pk, "whpk_") || got["secret"] != nil {
		t.Fatalf("GET secret of an Ed25519 webhook = %v, want only publicKey whpk_…", got)
	}
	// A save without signing keeps the scheme and the key.
	delete(settings, "signing")
	if wh := s.mustDo(200, "PUT", org+"/webhook", key, settings); wh["signing"] != "ed25519" {
		t.Fatalf("a save without signing made it %v", wh["signing"])
	}
	if again := s.mustDo(200, "GET", org+"/webhook/secret", key, nil)["publicKey"]; again != pk {
		t.Fatalf("a save without signing changed the key: %v, was %s", again, pk)
	}

	// Through the overlap the old HMAC secret signs beside the new key.
	s.mustDo(202, "POST", org+"/webhook/test", key, map[string]string{"eventType": "case_resolved"})
	first := rc.waitFor(t, 10*time.Second, "the first delivery", func(r []received) bool { return len(r) >= 1 })[0]
	if ok, n := edVerify(t, pk, first); ok != 1 || n != 1 {
		t.Fatalf("first delivery: %d of %d v1a signatures verify, want 1 of 1: %q", ok, n, first.Header.Get("webhook-signature"))
	}
	if err := webhook.Verify(whsec, first.Header, first.Body); err != nil {
		t.Fatalf("the old HMAC secret during the overlap: %v", err)
	}

	// listen with the public key takes it; tampered, or under another key,
	// it is refused.
	listenURL, _, _ := startListen(t, pk)
	if code := replay(t, listenURL, first, first.Body); code/100 != 2 {
		t.Fatalf("listen --secret whpk_… answered %d to the delivery", code)
	}
	tampered := bytes.Replace(first.Body, []byte(`"case_resolved"`), []byte(`"case_resolvex"`), 1)
	if bytes.Equal(tampered, first.Body) {
		t.Fatal("the body was not tampered")
	}
	if code := replay(t, listenURL, first, tampered); code != 401 {
		t.Fatalf("listen answered %d to a tampered body, want 401", code)
	}
	other, err := webhook.NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	otherPK, err := webhook.PublicKey(other)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := edVerify(t, otherPK, first); ok != 0 {
		t.Fatal("another public key verifies the delivery")
	}
	otherURL, _, _ := startListen(t, otherPK)
	if code := replay(t, otherURL, first, first.Body); code != 401 {
		t.Fatalf("listen with another public key answered %d, want 401", code)
	}

	// A rotation: the new Ed25519 key signs first, the old one beside it.
	rot := s.mustDo(200, "POST", org+"/webhook/secret/rotate", key, nil)
	pk2, _ := rot["publicKey"].(string)
	if !strings.HasPrefix(pk2, "whpk_") || pk2 == pk || rot["secret"] != nil {
		t.Fatalf("rotate = %v, want a new publicKey only", rot)
	}
	s.mustDo(202, "POST", org+"/webhook/test", key, map[string]string{"eventType": "case_resolved"})
	second := rc.waitFor(t, 10*time.Second, "the second delivery", func(r []received) bool { return len(r) >= 2 })[1]
	sig := second.Header.Get("webhook-signature")
	if f := strings.Fields(sig); len(f) != 2 || !strings.HasPrefix(f[0], "v1a,") || !strings.HasPrefix(f[1], "v1a,") {
		t.Fatalf("after the rotation the header is %q, want two v1a signatures", sig)
	}
	for _, k := range []string{pk, pk2} {
		if ok, n := edVerify(t, k, second); ok != 1 || n != 2 {
			t.Fatalf("after the rotation %d of %d signatures verify with %s, want 1 of 2", ok, n, k)
		}
	}
}
