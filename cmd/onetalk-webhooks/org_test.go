package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runOrgCreate runs `org create` against s with args, reading the admin token
// where serve saved it, and returns its stdout, its stderr and its error.
func runOrgCreate(t *testing.T, s *server, dir string, args ...string) (string, string, error) {
	t.Helper()
	all := append([]string{"org", "create", "--addr", s.URL, "--db", "sqlite:" + filepath.Join(dir, "otw.db")}, args...)
	cmd := exec.Command(binary, all...)
	cmd.Env = append(os.Environ(), "OTW_ADMIN_TOKEN=", "OTW_ADDR=", "OTW_DB=")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// With --env, org create prints the API key and the signing secret as
// shell lines, and they are the organization's: the key opens its routes,
// the secret is its webhook's.
func TestOrgCreatePrintsTheKeyAndSecretForTheShell(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := sqliteDB.start(t, dir)
	out, errOut, err := runOrgCreate(t, s, dir, "--id", "1111", "--name", "Acme", "--webhook-url", "http://127.0.0.1:9000/", "--env")
	if err != nil {
		t.Fatalf("org create: %v\n%s", err, errOut)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, value, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok || !strings.HasPrefix(line, "export ") {
			t.Fatalf("org create --env printed %q, not an export line", line)
		}
		vars[name] = strings.Trim(value, "'")
	}
	w := s.mustDo(200, "GET", "/v1/organizations/1111/webhook", vars["KEY"], nil)
	if w["url"] != "http://127.0.0.1:9000/" || w["enabled"] != true || len(w["subscribedEvents"].([]any)) != 2 {
		t.Fatalf("the webhook org create saved: %v", w)
	}
	secret := s.mustDo(200, "GET", "/v1/organizations/1111/webhook/secret", vars["KEY"], nil)["secret"]
	if vars["SECRET"] == "" || vars["SECRET"] != secret {
		t.Fatalf("org create printed SECRET %q; the webhook's secret is %q", vars["SECRET"], secret)
	}
}

// A refusal exits non-zero with the service's own reason; the key of an
// organization created before the webhook was refused is still printed,
// since it is shown only once.
func TestOrgCreateSaysWhatTheServiceRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := sqliteDB.start(t, dir)
	if _, errOut, err := runOrgCreate(t, s, dir, "--id", "7", "--name", "A"); err != nil {
		t.Fatalf("org create: %v\n%s", err, errOut)
	}
	_, errOut, err := runOrgCreate(t, s, dir, "--id", "7", "--name", "A")
	if err == nil || !strings.Contains(errOut, "organization 7 already exists") {
		t.Fatalf("creating organization 7 twice: %v, stderr %q", err, errOut)
	}
	out, errOut, err := runOrgCreate(t, s, dir, "--id", "8", "--name", "B", "--webhook-url", "ftp://example.com/")
	if err == nil || !strings.Contains(errOut, "was created") || !strings.Contains(errOut, `"field":"url"`) || !strings.Contains(out, "otk_") {
		t.Fatalf("a refused webhook URL: %v, stdout %q, stderr %q", err, out, errOut)
	}
}
