package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serveMustRefuse runs serve with args and returns what it printed,
// failing the test unless it exits non-zero on its own.
func serveMustRefuse(t *testing.T, args ...string) string {
	t.Helper()
	// The bound only keeps a serve that wrongly starts from hanging the test.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "OTW_ADMIN_TOKEN=", "OTW_SECRET_KEY=")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("serve did not refuse to start; it printed:\n%s", out)
	}
	if err == nil {
		t.Fatalf("serve exited 0; it printed:\n%s", out)
	}
	return string(out)
}

func newKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// A node whose secret key is not the one the stored signing secrets were
// sealed with must not serve: it would answer 500 for every secret and
// fail every attempt.
func TestServeRefusesASecretKeyThatCannotOpenTheStoredSecrets(t *testing.T) {
	eachDB(t, func(t *testing.T, db database) {
		dir := t.TempDir()
		s := db.start(t, dir)
		s.createOrg(1111, "http://127.0.0.1:9/")
		s.kill()

		out := serveMustRefuse(t, append(db.args(t, dir), "--secret-key", newKey())...)
		for _, want := range []string{"does not open the signing secrets", "--secret-key (OTW_SECRET_KEY)"} {
			if !strings.Contains(out, want) {
				t.Errorf("serve's refusal does not say %q:\n%s", want, out)
			}
		}
		// The right key still serves, and opens the secret.
		s = db.start(t, dir)
		s.mustDo(200, "GET", "/v1/organizations/1111/webhook/secret", s.Token, nil)
	})
}

// On SQLite without --secret-key the key is the file beside the database:
// the refusal names the file, and the setting that overrides it.
func TestServeRefusesAReplacedSecretKeyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := sqliteDB.start(t, dir)
	s.createOrg(1111, "http://127.0.0.1:9/")
	s.kill()
	keyFile := filepath.Join(dir, "secret-key")
	if err := os.WriteFile(keyFile, []byte(newKey()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := serveMustRefuse(t, sqliteDB.args(t, dir)...)
	for _, want := range []string{keyFile, "--secret-key (OTW_SECRET_KEY)"} {
		if !strings.Contains(out, want) {
			t.Errorf("serve's refusal does not say %q:\n%s", want, out)
		}
	}
}

// A new database takes any key: there is nothing sealed yet to open.
func TestServeStartsWithAnyKeyOnAnEmptyDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := sqliteDB.start(t, dir)
	s.createOrg(1111, "") // an organization without a webhook seals nothing
	s.kill()
	sqliteDB.start(t, dir, "--secret-key", newKey())
}

// Another admin token than the saved one is allowed (it is how the token
// is changed), but serve says that the saved one is now refused.
func TestServeWarnsWhenTheAdminTokenIsNotTheSavedOne(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sqliteDB.start(t, dir).kill()
	s := sqliteDB.start(t, dir, "--admin-token", "ota_another")
	s.mustDo(201, "POST", "/v1/organizations", "ota_another", map[string]any{"organizationID": 1111, "name": "Acme"})
	if !strings.Contains(s.stderr.String(), "is not the one saved in the file") {
		t.Fatalf("serve did not warn about the saved admin token; stderr:\n%s", s.stderr.String())
	}
}
