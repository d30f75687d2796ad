package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every flag has an environment variable; a flag given on the command
// line wins over it; a bad value in either is refused naming it.
func TestConfigFromEnvironmentAndFlags(t *testing.T) {
	t.Setenv("OTW_DELIVERY_TIMEOUT", "3s")
	t.Setenv("OTW_RETRY_SCHEDULE", "1s,2s")
	t.Setenv("OTW_ALLOW_PRIVATE_TARGETS", "true")
	t.Setenv("OTW_PUBLIC_URL", "https://hooks.example.com")
	var cfg config
	if err := cfg.parse(cfg.flags("serve", &bytes.Buffer{}), []string{"--retry-schedule", "9s"}); err != nil {
		t.Fatal(err)
	}
	if cfg.deliveryTimeout != 3*time.Second || !cfg.allowPrivate {
		t.Errorf("environment not applied: timeout %s, allow private %v", cfg.deliveryTimeout, cfg.allowPrivate)
	}
	if cfg.publicURL != "https://hooks.example.com" {
		t.Errorf("public URL %q: OTW_PUBLIC_URL not applied", cfg.publicURL)
	}
	if cfg.retrySchedule != "9s" {
		t.Errorf("retry schedule %q: the flag must win over OTW_RETRY_SCHEDULE", cfg.retrySchedule)
	}

	t.Setenv("OTW_DELIVERY_TIMEOUT", "soon")
	var bad config
	err := bad.parse(bad.flags("serve", &bytes.Buffer{}), nil)
	if err == nil || !strings.Contains(err.Error(), "OTW_DELIVERY_TIMEOUT") {
		t.Errorf("a bad OTW_DELIVERY_TIMEOUT: %v, want an error naming it", err)
	}
}

func TestConfigRefusesBadValues(t *testing.T) {
	for _, args := range [][]string{
		{"--db", "mysql://x"},
		{"--delivery-timeout", "0s"},
		{"--max-in-flight", "0"},
		{"--shutdown-grace", "-1s"},
		{"--public-url", "hooks.example.com"},
		{"--public-url", "ftp://hooks.example.com"},
		{"extra-argument"},
		{"--ops-webhook-url", "https://ops.example.com/hooks"},
		{"--ops-webhook-secret", "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
		{"--ops-webhook-url", "https://ops.example.com/hooks", "--ops-webhook-secret", "not-a-secret"},
	} {
		var cfg config
		if err := cfg.parse(cfg.flags("serve", &bytes.Buffer{}), args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

// On PostgreSQL every node must share the admin token and the secret key:
// serve refuses to start without them, saying so.
func TestServeOnPostgresNeedsTheSharedSecrets(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--admin-token", "x"}, "--secret-key"},
		{[]string{"--secret-key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}, "--admin-token"},
	} {
		var out, errOut bytes.Buffer
		args := append([]string{"serve", "--db", "postgres://postgres@127.0.0.1:1/none"}, c.args...)
		err := run(context.Background(), args, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("serve %v: %v, want a refusal naming %s", c.args, err, c.want)
		}
	}
}

// migrate applies the migrations and exits; version prints the version.
func TestMigrateAndVersion(t *testing.T) {
	dir := t.TempDir()
	out, err := exec.Command(binary, "migrate", "--db", "sqlite:"+filepath.Join(dir, "m.db")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "migrations applied") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "m.db")); err != nil {
		t.Errorf("migrate made no database: %v", err)
	}
	out, err = exec.Command(binary, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "onetalk-webhooks ") {
		t.Errorf("version: %v %q", err, out)
	}
	cmd := exec.Command(binary, "frobnicate")
	if out, err := cmd.CombinedOutput(); err == nil || cmd.ProcessState.ExitCode() != 2 || !strings.Contains(string(out), "unknown command") {
		t.Errorf("an unknown command: exit %d, %q", cmd.ProcessState.ExitCode(), out)
	}
}
