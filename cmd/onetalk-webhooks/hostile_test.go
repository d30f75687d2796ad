package main

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startHostile runs a hostile receiver of kind for the test.
func startHostile(t *testing.T, kind hostileKind) *hostileReceiver {
	t.Helper()
	h, err := newHostileReceiver(kind)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

// attemptsOf returns a delivery's attempts as the API shows them.
func (s *server) attemptsOf(org int, key, id string) (d map[string]any, attempts []map[string]any) {
	s.t.Helper()
	d = s.mustDo(200, "GET", fmt.Sprintf("/v1/organizations/%d/deliveries/%s", org, id), key, nil)
	list, _ := d["attempts"].([]any)
	for _, a := range list {
		attempts = append(attempts, a.(map[string]any))
	}
	return d, attempts
}

// Whatever a receiver does, an attempt ends within the delivery timeout and
// is recorded with an error that says what came back; nothing is sent twice.
func TestHostileReceiverAttemptEnds(t *testing.T) {
	t.Parallel()
	const timeout = 2 * time.Second
	for _, c := range []struct {
		kind hostileKind
		says []string // the error mentions one of these (any case)
	}{
		{hostileUpgrade, []string{"101", "switching protocols"}},
		{hostileInfo, []string{"1xx", "100", "informational"}},
		{hostileSilent, []string{"no answer", "timeout", "timed out", "within"}},
		{hostileDrip, []string{"no answer", "timeout", "timed out", "within", "header"}},
		{hostileBigHeaders, []string{"header"}},
	} {
		t.Run(string(c.kind), func(t *testing.T) {
			t.Parallel()
			h := startHostile(t, c.kind)
			s := sqliteDB.start(t, t.TempDir(), "--delivery-timeout", timeout.String(), "--retry-schedule", "1h")
			key := s.createOrg(1111, h.URL)
			id := s.mustDo(202, "POST", "/v1/events", s.Token, messageStatus(1111, "t1", "read"))["deliveryID"].(string)

			// A hang detector, not a goal: the timeout and a margin for a busy machine.
			wait := timeout + 5*time.Second
			var d map[string]any
			var attempts []map[string]any
			for deadline := time.Now().Add(wait); len(attempts) == 0; time.Sleep(50 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the %s receiver: no attempt recorded %s after publishing (delivery timeout %s); the delivery is %v with %v attempts; %d request(s) reached the receiver",
						c.kind, wait, timeout, d["status"], d["attemptCount"], h.requests.Load())
				}
				d, attempts = s.attemptsOf(1111, key, id)
			}
			a := attempts[0]
			msg, _ := a["error"].(string)
			t.Logf("%s: attempt after %v ms, status code %v, error %q", c.kind, a["durationMs"], a["statusCode"], msg)
			if len(attempts) != 1 {
				t.Errorf("%d attempts recorded, want 1: %v", len(attempts), attempts)
			}
			if d["status"] == "succeeded" || msg == "" {
				t.Errorf("the %s receiver: delivery %v with attempt error %q; want a failed attempt that says what came back", c.kind, d["status"], msg)
			} else if !containsAny(msg, c.says) {
				t.Errorf("the %s receiver: the attempt's error %q does not say what came back (want one of %q)", c.kind, msg, c.says)
			}
			time.Sleep(200 * time.Millisecond) // room for a second request, were one sent
			if n := h.requests.Load(); n != 1 {
				t.Errorf("the receiver got %d requests, want 1", n)
			}
		})
	}
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(strings.ToLower(s), strings.ToLower(w)) {
			return true
		}
	}
	return false
}

// Five hostile tenants, each with 150 deliveries that hold a request for
// the whole delivery timeout (or for ever), cannot keep a healthy tenant
// waiting: each of its events, published one every 200 ms, arrives long
// before any hostile request would end and free a worker. In-flight limits
// are the defaults (256 in all, 64 per webhook).
func TestHostileTenantsDoNotStarveAHealthyOne(t *testing.T) {
	eachDB(t, func(t *testing.T, db database) {
		s := db.start(t, t.TempDir(), "--delivery-timeout", "10s", "--retry-schedule", "1h")
		var hostile []*hostileReceiver
		for i, kind := range hostileKinds {
			h := startHostile(t, kind)
			hostile = append(hostile, h)
			s.createOrg(2001+i, h.URL)
		}
		healthy := newReceiver(t, nil)
		s.createOrg(1111, healthy.URL)
		for i := range hostile {
			s.mustDo(202, "POST", "/v1/events/batch", s.Token, hostileBatch(2001+i, 150))
		}
		eventually(t, 5*time.Second, "requests to the hostile receivers", func() bool {
			for _, h := range hostile {
				if h.requests.Load() > 0 {
					return true
				}
			}
			return false
		})
		time.Sleep(time.Second) // the dispatcher takes what it will
		var held []string
		for _, h := range hostile {
			held = append(held, fmt.Sprintf("%s %d", h.kind, h.requests.Load()))
		}
		t.Logf("requests to the hostile receivers before the healthy tenant publishes: %s", strings.Join(held, ", "))

		// A hang detector, not a goal: 3 s, where the first hostile
		// requests hold their workers for 10 s.
		const bound = 3 * time.Second
		publishedAt := map[string]time.Time{}
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for i := range 15 {
			<-tick.C
			at := time.Now()
			ev := s.mustDo(202, "POST", "/v1/events", s.Token, messageStatus(1111, fmt.Sprint("healthy-", i), "read"))
			publishedAt[ev["eventID"].(string)] = at
		}
		last := time.Now()
		for time.Now().Before(last.Add(bound)) && len(countByID(healthy.requests())) < len(publishedAt) {
			time.Sleep(20 * time.Millisecond)
		}
		arrived := map[string]time.Time{}
		for _, r := range healthy.requests() {
			if id := r.Header.Get("webhook-id"); arrived[id].IsZero() {
				arrived[id] = r.At
			}
		}
		var worst time.Duration
		var late []string
		for id, at := range publishedAt {
			got, ok := arrived[id]
			switch {
			case !ok:
				late = append(late, fmt.Sprintf("%s not arrived after %s", id, time.Since(at).Round(time.Millisecond)))
			case got.Sub(at) > bound:
				late = append(late, fmt.Sprintf("%s after %s", id, got.Sub(at).Round(time.Millisecond)))
			}
			if ok {
				worst = max(worst, got.Sub(at))
			}
		}
		sort.Strings(late)
		t.Logf("healthy tenant: %d of %d events arrived, max publish → receipt %s", len(arrived), len(publishedAt), worst.Round(time.Millisecond))
		if len(late) > 0 {
			t.Errorf("%d of %d healthy events were held up by the hostile tenants (bound %s): %s", len(late), len(publishedAt), bound, strings.Join(late[:min(3, len(late))], "; "))
		}
	})
}

// SIGTERM ends serve within --shutdown-grace even while receivers hold
// requests open (a 101 upgrade among them).
func TestShutdownWithPinnedRequests(t *testing.T) {
	t.Parallel()
	s := sqliteDB.start(t, t.TempDir(), "--delivery-timeout", "30s", "--shutdown-grace", "3s", "--retry-schedule", "1h")
	var hostile []*hostileReceiver
	for i, kind := range []hostileKind{hostileUpgrade, hostileInfo, hostileSilent, hostileDrip} {
		h := startHostile(t, kind)
		hostile = append(hostile, h)
		s.createOrg(2001+i, h.URL)
		s.mustDo(202, "POST", "/v1/events/batch", s.Token, hostileBatch(2001+i, 3))
	}
	eventually(t, 5*time.Second, "every hostile receiver to hold its three requests", func() bool {
		for _, h := range hostile {
			if h.requests.Load() < 3 {
				return false
			}
		}
		return true
	})

	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// A hang detector: the grace, a second to write outcomes, and margin.
	const bound = 6 * time.Second
	select {
	case <-s.exited:
		t.Logf("serve exited %s after SIGTERM (--shutdown-grace 3s): %v", time.Since(start).Round(time.Millisecond), s.cmd.ProcessState)
	case <-time.After(bound):
		t.Fatalf("serve still running %s after SIGTERM with --shutdown-grace 3s and requests pinned by %d hostile receivers", bound, len(hostile))
	}
}

// dbProxy forwards TCP connections to a database until it is cut: then it
// refuses new connections and closes the open ones (refuse), or keeps every
// connection open and answers nothing (blackhole), as a database behind a
// partition does.
type dbProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	cut    string // "", "refuse" or "blackhole"
}

func startDBProxy(t *testing.T, target string) *dbProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dbProxy{ln: ln, target: target}
	t.Cleanup(func() { p.setCut("refuse") })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			cut := p.cut
			p.conns = append(p.conns, c)
			p.mu.Unlock()
			if cut != "" {
				go io.Copy(io.Discard, c) // blackholed: held, never answered
				continue
			}
			db, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, db)
			p.mu.Unlock()
			go p.pipe(db, c)
			go p.pipe(c, db)
		}
	}()
	return p
}

// pipe copies from src to dst until the proxy is cut; blackholed, it goes
// on reading src and drops what it reads. Either side's end closes both.
func (p *dbProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		p.mu.Lock()
		cut := p.cut
		p.mu.Unlock()
		if n > 0 && cut == "" {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *dbProxy) setCut(how string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = how
	if how == "refuse" {
		p.ln.Close()
		for _, c := range p.conns {
			c.Close()
		}
	}
}

// SIGTERM ends serve within --shutdown-grace while requests are pinned and
// PostgreSQL is gone: refusing connections, or holding them and answering
// nothing.
func TestShutdownWithTheDatabaseDown(t *testing.T) {
	requirePostgres(t)
	t.Parallel()
	for _, how := range []string{"refuse", "blackhole"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			args := postgresDB.args(t, dir)
			u, err := url.Parse(args[1])
			if err != nil {
				t.Fatal(err)
			}
			proxy := startDBProxy(t, u.Host)
			u.Host = proxy.ln.Addr().String()
			args[1] = u.String()
			s := startServer(t, dir, append(args, "--delivery-timeout", "30s", "--shutdown-grace", "3s", "--retry-schedule", "1h")...)
			h := startHostile(t, hostileSilent)
			s.createOrg(2001, h.URL)
			s.mustDo(202, "POST", "/v1/events/batch", s.Token, hostileBatch(2001, 3))
			eventually(t, 5*time.Second, "the hostile receiver to hold three requests", func() bool { return h.requests.Load() >= 3 })

			proxy.setCut(how)
			start := time.Now()
			if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			const bound = 6 * time.Second // a hang detector: the grace, a second, and margin
			select {
			case <-s.exited:
				t.Logf("serve exited %s after SIGTERM (--shutdown-grace 3s, database %s): %v", time.Since(start).Round(time.Millisecond), how, s.cmd.ProcessState)
			case <-time.After(bound):
				t.Fatalf("serve still running %s after SIGTERM with --shutdown-grace 3s, requests pinned and the database down (%s)", bound, how)
			}
		})
	}
}
