package ui_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/api"
	"github.com/onetalk/onetalk-webhooks/internal/delivery"
	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/internal/netguard"
	"github.com/onetalk/onetalk-webhooks/internal/seal"
	"github.com/onetalk/onetalk-webhooks/internal/service"
	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/sqlite"
	"github.com/onetalk/onetalk-webhooks/internal/ui"
	"github.com/onetalk/onetalk-webhooks/internal/web"
)

// env is the service as `serve` wires it: a SQLite file, one Service,
// the API and the UI over it on one server, and a running dispatcher whose
// client may reach 127.0.0.1 (as with --allow-private-targets). The API is
// there for the tests to set up and check what the pages do, as the
// platform would.
type env struct {
	t     *testing.T
	URL   string
	Admin string
	// node starts another node of the same service (the same store and
	// keys, no dispatcher) with cfg changed by edit, and returns it.
	node func(edit func(*ui.Config)) *httptest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvOn(t, func(s store.Store) store.Store { return s })
}

// newEnvOn is newEnv with the SQLite store seen through wrap, so that a
// test can make one of its methods fail.
func newEnvOn(t *testing.T, wrap func(store.Store) store.Store) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "otw.db"))
	if err != nil {
		t.Fatal(err)
	}
	st := wrap(db)
	key := make([]byte, seal.KeySize)
	_, _ = rand.Read(key)
	box, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	admin := "ota_" + strings.Repeat("a", 20) + time.Now().Format("150405.000000")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	guard := &netguard.Guard{AllowPrivate: true}
	disp := delivery.New(delivery.Config{
		Store:         st,
		OpenSecret:    box.Open,
		Client:        delivery.NewClient(guard.DialContext),
		Schedule:      []time.Duration{time.Hour},
		Timeout:       5 * time.Second,
		PollInterval:  100 * time.Millisecond,
		ShutdownGrace: time.Second,
		Logger:        log,
	})
	mux := http.NewServeMux()
	// One Service for the API and the UI, and one count of failed
	// sign-ins, as serve wires them.
	svc := service.New(service.Config{Store: st, Box: box, AdminTokenHash: service.HashToken(admin),
		AllowPrivate: true, Logger: log})
	failures := &web.FailureLimiter{}
	apiServer := api.New(api.Config{Service: svc, Failures: failures, Logger: log})
	apiServer.Register(mux)
	cfg := ui.Config{Service: svc, SessionKey: ui.SessionKeyFrom(key), Failures: failures, Logger: log}
	u, err := ui.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	u.Register(mux)
	srv := httptest.NewServer(mux)
	var nodes []*httptest.Server
	node := func(edit func(*ui.Config)) *httptest.Server {
		t.Helper()
		c := cfg
		edit(&c)
		u, err := ui.New(c)
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		apiServer.Register(mux)
		u.Register(mux)
		n := httptest.NewUnstartedServer(mux)
		nodes = append(nodes, n)
		return n
	}

	dctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = disp.Run(dctx); close(done) }()
	t.Cleanup(func() {
		srv.Close()
		for _, n := range nodes {
			n.Close()
		}
		stop()
		<-done
		db.Close()
	})
	return &env{t: t, URL: srv.URL, Admin: admin, node: node}
}

// call makes an API request with a bearer token and decodes the JSON answer
// into out (when not nil); it returns the status.
func (e *env) call(method, path, token string, body any, out any) int {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		if raw, ok := body.(json.RawMessage); ok {
			b = raw
		}
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			e.t.Fatalf("%s %s: decoding %d answer: %v", method, path, res.StatusCode, err)
		}
	}
	return res.StatusCode
}

// createOrg creates an organization through the API and returns its key.
func (e *env) createOrg(id int64, name string) string {
	e.t.Helper()
	var out struct{ APIKey string }
	if st := e.call("POST", "/v1/organizations", e.Admin, map[string]any{"organizationID": id, "name": name}, &out); st != 201 {
		e.t.Fatalf("creating organization %d: %d", id, st)
	}
	return out.APIKey
}

// publish publishes the example event of the type for org, as the
// platform does, and returns the delivery ID ("" when none was made).
func (e *env) publish(eventType string, org int64) string {
	e.t.Helper()
	body, err := event.Example(eventType, org)
	if err != nil {
		e.t.Fatal(err)
	}
	var out struct{ DeliveryID *string }
	if st := e.call("POST", "/v1/events", e.Admin, json.RawMessage(body), &out); st != 202 {
		e.t.Fatalf("publishing: %d", st)
	}
	if out.DeliveryID == nil {
		return ""
	}
	return *out.DeliveryID
}

// receiver is a webhook endpoint on 127.0.0.1 that answers 200 and keeps
// every body it got.
type receiver struct {
	URL    string
	mu     sync.Mutex
	bodies [][]byte
	got    chan struct{}
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{got: make(chan struct{}, 100)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, b)
		r.mu.Unlock()
		io.WriteString(w, `{"ok":true}`)
		r.got <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL + "/onetalk/webhook"
	return r
}

// wait waits for the next request.
func (r *receiver) wait(t *testing.T) {
	t.Helper()
	select {
	case <-r.got:
	case <-time.After(10 * time.Second):
		t.Fatal("the receiver got no request within 10 s")
	}
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

// browser is a plain HTTP client acting as a browser without JavaScript:
// it keeps the session cookie and does not follow redirects, so each test
// sees every answer.
type browser struct {
	t      *testing.T
	base   string
	cookie *http.Cookie
	// client, when set, makes the requests (a TLS server's own).
	client *http.Client
}

func (e *env) browser() *browser { return &browser{t: e.t, base: e.URL} }

// page is one answer.
type page struct {
	Status int
	Header http.Header
	Body   string
}

func (b *browser) do(method, path string, form url.Values, header ...string) page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if b.cookie != nil {
		req.AddCookie(b.cookie)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if b.client != nil {
		client.Transport = b.client.Transport
	}
	res, err := client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	for _, c := range res.Cookies() {
		if c.Name == "otw_session" {
			if c.MaxAge < 0 {
				b.cookie = nil
			} else {
				b.cookie = c
			}
		}
	}
	return page{Status: res.StatusCode, Header: res.Header, Body: string(raw)}
}

func (b *browser) get(path string) page { return b.do("GET", path, nil) }

func (b *browser) post(path string, form url.Values) page { return b.do("POST", path, form) }

// login signs in and fails the test unless it worked.
func (b *browser) login(token string) {
	b.t.Helper()
	p := b.post("/login", url.Values{"token": {token}})
	if p.Status != http.StatusSeeOther || b.cookie == nil {
		b.t.Fatalf("signing in: %d, cookie %v", p.Status, b.cookie)
	}
}

// createKey makes another API key of org and returns it.
func (e *env) createKey(org int64) string {
	e.t.Helper()
	var out struct{ APIKey string }
	if st := e.call("POST", "/v1/organizations/"+strconv.FormatInt(org, 10)+"/api-keys", e.Admin, nil, &out); st != 201 {
		e.t.Fatalf("creating a key of organization %d: %d", org, st)
	}
	return out.APIKey
}
