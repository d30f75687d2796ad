package client_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests run the real service: the onetalk-webhooks binary, built once
// here, with its own SQLite file per server.
var (
	binary string
	// shared is a server for the tests (and the Example) that neither
	// stop nor restart it.
	shared *server
	// baseURL and adminToken are shared's, under the names the Example
	// shows.
	baseURL, adminToken string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "otw-client-")
	if err != nil {
		panic(err)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "onetalk-webhooks")
		out, err := exec.Command("go", "build", "-o", binary, "../cmd/onetalk-webhooks").CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "building the binary: %v\n%s", err, out)
			return 1
		}
		shared, err = start(filepath.Join(dir, "shared"), "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer shared.kill()
		baseURL, adminToken = shared.URL, shared.Token
		return m.Run()
	}()
	os.Exit(code)
}

// server is one running `serve` process.
type server struct {
	URL, Token string
	dir        string
	cmd        *exec.Cmd
	stderr     *syncBuffer
	exited     chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const testAdminToken = "ota_client-tests-admin-token"

// start runs `serve` on addr with its database in dir (made if need be)
// and waits for the line that gives its address. A restart passes the
// same dir and the address the first start got.
func start(dir, addr string) (*server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, "serve", "--addr", addr, "--db", "sqlite:"+filepath.Join(dir, "otw.db"),
		"--admin-token", testAdminToken, "--allow-private-targets")
	cmd.Env = append(os.Environ(), "OTW_ADMIN_TOKEN=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s := &server{Token: testAdminToken, dir: dir, cmd: cmd, stderr: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { cmd.Wait(); close(s.exited) }()
	deadline := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if _, rest, ok := strings.Cut(lines.Text(), " on http://"); ok {
			s.URL = "http://" + strings.Fields(rest)[0]
			break
		}
	}
	if s.URL == "" {
		s.kill()
		return nil, fmt.Errorf("serve printed no address; stderr:\n%s", s.stderr.String())
	}
	go io.Copy(io.Discard, stdout)
	return s, nil
}

// startT is start for one test: the server is killed when the test ends.
func startT(t *testing.T, dir, addr string) *server {
	t.Helper()
	s, err := start(dir, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			t.Logf("server stderr:\n%s", s.stderr.String())
		}
	})
	return s
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
}

// call calls the API with token; body, when not nil, is encoded as JSON.
// It is the tests' own way in, apart from the client under test.
func (s *server) call(t *testing.T, method, path, token string, body, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode > 299 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// setWebhook points org's webhook at url for every event type, so that
// each published event of org gets a delivery (which is how the tests
// count what was stored).
func (s *server) setWebhook(t *testing.T, org int64, key, url string) {
	t.Helper()
	s.call(t, "PUT", fmt.Sprintf("/v1/organizations/%d/webhook", org), key, map[string]any{
		"enabled": true, "url": url, "subscribedEvents": []string{"integration_message_status", "case_resolved"}}, nil)
}

// deliveries returns the delivery ID of each event of org, read in pages.
func (s *server) deliveries(t *testing.T, org int64, key string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for cursor := ""; ; {
		var page struct {
			Data []struct {
				ID      string `json:"id"`
				EventID string `json:"eventID"`
			} `json:"data"`
			NextCursor *string `json:"nextCursor"`
		}
		s.call(t, "GET", fmt.Sprintf("/v1/organizations/%d/deliveries?limit=250&cursor=%s", org, cursor), key, nil, &page)
		for _, d := range page.Data {
			if _, dup := out[d.EventID]; dup {
				t.Fatalf("event %s has two deliveries", d.EventID)
			}
			out[d.EventID] = d.ID
		}
		if page.NextCursor == nil {
			return out
		}
		cursor = *page.NextCursor
	}
}

// eventIDs returns the event ID of every delivery of org.
func (s *server) eventIDs(t *testing.T, org int64, key string) []string {
	t.Helper()
	var ids []string
	for id := range s.deliveries(t, org, key) {
		ids = append(ids, id)
	}
	return ids
}

// countingTransport counts the requests that reach the network.
type countingTransport struct {
	mu sync.Mutex
	n  int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (c *countingTransport) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
