package webhook

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

func TestNewSecret(t *testing.T) {
	a, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("two secrets are equal: %s", a)
	}
	b64, ok := strings.CutPrefix(a, "whsec_")
	if !ok {
		t.Fatalf("secret %q lacks whsec_", a)
	}
	// Standard, padded base64 of 32 bytes: 44 characters ending in one '='.
	if len(b64) != 44 || !strings.HasSuffix(b64, "=") {
		t.Fatalf("secret %q is not padded base64 of 32 bytes", a)
	}
	key, err := DecodeSecret(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != 32 {
		t.Fatalf("decoded key has %d bytes, want 32", len(key))
	}
}

func TestDecodeSecret(t *testing.T) {
	want := []byte("0123456789abcdef0123456789abcdef")
	b64 := base64.StdEncoding.EncodeToString(want)
	for _, s := range []string{"whsec_" + b64, b64} {
		got, err := DecodeSecret(s)
		if err != nil {
			t.Fatalf("DecodeSecret(%q): %v", s, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("DecodeSecret(%q) = %q, want %q", s, got, want)
		}
	}
	for _, s := range []string{"", "whsec_", "abc", "whsec_not base64!", "whsec_" + base64.RawStdEncoding.EncodeToString(want)} {
		if _, err := DecodeSecret(s); err == nil {
			t.Errorf("DecodeSecret(%q) succeeded, want an error", s)
		} else if !strings.Contains(err.Error(), "a secret starts with whsec_ followed by base64, as GET /v1/organizations/{org}/webhook/secret returns it") {
			t.Errorf("DecodeSecret(%q): %q does not say what a secret looks like", s, err)
		} else if strings.Contains(err.Error(), strings.TrimPrefix(s, "whsec_")) && s != "" && s != "whsec_" {
			t.Errorf("DecodeSecret(%q) error %q repeats the secret", s, err)
		}
	}
}
