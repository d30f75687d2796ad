package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the onetalk-webhooks binary the end-to-end tests run: the real
// process, with its real flags, database file and signals.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "otw-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "onetalk-webhooks")
	// Built as the container image builds it (CGO_ENABLED=0: static), so
	// the tests run the binary the image ships.
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building the binary: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is one running `serve` process.
type server struct {
	t      *testing.T
	cmd    *exec.Cmd
	URL    string
	Token  string
	stderr *syncBuffer
	exited chan struct{}
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

// startServer runs `serve` on a free port with the given flags (the
// database among them: see database.start) and waits for the line that
// gives its address. The admin token is read from
// the line printed at the first start, or from the file beside the
// database afterwards.
func startServer(t *testing.T, dir string, args ...string) *server {
	t.Helper()
	all := append([]string{"serve", "--addr", "127.0.0.1:0", "--allow-private-targets"}, args...)
	cmd := exec.Command(binary, all...)
	cmd.Env = append(os.Environ(), "OTW_ADMIN_TOKEN=") // the test decides
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, stderr: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-s.exited
		}
		if t.Failed() {
			t.Logf("server stderr:\n%s", s.stderr.String())
		}
	})
	lines := bufio.NewScanner(stdout)
	deadline := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for lines.Scan() {
		line := lines.Text()
		if _, rest, ok := strings.Cut(line, " on http://"); ok && s.URL == "" {
			s.URL = "http://" + strings.Fields(rest)[0]
		}
		if _, tok, ok := strings.Cut(line, "shown only now): "); ok {
			s.Token = tok
		}
		if s.URL != "" && (s.Token != "" || fileExists(filepath.Join(dir, "admin-token"))) {
			break
		}
	}
	if s.URL == "" {
		t.Fatalf("serve printed no address; stderr:\n%s", s.stderr.String())
	}
	if s.Token == "" {
		b, err := os.ReadFile(filepath.Join(dir, "admin-token"))
		if err != nil {
			t.Fatal(err)
		}
		s.Token = strings.TrimSpace(string(b))
	}
	go io.Copy(io.Discard, stdout)
	return s
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
}

// response is an API answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// do calls the API with token and an optional JSON body (a string or
// []byte is sent as is, anything else is encoded).
func (s *server) do(method, path, token string, body any) response {
	s.t.Helper()
	return s.doWith(method, path, token, body, nil)
}

// doWith is do with extra request headers.
func (s *server) doWith(method, path, token string, body any, header map[string]string) response {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, s.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// mustDo is do that fails the test unless the status is want.
func (s *server) mustDo(want int, method, path, token string, body any) map[string]any {
	s.t.Helper()
	r := s.do(method, path, token, body)
	if r.Status != want {
		s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	if len(r.Body) == 0 {
		return nil
	}
	return r.json(s.t)
}

// createOrg creates an organization with a webhook to url subscribed to
// every event type, and returns its API key.
func (s *server) createOrg(id int, url string) string {
	s.t.Helper()
	org := s.mustDo(201, "POST", "/v1/organizations", s.Token, map[string]any{"organizationID": id, "name": fmt.Sprint("Org ", id)})
	key := org["apiKey"].(string)
	if url != "" {
		s.mustDo(200, "PUT", fmt.Sprintf("/v1/organizations/%d/webhook", id), key, map[string]any{
			"enabled": true, "url": url, "subscribedEvents": []string{"integration_message_status", "case_resolved"}})
	}
	return key
}

// received is one request a receiver got.
type received struct {
	Header http.Header
	Body   []byte
	At     time.Time
}

// answerFunc decides a receiver's answer to its n-th request (from 1): the
// status code; it may set response headers on w.
type answerFunc func(n int, w http.ResponseWriter, r *http.Request) int

// receiver is a real HTTP receiver on 127.0.0.1 that records what arrives
// and answers what its answerFunc says.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	answer answerFunc
	signal chan struct{}
}

// setAnswer changes how the receiver answers from now on.
func (rc *receiver) setAnswer(a answerFunc) {
	rc.mu.Lock()
	rc.answer = a
	rc.mu.Unlock()
}

func newReceiver(t *testing.T, answer answerFunc) *receiver {
	rc := &receiver{answer: answer, signal: make(chan struct{}, 1)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{Header: r.Header.Clone(), Body: body, At: time.Now()})
		n := len(rc.got)
		answer := rc.answer
		rc.mu.Unlock()
		select {
		case rc.signal <- struct{}{}:
		default:
		}
		status := 200
		if answer != nil {
			r.Body = io.NopCloser(bytes.NewReader(body)) // the answer may read it again
			status = answer(n, w, r)
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, "answer %d to request %d", status, n)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// waitFor waits until cond holds for the receiver's requests.
func (rc *receiver) waitFor(t *testing.T, timeout time.Duration, what string, cond func([]received) bool) []received {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := rc.requests()
		if cond(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s did not happen (%d requests received)", timeout, what, len(got))
		}
		select {
		case <-rc.signal:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitForDistinct waits until n distinct webhook-ids have arrived, and
// returns how many times each arrived.
func (rc *receiver) waitForDistinct(t *testing.T, timeout time.Duration, n int) map[string]int {
	t.Helper()
	var count map[string]int
	rc.waitFor(t, timeout, fmt.Sprintf("%d distinct events", n), func(r []received) bool {
		count = countByID(r)
		return len(count) >= n
	})
	return count
}

// countByID counts the requests per webhook-id.
func countByID(r []received) map[string]int {
	count := make(map[string]int, len(r))
	for _, x := range r {
		count[x.Header.Get("webhook-id")]++
	}
	return count
}

// duplicates is how many requests repeated an earlier webhook-id.
func duplicates(count map[string]int) int {
	n := 0
	for _, c := range count {
		n += c - 1
	}
	return n
}

// eventually polls f until it returns true or the time is up.
func eventually(t *testing.T, timeout time.Duration, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !f(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, what)
		}
	}
}
