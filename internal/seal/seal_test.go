package seal

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpenRoundTripAndWrongKey(t *testing.T) {
	k1, k2 := bytes.Repeat([]byte{1}, KeySize), bytes.Repeat([]byte{2}, KeySize)
	b1, _ := New(k1)
	b2, _ := New(k2)
	secret := []byte("whsec_abcdefghijklmnopqrstuvwxyz0123456789ABCD")
	sealed := b1.Seal(secret)
	if bytes.Contains(sealed, secret) {
		t.Fatal("sealed bytes contain the secret in clear")
	}
	got, err := b1.Open(sealed)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := b2.Open(sealed); err == nil {
		t.Fatal("another key opened the secret")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := b1.Open(sealed); err == nil {
		t.Fatal("a changed ciphertext opened")
	}
	if bytes.Equal(b1.Seal(secret), b1.Seal(secret)) {
		t.Fatal("two seals of the same secret are equal: the nonce is not random")
	}
}

func TestKeyFileCreatedOnceWithMode0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret-key")
	k1, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", st.Mode().Perm(), err)
	}
	k2, err := LoadOrCreateKeyFile(path)
	if err != nil || !bytes.Equal(k1, k2) || len(k1) != KeySize {
		t.Fatalf("second load gave another key or failed: %v", err)
	}
}

func TestBadKeysRefused(t *testing.T) {
	for _, s := range []string{"", "not base64!", "c2hvcnQ="} {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) accepted", s)
		}
	}
	if _, err := New(make([]byte, 16)); err == nil {
		t.Error("New accepted a 16-byte key")
	}
}
