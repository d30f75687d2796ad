package webhook

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func mustSigningKey(t *testing.T) (signingKey, publicKey string) {
	t.Helper()
	sk, err := NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	pk, err := PublicKey(sk)
	if err != nil {
		t.Fatal(err)
	}
	return sk, pk
}

func mustSignerFromSecrets(t *testing.T, secrets ...string) *Signer {
	t.Helper()
	s, err := NewSignerFromSecrets(secrets...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The signature checked with crypto/ed25519 alone, from the key's text
// form: what a receiver in any language does with the standard's formats.
func TestEd25519SignatureVerifiesWithTheStandardLibrary(t *testing.T) {
	sk, pk := mustSigningKey(t)
	if !strings.HasPrefix(sk, "whsk_") || !strings.HasPrefix(pk, "whpk_") {
		t.Fatalf("keys %q… and %q, want whsk_ and whpk_", sk[:5], pk)
	}
	pub, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(pk, "whpk_"))
	if err != nil || len(pub) != ed25519.PublicKeySize {
		t.Fatalf("public key %q: %v, %d bytes", pk, err, len(pub))
	}
	ts := time.Unix(1700000000, 0)
	body := []byte(`{"a":"1.2.3"}`)
	header := mustSignerFromSecrets(t, sk).Sign("evt_1", ts, body)
	b64, ok := strings.CutPrefix(header, "v1a,")
	if !ok || strings.Contains(header, " ") {
		t.Fatalf("header %q, want one v1a signature", header)
	}
	sig, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(pub, []byte("evt_1.1700000000."+string(body)), sig) {
		t.Fatal("crypto/ed25519 refuses the signature")
	}
	if ed25519.Verify(pub, []byte("evt_1.1700000000."+string(body)+" "), sig) {
		t.Fatal("crypto/ed25519 accepts the signature over another body")
	}
}

func TestEd25519VerifyRoundTripAndRefusals(t *testing.T) {
	sk, pk := mustSigningKey(t)
	_, otherPK := mustSigningKey(t)
	now := time.Now()
	body := []byte(`{"x":1}`)
	h := headersFor("evt_1", now.Unix(), mustSignerFromSecrets(t, sk).Sign("evt_1", now, body))
	if err := Verify(pk, h, body); err != nil {
		t.Fatalf("Verify with the public key: %v", err)
	}
	if err := Verify(otherPK, h, body); !errors.Is(err, ErrNoMatchingSignature) {
		t.Fatalf("Verify with another public key = %v, want ErrNoMatchingSignature", err)
	}
	if err := Verify(pk, h, []byte(`{"x":2}`)); !errors.Is(err, ErrNoMatchingSignature) {
		t.Fatalf("Verify of a tampered body = %v, want ErrNoMatchingSignature", err)
	}
	secret, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(secret, h, body); !errors.Is(err, ErrInvalidHeaders) {
		t.Fatalf("Verify of a v1a-only header with an HMAC secret = %v, want ErrInvalidHeaders (no v1)", err)
	}
	if _, err := NewVerifier(sk); err == nil || strings.Contains(err.Error(), strings.TrimPrefix(sk, "whsk_")) {
		t.Fatalf("NewVerifier(signing key) = %v, want a refusal that does not echo the key", err)
	}
}

// While a webhook switches schemes or rotates, both keys sign: the HMAC
// receiver and the Ed25519 receiver each find theirs.
func TestMixedSignerSignsWithBoth(t *testing.T) {
	sk, pk := mustSigningKey(t)
	sk2, pk2 := mustSigningKey(t)
	secret, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	body := []byte(`{}`)
	sig := mustSignerFromSecrets(t, sk, secret).Sign("evt_1", now, body)
	if f := strings.Fields(sig); len(f) != 2 || !strings.HasPrefix(f[0], "v1a,") || !strings.HasPrefix(f[1], "v1,") {
		t.Fatalf("header %q, want v1a then v1", sig)
	}
	for _, key := range []string{pk, secret} {
		if err := Verify(key, headersFor("evt_1", now.Unix(), sig), body); err != nil {
			t.Fatalf("Verify with %.6s…: %v", key, err)
		}
	}
	rot := mustSignerFromSecrets(t, sk2, sk).Sign("evt_1", now, body)
	for _, key := range []string{pk, pk2} {
		if err := Verify(key, headersFor("evt_1", now.Unix(), rot), body); err != nil {
			t.Fatalf("Verify of a rotation with %.6s…: %v", key, err)
		}
	}
}

func TestSigningKeyForms(t *testing.T) {
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = 7
	priv := ed25519.NewKeyFromSeed(seed)
	fromSeed := mustSignerFromSecrets(t, "whsk_"+base64.StdEncoding.EncodeToString(seed))
	fromKey := mustSignerFromSecrets(t, "whsk_"+base64.StdEncoding.EncodeToString(priv))
	ts := time.Unix(1700000000, 0)
	if a, b := fromSeed.Sign("m", ts, nil), fromKey.Sign("m", ts, nil); a != b {
		t.Fatalf("seed signs %q, key signs %q", a, b)
	}
	bad := append([]byte(nil), priv...)
	bad[40] ^= 1
	for _, s := range []string{"whsk_", "whsk_!!", "whsk_" + base64.StdEncoding.EncodeToString(bad), "whsk_" + base64.StdEncoding.EncodeToString(seed[:16])} {
		if _, err := NewSignerFromSecrets(s); err == nil {
			t.Errorf("NewSignerFromSecrets(%q) accepted", s)
		}
	}
	for _, s := range []string{"whpk_", "whpk_!!", "whpk_" + base64.StdEncoding.EncodeToString(seed[:16])} {
		if _, err := NewVerifier(s); err == nil {
			t.Errorf("NewVerifier(%q) accepted", s)
		}
	}
}

func headersFor(id string, unix int64, sig string) map[string][]string {
	return map[string][]string{HeaderID: {id}, HeaderTimestamp: {strconv.FormatInt(unix, 10)}, HeaderSignature: {sig}}
}
