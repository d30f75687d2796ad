package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/webhook"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo="

// startListen runs `listen` in-process on a free port and returns its URL
// and what it prints; it stops with the test.
func startListen(t *testing.T, secret string) (url string, stdout, stderr *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"listen", "--addr", "127.0.0.1:0", "--secret", secret}, stdout, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("listen returned %v", err)
		}
	})
	addrLine := regexp.MustCompile(`listening on (http://\S+)`)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if m := addrLine.FindStringSubmatch(stdout.String()); m != nil {
			return m[1], stdout, stderr
		}
		select {
		case err := <-done:
			t.Fatalf("listen exited before listening: %v\n%s", err, stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("listen printed no address; stdout %q stderr %q", stdout, stderr)
	return
}

func runSend(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut syncBuffer
	err = run(context.Background(), append([]string{"send"}, args...), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestSendToListen(t *testing.T) {
	url, listenOut, _ := startListen(t, testSecret)
	for _, typ := range []string{event.TypeCaseResolved, event.TypeIntegrationMessageStatus} {
		out, errOut, err := runSend(t, "--url", url+"/hooks", "--event", typ, "--secret", testSecret, "--org", "4242")
		if err != nil {
			t.Fatalf("send %s: %v\nstdout %s\nstderr %s", typ, err, out, errOut)
		}
		if !strings.Contains(out, "204 No Content") {
			t.Errorf("send %s printed no 204 status line:\n%s", typ, out)
		}
		id := regexp.MustCompile(`webhook-id (evt_[0-9A-Z]{26})`).FindStringSubmatch(out)
		if id == nil {
			t.Fatalf("send %s printed no webhook-id:\n%s", typ, out)
		}
		// listen prints the type, the same webhook-id and the event indented.
		received := listenOut.String()
		if !strings.Contains(received, typ+" webhook-id "+id[1]+"\n{\n") {
			t.Errorf("listen did not print %s with webhook-id %s:\n%s", typ, id[1], received)
		}
	}
	if got := strings.Count(listenOut.String(), `  "organizationID": 4242`); got != 2 {
		t.Errorf("listen printed organizationID 4242 %d times, want 2:\n%s", got, listenOut)
	}
}

// The request send makes is the one the service makes: same headers, the
// example as event.Example gives it, a signature that verifies.
func TestSendSignsLikeTheService(t *testing.T) {
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		body, _ = io.ReadAll(r.Body)
		w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()

	out, _, err := runSend(t, "--url", srv.URL, "--event", event.TypeIntegrationMessageStatus)
	if err != nil {
		t.Fatalf("send: %v\n%s", err, out)
	}
	secret := regexp.MustCompile(`secret: (whsec_\S+)`).FindStringSubmatch(out)
	if secret == nil {
		t.Fatalf("send without --secret printed no secret:\n%s", out)
	}
	if err := webhook.Verify(secret[1], got.Header, body); err != nil {
		t.Errorf("the printed secret does not verify the request: %v", err)
	}
	// Without --org, the example keeps its own organizationID (1111).
	want, _ := event.Example(event.TypeIntegrationMessageStatus, 1111)
	if string(body) != string(want) {
		t.Errorf("body\n%s\nwant the example\n%s", body, want)
	}
	for h, want := range map[string]string{
		"Content-Type": "application/json",
		"User-Agent":   "onetalk-webhooks/" + otw.Version,
	} {
		if v := got.Header.Get(h); v != want {
			t.Errorf("%s = %q, want %q", h, v, want)
		}
	}
	if id := got.Header.Get(webhook.HeaderID); !regexp.MustCompile(`^evt_[0-9A-Z]{26}$`).MatchString(id) {
		t.Errorf("webhook-id = %q, want evt_ and a ULID", id)
	}
	if !strings.Contains(out, "200 OK\n{\"ok\":true}\n") {
		t.Errorf("send did not print the status line and the body:\n%s", out)
	}
}

// Through the real binary, for the exit code a script sees.
func TestSendExitsOneWhenNot2xx(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "database down", http.StatusInternalServerError)
	}))
	defer srv.Close()

	cmd := exec.Command(binary, "send", "--url", srv.URL, "--secret", testSecret)
	out, err := cmd.Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("send to a 500: err %v, want exit code 1", err)
	}
	if !strings.Contains(string(out), "500 Internal Server Error\ndatabase down\n") {
		t.Errorf("send printed no status line and body:\n%s", out)
	}
	if !strings.Contains(string(exit.Stderr), "500 Internal Server Error, not 2xx") {
		t.Errorf("stderr does not say why: %s", exit.Stderr)
	}
}

func TestListenRefusesUnsignedAndWronglySigned(t *testing.T) {
	url, listenOut, listenErr := startListen(t, testSecret)
	body, _ := event.Example(event.TypeCaseResolved, 1)

	resp, err := http.Post(url, "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned request: %d, want 401", resp.StatusCode)
	}

	other, _ := webhook.NewSecret()
	out, _, err := runSend(t, "--url", url, "--secret", other)
	if err == nil || !strings.Contains(out, "401 Unauthorized") {
		t.Errorf("send with another secret: err %v, want a 401:\n%s", err, out)
	}

	if strings.Contains(listenOut.String(), "webhook-id") {
		t.Errorf("listen printed a refused event:\n%s", listenOut)
	}
	if got := strings.Count(listenErr.String(), ": 401 webhook: "); got != 2 {
		t.Errorf("listen logged %d refusals, want 2:\n%s", got, listenErr)
	}
	if !strings.Contains(listenErr.String(), "missing signature headers") || !strings.Contains(listenErr.String(), "no matching signature") {
		t.Errorf("listen's log does not say why:\n%s", listenErr)
	}
}

func TestSendAndListenNameTheBadFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"send", "--event", "case_resolved"}, "--url is required"},
		{[]string{"send", "--url", "ftp://example.com"}, "--url"},
		{[]string{"send", "--url", "http://127.0.0.1:1", "--event", "case_opened"}, `--event "case_opened"`},
		{[]string{"send", "--url", "http://127.0.0.1:1", "--secret", "whsec_!!"}, "--secret"},
		{[]string{"send", "--url", "http://127.0.0.1:1", "--org", "-3"}, "--org"},
		{[]string{"listen", "--addr", "127.0.0.1:0", "--secret", ""}, "--secret is required"},
		{[]string{"listen", "--addr", "127.0.0.1:0", "--secret", "whsec_!!"}, "--secret"},
	} {
		t.Setenv(listenSecretEnv, "")
		err := run(context.Background(), c.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err %v, want one naming %s", c.args, err, c.want)
		}
	}
}

// send with an Ed25519 signing key prints the public key to verify with;
// listen given that key takes the request, and listen given an HMAC
// secret refuses it (it holds no v1 signature).
func TestSendEd25519ToListen(t *testing.T) {
	sk, err := webhook.NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	pk, err := webhook.PublicKey(sk)
	if err != nil {
		t.Fatal(err)
	}
	url, listenOut, _ := startListen(t, pk)
	out, errOut, err := runSend(t, "--url", url+"/hooks", "--secret", sk)
	if err != nil || !strings.Contains(out, "public key: "+pk+"\n") || !strings.Contains(out, "204 No Content") {
		t.Fatalf("send --secret whsk_…: %v\nstdout %s\nstderr %s", err, out, errOut)
	}
	if strings.Contains(out, sk) {
		t.Error("send printed the signing key")
	}
	if !strings.Contains(listenOut.String(), event.TypeCaseResolved+" webhook-id ") {
		t.Errorf("listen printed no event:\n%s", listenOut)
	}
	hmacURL, _, _ := startListen(t, testSecret)
	if _, _, err := runSend(t, "--url", hmacURL+"/hooks", "--secret", sk); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("listen --secret whsec_… given a v1a request: %v, want a 401", err)
	}
}
