package client_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/client"
)

// restarter holds the current serve process of a test that kills it
// with SIGKILL and starts it again on the same port and data directory.
type restarter struct {
	addr string
	dir  string

	mu   sync.Mutex
	cur  *server
	errs []error
	wg   sync.WaitGroup
}

// killThenRestart kills the server now and starts it again after a pause,
// in the background: the client meets refused connections meanwhile.
func (r *restarter) killThenRestart() {
	r.mu.Lock()
	s := r.cur
	r.mu.Unlock()
	s.kill()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		time.Sleep(300 * time.Millisecond)
		s, err := start(r.dir, r.addr)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err != nil {
			r.errs = append(r.errs, err)
			return
		}
		r.cur = s
	}()
}

// A batch of 5,000 events goes in five chunks while serve is killed
// (SIGKILL) and restarted three times: before the second chunk is sent,
// while the third is in flight, and after the fourth was stored but before
// its answer was read. The retries of each chunk repeat its key, so in the
// end every event is stored exactly once and each result names it.
func TestServerRestartedMidBatch(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	first := startT(t, dir, "127.0.0.1:0")
	r := &restarter{addr: strings.TrimPrefix(first.URL, "http://"), dir: dir, cur: first}
	t.Cleanup(func() {
		r.wg.Wait()
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.cur != first {
			r.cur.kill()
		}
	})
	org, key := newOrg(t, first)

	// Each chunk's first attempt is where the server dies; the chunk is
	// told by its key's suffix ("/1" is the second chunk).
	var mu sync.Mutex
	done := map[string]bool{}
	firstAttempt := func(req *http.Request, chunk string) bool {
		mu.Lock()
		defer mu.Unlock()
		if done[chunk] || !strings.HasSuffix(req.Header.Get("Idempotency-Key"), chunk) {
			return false
		}
		done[chunk] = true
		return true
	}
	tr := &hookTransport{
		before: func(req *http.Request) {
			switch {
			case firstAttempt(req, "/1"):
				r.killThenRestart()
			case firstAttempt(req, "/2"):
				// Killed while it sends or commits the chunk: stored
				// or not, the retry finds out.
				go func() { time.Sleep(5 * time.Millisecond); r.killThenRestart() }()
			}
		},
		after: func(req *http.Request, resp *http.Response, err error) (*http.Response, error) {
			if err == nil && resp.StatusCode == 202 && firstAttempt(req, "/3") {
				// Stored, and the answer lost with the process.
				resp.Body.Close()
				r.killThenRestart()
				return nil, errors.New("test: the connection died with the server")
			}
			return resp, err
		},
	}
	c := client.New(first.URL, first.Token, client.WithHTTPClient(&http.Client{Transport: tr, Timeout: 20 * time.Second}),
		client.WithRetry(client.RetryPolicy{MaxAttempts: 100, MaxElapsed: time.Minute, BaseDelay: 20 * time.Millisecond, MaxDelay: 500 * time.Millisecond}))

	results, err := c.PublishBatch(context.Background(), statuses(org, "restart", 5000))
	r.wg.Wait()
	if len(r.errs) > 0 {
		t.Fatalf("restarting serve: %v", r.errs)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 3 {
		t.Fatalf("the server was killed %d times, want 3", len(done))
	}
	if len(results) != 5000 {
		t.Fatalf("%d results, want 5000", len(results))
	}
	r.mu.Lock()
	now := r.cur
	r.mu.Unlock()
	checkStored(t, now, org, key, results)
}

// hookTransport is http.DefaultTransport with a call before each request
// and one that may replace its outcome.
type hookTransport struct {
	before func(*http.Request)
	after  func(*http.Request, *http.Response, error) (*http.Response, error)
}

func (h *hookTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	h.before(req)
	resp, err := http.DefaultTransport.RoundTrip(req)
	return h.after(req, resp, err)
}
