package main

import (
	"debug/elf"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The container image holds one file that matters: the binary, built as
// the Dockerfile builds it (TestMain's build). It must be static (the image has no libc) and
// answer its own HEALTHCHECK: `healthcheck` exits 0 while serve is ready
// and 1 once it is gone, with no shell or curl around.
func TestStaticBinaryAndItsHealthcheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := binary // TestMain builds it with CGO_ENABLED=0, as the Dockerfile does
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary asks for a dynamic loader: it would not start on an empty base image")
		}
	}
	f.Close()

	// The image's settings, on a free port of loopback instead of 8080.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := append(os.Environ(), "OTW_ADDR="+addr, "OTW_DB=sqlite:"+filepath.Join(dir, "data", "onetalk-webhooks.db"), "OTW_ADMIN_TOKEN=")
	serve := exec.Command(bin, "serve")
	serve.Env = env
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer serve.Process.Kill()
	check := func() (string, error) {
		c := exec.Command(bin, "healthcheck")
		c.Env = env
		out, err := c.CombinedOutput()
		return string(out), err
	}
	var out string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if out, err = check(); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthcheck never passed: %v %s", err, out)
		}
	}
	if strings.TrimSpace(out) != "ready" {
		t.Fatalf("healthcheck printed %q", out)
	}
	serve.Process.Kill()
	serve.Wait()
	out, err = check()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(out, "not ready") {
		t.Fatalf("healthcheck with serve gone: %v %q; want exit 1 saying not ready", err, out)
	}
}

func TestReadyzURLReachesAWildcardOnLoopback(t *testing.T) {
	for addr, want := range map[string]string{
		"0.0.0.0:8080":     "http://127.0.0.1:8080/readyz",
		"[::]:8080":        "http://127.0.0.1:8080/readyz",
		":9000":            "http://127.0.0.1:9000/readyz",
		"10.0.0.5:8080":    "http://10.0.0.5:8080/readyz",
		"127.0.0.1:8080":   "http://127.0.0.1:8080/readyz",
		"hooks.local:8080": "http://hooks.local:8080/readyz",
	} {
		if got := readyzURL(addr); got != want {
			t.Errorf("readyzURL(%q) = %q, want %q", addr, got, want)
		}
	}
}
