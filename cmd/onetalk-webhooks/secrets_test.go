package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/event"
)

// secretRun is what one full run of the service handled: every secret that
// passed through it, and everything it wrote to stderr.
type secretRun struct {
	dir       string
	secretKey string   // OTW_SECRET_KEY
	admin     string   // the admin token
	apiKeys   []string // otk_…
	whsecs    []string // whsec_…, every one the API gave
	wrong     []string // tokens tried that were not valid
	stderr    string
}

// runWithSecrets runs the service on SQLite through everything that
// touches a secret: organizations and API keys, webhook saves, the secret
// read and rotated, events published and delivered (one attempt failing),
// deliveries read, wrong tokens until the address is rate limited, and a
// private URL refused, first when saved and then when dialled by a server
// that no longer allows private targets.
func runWithSecrets(t *testing.T) *secretRun {
	key := make([]byte, 32)
	rand.Read(key)
	run := &secretRun{dir: t.TempDir(), secretKey: base64.StdEncoding.EncodeToString(key)}
	t.Setenv("OTW_SECRET_KEY", run.secretKey)

	s := sqliteDB.start(t, run.dir, "--retry-schedule", "100ms,100ms")
	run.admin = s.Token
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
		if n == 1 {
			return 500
		}
		return 200
	})
	for _, id := range []int{501, 502} {
		run.apiKeys = append(run.apiKeys, s.createOrg(id, fmt.Sprintf("%s/hook/%d", rc.URL, id)))
		org := fmt.Sprintf("/v1/organizations/%d", id)
		extra := s.mustDo(201, "POST", org+"/api-keys", s.Token, nil)
		run.apiKeys = append(run.apiKeys, extra["apiKey"].(string))
		s.mustDo(204, "DELETE", org+"/api-keys/"+extra["id"].(string), s.Token, nil)
		run.whsecs = append(run.whsecs, s.mustDo(200, "GET", org+"/webhook/secret", run.apiKeys[len(run.apiKeys)-2], nil)["secret"].(string))
	}
	own := run.apiKeys[0]
	run.whsecs = append(run.whsecs, s.mustDo(200, "POST", "/v1/organizations/501/webhook/secret/rotate", own, nil)["secret"].(string))
	for _, typ := range []string{event.TypeIntegrationMessageStatus, event.TypeCaseResolved} {
		body, err := event.Example(typ, 501)
		if err != nil {
			t.Fatal(err)
		}
		s.mustDo(202, "POST", "/v1/events", s.Token, body)
	}
	s.mustDo(202, "POST", "/v1/organizations/502/webhook/test", run.apiKeys[2], map[string]string{"eventType": "case_resolved"})
	rc.waitFor(t, 10*time.Second, "three deliveries, one retried", func(r []received) bool { return len(r) >= 4 })
	list := s.mustDo(200, "GET", "/v1/organizations/501/deliveries", own, nil)
	for _, d := range list["data"].([]any) {
		s.mustDo(200, "GET", "/v1/organizations/501/deliveries/"+d.(map[string]any)["id"].(string), own, nil)
	}

	// A private URL is refused when saved by a server that forbids them.
	// The flag given last wins over the harness's --allow-private-targets.
	s.cmd.Process.Signal(syscall.SIGTERM)
	<-s.exited
	run.stderr = s.stderr.String()
	s = sqliteDB.start(t, run.dir, "--retry-schedule", "100ms", "--allow-private-targets=false")
	if r := s.do("PUT", "/v1/organizations/501/webhook", own, map[string]any{
		"enabled": true, "url": "http://169.254.169.254/latest/meta-data/", "subscribedEvents": []string{"case_resolved"}}); r.Status != 422 {
		t.Errorf("saving a link-local URL: status %d, want 422: %s", r.Status, r.Body)
	}
	// And the saved 127.0.0.1 URL is refused when dialled: the attempt
	// says so.
	s.mustDo(202, "POST", "/v1/organizations/501/webhook/test", own, map[string]string{"eventType": "case_resolved"})
	eventually(t, 10*time.Second, "a refused attempt recorded", func() bool {
		list := s.mustDo(200, "GET", "/v1/organizations/501/deliveries?status=failed", own, nil)
		for _, d := range list["data"].([]any) {
			if e := d.(map[string]any)["lastError"].(string); strings.Contains(e, "127.0.0.1") {
				return true
			}
		}
		return false
	})

	// Wrong credentials, from an address of their own: the first
	// web.FailureBurst are answered 401, then 429 with Retry-After.
	attacker := clientFrom("127.0.0.77")
	run.wrong = []string{"otk_" + randomHex(20), "ota_" + randomHex(16), "wrong-admin-" + randomHex(8), run.apiKeys[1]} // the last: revoked
	for i := range 20 {
		tok := run.wrong[i%len(run.wrong)]
		if r := s.call(attacker, "GET", "/v1/organizations/501/webhook", tok, ""); r.Status != 401 {
			t.Fatalf("wrong token %d: status %d, want 401: %s", i, r.Status, r.Body)
		}
	}
	r := s.call(attacker, "GET", "/v1/organizations/501/webhook", run.wrong[0], "")
	if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); r.Status != 429 || err != nil || secs < 1 || secs > 60 {
		t.Errorf("the 21st wrong token: status %d, Retry-After %q; want 429 and 1 to 60 s: %s", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	if r := s.call(attacker, "GET", "/v1/organizations/501/webhook", own, ""); r.Status != 429 {
		t.Errorf("a valid key from the blocked address: status %d, want 429", r.Status)
	}
	s.mustDo(200, "GET", "/v1/organizations/501/webhook", own, nil) // 127.0.0.1 is not blocked
	// The sign-in form takes tokens too.
	form := url.Values{"token": {"otk_" + randomHex(20)}}
	run.wrong = append(run.wrong, form.Get("token"))
	if resp, err := attacker.PostForm(s.URL+"/login", form); err == nil {
		resp.Body.Close()
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	<-s.exited
	run.stderr += s.stderr.String()
	return run
}

// No secret ever reaches a log line: the whole stderr of a run holds none
// of the admin token, the API keys, the signing secrets (nor their key
// bytes), the secret key, nor the wrong tokens tried.
func TestLogsHoldNoSecret(t *testing.T) {
	run := runWithSecrets(t)
	if !strings.Contains(run.stderr, "level=") && !strings.Contains(run.stderr, `"level"`) {
		t.Fatalf("the run logged nothing, so the test shows nothing:\n%s", run.stderr)
	}
	for name, values := range run.secrets() {
		for _, v := range values {
			if strings.Contains(run.stderr, v) {
				t.Errorf("stderr holds %s %q:\n%s", name, v, run.stderr)
			}
		}
	}
}

// secrets names each kind of secret the run saw, and its spellings in
// text: each whole, and a signing secret's key also in base64 alone.
func (run *secretRun) secrets() map[string][]string {
	keys := []string{}
	for _, w := range run.whsecs {
		keys = append(keys, strings.TrimPrefix(w, "whsec_"))
	}
	return map[string][]string{
		"the admin token":     {run.admin},
		"an API key":          run.apiKeys,
		"a signing secret":    run.whsecs,
		"a signing key":       keys,
		"the secret key":      {run.secretKey},
		"a wrong token tried": run.wrong,
	}
}

// The SQLite file, and its write-ahead log, hold no signing secret in any
// spelling, not even its raw key bytes, nor any API key, admin token or
// the secret key that encrypts them.
func TestDatabaseFileHoldsNoSecretInClear(t *testing.T) {
	run := runWithSecrets(t)
	var raw []byte
	for _, name := range []string{"otw.db", "otw.db-wal"} {
		b, err := os.ReadFile(filepath.Join(run.dir, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		raw = append(raw, b...)
	}
	if len(raw) < 4096 || !bytes.Contains(raw, []byte("integration_message_status")) {
		t.Fatalf("the database files (%d bytes) do not hold the run's data: the test would show nothing", len(raw))
	}
	for name, values := range run.secrets() {
		for _, v := range values {
			if bytes.Contains(raw, []byte(v)) {
				t.Errorf("the database holds %s %q in clear", name, v)
			}
		}
	}
	for _, w := range run.whsecs {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(w, "whsec_"))
		if err != nil || len(key) < 24 {
			t.Fatalf("signing secret %q does not decode to a key: %v", w, err)
		}
		if bytes.Contains(raw, key) {
			t.Errorf("the database holds the key bytes of %q", w)
		}
	}
}
